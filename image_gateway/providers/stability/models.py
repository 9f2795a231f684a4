"""Stability's Stable Image models and what each takes (REFERENCE-MORE §2.2, §2.5; STAB-OAS).

Generation (`POST /v2beta/stable-image/generate/{ultra|core|sd3}`):

| model                | endpoint | credits | an input image (image-to-image)      |
|----------------------|----------|---------|--------------------------------------|
| `stable-image-ultra` | ultra    | 8       | one, with `strength` (required)      |
| `stable-image-core`  | core     | 3       | none                                 |
| `sd3.5-large`        | sd3      | 6.5     | one: `mode: image-to-image`, `strength` |
| `sd3.5-large-turbo`  | sd3      | 4       | the same                             |
| `sd3.5-medium`       | sd3      | 3.5     | the same                             |
| `sd3.5-flash`        | sd3      | 2.5     | the same                             |

(`sd3.5-flash` is priced in the endpoint's text but missing from its `model` enum: [UNVERIFIED].)

Every one takes `aspect_ratio` from `ASPECT_RATIOS` (a `size` is sent as its exact ratio, which
must be listed; Stability takes no size), `seed` 0-4294967294, `negative_prompt`,
`output_format` png (default) | jpeg | webp, and `style_preset` (`STYLE_PRESETS`).

Edits are Stability's edit endpoints, offered as edit-only models (one input image each), so
each has its own fields, price and card in `/v1/providers`:

| model                             | endpoint                | what it does           |
|-----------------------------------|-------------------------|------------------------|
| `stable-image-inpaint`            | edit/inpaint            | redraws the mask per the prompt |
| `stable-image-erase`              | edit/erase              | removes the mask (no prompt)  |
| `stable-image-outpaint`           | edit/outpaint           | adds pixels on each side  |
| `stable-image-search-and-replace` | edit/search-and-replace | `search_prompt` -> prompt |

A mask (inpaint, erase) is optional: without one Stability edits the input image's transparent
pixels, OpenAI's convention; an OpenAI mask is converted to Stability's (white = edit).
Inpaint and erase fields are STAB-OAS; outpaint's and search-and-replace's are [3P] (a client
author's summary of the spec; REFERENCE-MORE §2.5 marks them [UNVERIFIED]): Stability's 400
names any field they get wrong, before any charge.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

ASPECT_RATIOS = ("21:9", "16:9", "3:2", "5:4", "1:1", "4:5", "2:3", "9:16", "9:21")
STYLE_PRESETS = (
    *("enhance", "anime", "photographic", "digital-art", "comic-book", "fantasy-art"),
    *("line-art", "analog-film", "neon-punk", "isometric", "low-poly", "origami"),
    *("modeling-compound", "cinematic", "3d-model", "pixel-art", "tile-texture"),
)
MAX_SEED = 4_294_967_294  # STAB-OAS: 0-4294967294, 0 = random
OUTPAINT_SIDES = ("left", "right", "up", "down")

Kind = Literal["generate", "inpaint", "erase", "outpaint", "search-and-replace"]


@dataclass(frozen=True, kw_only=True)
class StabilityModel(ModelSpec):
    """A Stability model: the endpoint path after the base URL, what kind of call it is, and
    for the `sd3` endpoint its `model` field."""

    path: str
    kind: Kind = "generate"
    sd3_model: str | None = None
    takes_prompt: bool = True


_RATIO_RULE = "aspect_ratio " + ", ".join(ASPECT_RATIOS) + " (a size of one of them picks it)"

_ULTRA = StabilityModel(
    id="stable-image-ultra",
    description="Stable Image Ultra (about 1 megapixel); an edit is image-to-image with "
    "provider_params.strength",
    size_rule=_RATIO_RULE,
    aspect_ratios=True,
    edits=True,
    max_input_images=1,
    params=("style_preset", "strength"),
    seed=True,
    negative_prompt=True,
    default_size="1024x1024",
    path="/v2beta/stable-image/generate/ultra",
)
_CORE = replace(
    _ULTRA,
    id="stable-image-core",
    description="Stable Image Core (about 1.5 megapixels): text to image",
    edits=False,
    max_input_images=0,
    params=("style_preset",),
    default_size=None,
    path="/v2beta/stable-image/generate/core",
)
_SD35 = replace(
    _ULTRA,
    id="sd3.5-large",
    description="Stable Diffusion 3.5 Large (about 1 megapixel); an edit is image-to-image with "
    "provider_params.strength",
    params=("style_preset", "strength", "cfg_scale"),
    path="/v2beta/stable-image/generate/sd3",
    sd3_model="sd3.5-large",
)


def _sd35(model: str, what: str) -> StabilityModel:
    return replace(
        _SD35, id=model, sd3_model=model, description=_SD35.description.replace("Large", what, 1)
    )


_EDIT = StabilityModel(
    id="stable-image-inpaint",
    description="Stable Image inpainting: redraws the masked area (or the image's transparent "
    "pixels) from the prompt",
    size_rule="the input image's size (64 px a side or more, 4096-9437184 pixels)",
    edits=True,
    edit_only=True,
    max_input_images=1,
    params=("grow_mask", "style_preset"),
    seed=True,
    negative_prompt=True,
    path="/v2beta/stable-image/edit/inpaint",
    kind="inpaint",
    masks=True,
)
_ERASE = replace(
    _EDIT,
    id="stable-image-erase",
    description="Stable Image erase: removes the masked area (or the image's transparent "
    "pixels); the prompt is not sent",
    params=("grow_mask",),
    negative_prompt=False,
    path="/v2beta/stable-image/edit/erase",
    kind="erase",
    masks=True,
    takes_prompt=False,
)
_OUTPAINT = replace(
    _EDIT,
    id="stable-image-outpaint",
    description="Stable Image outpainting: extends the image by provider_params left, right, "
    "up and down (pixels, at least one), guided by the prompt",
    size_rule="the input image plus the pixels asked on each side",
    params=(*OUTPAINT_SIDES, "creativity"),
    negative_prompt=False,
    path="/v2beta/stable-image/edit/outpaint",
    kind="outpaint",
    masks=False,
)
_SEARCH = replace(
    _EDIT,
    id="stable-image-search-and-replace",
    description="Stable Image search and replace: replaces what provider_params.search_prompt "
    "names with the prompt (no mask)",
    params=("search_prompt", "grow_mask"),
    path="/v2beta/stable-image/edit/search-and-replace",
    kind="search-and-replace",
    masks=False,
)

MODELS: dict[str, StabilityModel] = {
    spec.id: spec
    for spec in (
        _ULTRA,
        _CORE,
        _SD35,
        _sd35("sd3.5-large-turbo", "Large Turbo"),
        _sd35("sd3.5-medium", "Medium"),
        _sd35("sd3.5-flash", "Flash"),
        _EDIT,
        _ERASE,
        _OUTPAINT,
        _SEARCH,
    )
}


def as_stability(spec: ModelSpec) -> StabilityModel:
    if not isinstance(spec, StabilityModel):
        raise TypeError(f"{spec.id} is not a Stability model")
    return spec


# What each provider_param takes (STAB-OAS; outpaint's and search-and-replace's [3P]).
PARAM_SCHEMAS: ParamSchemas = {
    "style_preset": {"type": "string", "enum": list(STYLE_PRESETS)},
    "strength": {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "description": "image-to-image: how much the input image changes (required with one)",
    },
    "cfg_scale": {
        "type": "number",
        "minimum": 1,
        "maximum": 10,
        "description": "how strictly the prompt is followed (Stability's default: 4 for Large "
        "and Medium, 1 for Turbo and Flash)",
    },
    "grow_mask": {
        "type": "integer",
        "minimum": 0,
        "maximum": 100,
        "description": "pixels the mask's edges grow by (erase: at most 20)",
    },
    **{
        side: {"type": "integer", "minimum": 0, "description": "pixels added on that side"}
        for side in OUTPAINT_SIDES
    },
    "creativity": {"type": "number", "minimum": 0, "maximum": 1},
    "search_prompt": {"type": "string", "description": "what to find and replace"},
}
