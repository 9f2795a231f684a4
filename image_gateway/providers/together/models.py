"""Together AI's FLUX image models and what each accepts.

Sources: Together's OpenAPI for `POST /images/generations` (as vendored in tryAGI/Together
`src/libs/Together/openapi.yaml`, 2026-04-29) and together-py `types/image_generate_params.py`:
body `model`, `prompt` (both required), `steps` (default 20), `image_url` ("URL of an image to
use for image models that support it"), `seed`, `n` (default 1), `height`, `width` (default
1024), `negative_prompt`, `response_format` (`base64` | `url`), `guidance_scale` (default 3.5),
`output_format` (`jpeg` default | `png`), `image_loras` [{path, scale}], `reference_images`
[URLs], `disable_safety_checker`. Its model enum names `black-forest-labs/FLUX.1-schnell-Free`,
`black-forest-labs/FLUX.1-schnell` and `black-forest-labs/FLUX.1.1-pro` "or any string".

[UNVERIFIED], made tolerant:
- the other ids (FLUX.1 dev and pro, Kontext pro/max/dev) follow the pattern of the three above
  (REFERENCE-MORE §8: "FLUX ids like `black-forest-labs/FLUX.1-schnell` [UNVERIFIED list]"); any
  other `black-forest-labs/FLUX…` id is passed through (`model`), validated as FLUX.1 [dev] or,
  with "kontext" in its name, as Kontext;
- limits: sides 64-1792 px (no source gives Together's; a size outside is refused here, and a
  size inside that Together refuses comes back as its 400 naming the field, unpaid); `n` up to
  4 in one call (more are fanned out); `steps` 1-12 for schnell, 1-50 otherwise;
- Kontext takes the image to edit as `image_url`; the gateway sends the uploaded bytes as a
  `data:` URI there (whether Together reads one is not documented: a refusal is its 400).

Not offered (a 400 naming the field): `negative_prompt` (FLUX has none: Together's field is for
its older diffusion models), `image_loras` (LoRA models only), `reference_images` (URLs Together
would fetch; edits send the input image as `image_url`), `quality`, `style`, `background`,
masks. `output_format` jpeg (Together's default) or png.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

MIN_SIDE, MAX_SIDE = 64, 1792  # [UNVERIFIED] (module docstring)
MULTIPLE = 16  # an aspect ratio's width and height are rounded to this (FLUX's latent grid)
IMAGES_PER_CALL = 4  # [UNVERIFIED] (module docstring)
_SIZE_RULE = (
    f"any WxH with sides {MIN_SIDE}-{MAX_SIDE} px (sent as width and height; Together's default "
    "1024x1024), or aspect_ratio (about 1 megapixel, sides multiples of 16)"
)
PASSTHROUGH = re.compile(r"^black-forest-labs/FLUX[\w.\-]*$", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class TogetherModel(ModelSpec):
    """A Together image model: `family` decides its fields, `max_steps` its `steps` range."""

    family: Literal["schnell", "dev", "pro", "kontext"]
    max_steps: int = 50


_SCHNELL = TogetherModel(
    id="black-forest-labs/FLUX.1-schnell",
    description="FLUX.1 [schnell] on Together (up to 4 images a call)",
    size_rule=_SIZE_RULE,
    aspect_ratios=True,
    images_per_call=IMAGES_PER_CALL,
    seed=True,
    output_formats=("jpeg", "png"),
    default_output_format="jpeg",
    default_size="1024x1024",
    params=("steps", "disable_safety_checker"),
    family="schnell",
    max_steps=12,
)
_DEV = replace(
    _SCHNELL,
    id="black-forest-labs/FLUX.1-dev",
    description="FLUX.1 [dev] on Together (up to 4 images a call; id [UNVERIFIED])",
    params=("steps", "guidance_scale", "disable_safety_checker"),
    family="dev",
    max_steps=50,
)
_PRO11 = replace(
    _SCHNELL,
    id="black-forest-labs/FLUX.1.1-pro",
    description="FLUX1.1 [pro] on Together (up to 4 images a call)",
    params=("steps", "disable_safety_checker"),
    family="pro",
    max_steps=50,
)
_KONTEXT = replace(
    _DEV,
    id="black-forest-labs/FLUX.1-kontext-pro",
    description="FLUX.1 Kontext [pro] on Together: text-to-image, or edits of one input image "
    "(sent as image_url; id [UNVERIFIED])",
    edits=True,
    max_input_images=1,
    family="kontext",
)

MODELS: dict[str, TogetherModel] = {
    spec.id: spec
    for spec in (
        _SCHNELL,
        replace(
            _SCHNELL,
            id="black-forest-labs/FLUX.1-schnell-Free",
            description="FLUX.1 [schnell] on Together, its free endpoint (rate-limited)",
        ),
        _DEV,
        _PRO11,
        replace(
            _PRO11,
            id="black-forest-labs/FLUX.1-pro",
            description="FLUX.1 [pro] on Together (id [UNVERIFIED])",
        ),
        _KONTEXT,
        replace(
            _KONTEXT,
            id="black-forest-labs/FLUX.1-kontext-max",
            description="FLUX.1 Kontext [max] on Together: text-to-image or edits of one input "
            "image (id [UNVERIFIED])",
        ),
        replace(
            _KONTEXT,
            id="black-forest-labs/FLUX.1-kontext-dev",
            description="FLUX.1 Kontext [dev] on Together: text-to-image or edits of one input "
            "image (id [UNVERIFIED])",
        ),
    )
}


def spec_for(model_id: str) -> TogetherModel | None:
    """A listed model, or a `black-forest-labs/FLUX…` id passed through: validated as Kontext
    when its name says "kontext", else as FLUX.1 [dev] (module docstring); None otherwise."""
    found = MODELS.get(model_id)
    if found is not None or not PASSTHROUGH.match(model_id):
        return found
    template = _KONTEXT if "kontext" in model_id.lower() else _DEV
    return replace(template, id=model_id, description=f"{model_id} on Together (passed through)")


def as_together(spec: ModelSpec) -> TogetherModel:
    """A spec this provider handed out; `TypeError` for any other (a bug)."""
    if not isinstance(spec, TogetherModel):
        raise TypeError(f"{spec.id} is not a Together model spec")
    return spec


PARAM_SCHEMAS: ParamSchemas = {
    "steps": {
        "type": "integer",
        "minimum": 1,
        "maximum": 50,
        "description": "generation steps (schnell: at most 12; Together's default 20, schnell's 4)",
    },
    "guidance_scale": {
        "type": "number",
        "minimum": 0,
        "maximum": 20,
        "description": "prompt adherence (Together's default 3.5)",
    },
    "disable_safety_checker": {
        "type": "boolean",
        "description": "true turns Together's safety checker off",
    },
}
