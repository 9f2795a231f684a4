"""Replicate image models and what each takes, as typed `ReplicateModel`s, and the ids of
pinned versions (`owner/name:<version>`).

Sources: REFERENCE-MORE §4 (official models run at `POST /v1/models/{owner}/{name}/predictions`;
a version at `POST /v1/predictions` with `version`; flux-schnell and flux-dev answer a list of
URIs, flux-pro and flux-1.1-pro one URI [3P: AIProxySwift PR #29 citing Replicate's output
schemas]). Each model's input fields are its own (Replicate's per-model OpenAPI schema, not
in the stored material): the ones below are [3P], from public clients of these models
(flux-schnell/dev: `num_outputs` 1-4, `megapixels`, `go_fast`, `output_format` webp|jpg|png,
`output_quality`; flux-1.1-pro: `aspect_ratio` "custom" with `width`/`height`; Kontext:
`input_image`, `aspect_ratio` "match_input_image", jpg|png; Ideogram v3: 15 ratios; Recraft v3:
a closed `size` list). Replicate checks every input against the schema and answers 422 naming
the field (`translate.error_detail`), so a field this table gets wrong fails before any charge.

`size_mode` says how `size`/`aspect_ratio` reach the model:
  "ratio"   `aspect_ratio` from `ratios` (a size is sent as its ratio, which must be listed)
  "custom"  the same, or for a size `aspect_ratio: "custom"` with `width`/`height`, multiples
            of 32 within 256-1440 (sizes are fitted)
  "sizes"   `size` "WxH" from the closed `sizes` list; no aspect ratio
  "wh"      `width`/`height` as asked, `aspect_ratio` as given (a version outside the catalogue)
`output` is what `output` holds when the prediction succeeds: "list" of URIs, one "uri", or
"any" (either; a version outside the catalogue). `n` becomes `num_outputs` where the model has
it (`images_per_call`), else one prediction per image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

SizeMode = Literal["ratio", "custom", "sizes", "wh"]
OutputKind = Literal["list", "uri", "any"]


@dataclass(frozen=True, kw_only=True)
class ReplicateModel(ModelSpec):
    name: str  # `owner/name` on Replicate
    version: str | None = None  # a pinned version id: sent to POST /v1/predictions
    size_mode: SizeMode
    ratios: tuple[str, ...] = ()
    output: OutputKind = "uri"
    image_field: str | None = None  # where an edit's one input image goes (a data: URI)
    quality_field: str | None = None  # where output_compression goes (`output_quality`)


FLUX_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
KONTEXT_RATIOS = (*FLUX_RATIOS, "2:1", "1:2")
IDEOGRAM_RATIOS = (
    *("1:3", "3:1", "1:2", "2:1", "9:16", "16:9", "10:16", "16:10"),
    *("2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "1:1"),
)
RECRAFT_SIZES = (
    *("1024x1024", "1365x1024", "1024x1365", "1536x1024", "1024x1536", "1820x1024"),
    *("1024x1820", "1024x2048", "2048x1024", "1434x1024", "1024x1434", "1024x1280"),
    *("1280x1024", "1024x1707", "1707x1024"),
)
# Replicate's own names for the formats (`jpg`); the gateway's are `jpeg`.
FLUX_FORMATS = ("webp", "jpeg", "png")
_FLUX_FAST = ("megapixels", "go_fast", "num_inference_steps", "disable_safety_checker")

_SCHNELL = ReplicateModel(
    id="black-forest-labs/flux-schnell",
    name="black-forest-labs/flux-schnell",
    description="FLUX.1 [schnell] on Replicate (up to 4 images a prediction)",
    size_rule="aspect_ratio " + ", ".join(FLUX_RATIOS) + " (a size is sent as its ratio)",
    aspect_ratios=True,
    images_per_call=4,
    seed=True,
    output_compression=True,
    output_formats=FLUX_FORMATS,
    default_output_format="webp",
    params=_FLUX_FAST,
    size_mode="ratio",
    ratios=FLUX_RATIOS,
    output="list",
    quality_field="output_quality",
)
_DEV = replace(
    _SCHNELL,
    id="black-forest-labs/flux-dev",
    name="black-forest-labs/flux-dev",
    description="FLUX.1 [dev] on Replicate (up to 4 images a prediction)",
    params=(*_FLUX_FAST, "guidance"),
)
_PRO11 = ReplicateModel(
    id="black-forest-labs/flux-1.1-pro",
    name="black-forest-labs/flux-1.1-pro",
    description="FLUX1.1 [pro] on Replicate",
    size_rule="aspect_ratio " + ", ".join(FLUX_RATIOS) + ", or a size: width/height 256-1440 "
    "in multiples of 32 (sizes are fitted)",
    aspect_ratios=True,
    seed=True,
    output_compression=True,
    output_formats=FLUX_FORMATS,
    default_output_format="webp",
    params=("safety_tolerance", "prompt_upsampling"),
    size_mode="custom",
    ratios=FLUX_RATIOS,
    output="uri",
    quality_field="output_quality",
)
_PRO = replace(
    _PRO11,
    id="black-forest-labs/flux-pro",
    name="black-forest-labs/flux-pro",
    description="FLUX.1 [pro] on Replicate",
    params=(*_PRO11.params, "steps", "guidance", "interval"),
)
_KONTEXT = ReplicateModel(
    id="black-forest-labs/flux-kontext-pro",
    name="black-forest-labs/flux-kontext-pro",
    description="FLUX.1 Kontext [pro] on Replicate: generation, and edits of one input image",
    size_rule="aspect_ratio " + ", ".join(KONTEXT_RATIOS) + " (a size is sent as its ratio); "
    "an edit without one keeps the input image's",
    aspect_ratios=True,
    edits=True,
    max_input_images=1,
    seed=True,
    output_formats=("png", "jpeg"),
    default_output_format="png",
    params=("safety_tolerance", "prompt_upsampling"),
    size_mode="ratio",
    ratios=KONTEXT_RATIOS,
    output="uri",
    image_field="input_image",
)
_IDEOGRAM = ReplicateModel(
    id="ideogram-ai/ideogram-v3-turbo",
    name="ideogram-ai/ideogram-v3-turbo",
    description="Ideogram 3.0 Turbo on Replicate",
    size_rule="aspect_ratio " + ", ".join(IDEOGRAM_RATIOS) + " (a size is sent as its ratio)",
    aspect_ratios=True,
    seed=True,
    output_formats=("png",),
    params=("resolution", "style_type", "magic_prompt_option"),
    size_mode="ratio",
    ratios=IDEOGRAM_RATIOS,
    output="uri",
)
_RECRAFT = ReplicateModel(
    id="recraft-ai/recraft-v3",
    name="recraft-ai/recraft-v3",
    description="Recraft V3 on Replicate",
    size_rule="one of the listed sizes",
    sizes=RECRAFT_SIZES,
    output_formats=("webp",),
    default_output_format="webp",
    params=("style",),
    size_mode="sizes",
    output="uri",
)

MODELS: dict[str, ReplicateModel] = {
    spec.id: spec for spec in (_SCHNELL, _DEV, _PRO11, _PRO, _KONTEXT, _IDEOGRAM, _RECRAFT)
}

# A version id is 64 hex digits (REFERENCE-MORE §4.2); owner and name as Replicate spells them.
VERSION_ID = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*):(?P<v>[0-9a-f]{64})$"
)

# The fields a version outside the catalogue is sent: the names most image models on Replicate
# use (Cog's conventions [3P]); Replicate answers 422 naming any the model lacks. No
# `num_outputs`: such a model makes one image a prediction (`n` fans out).
GENERIC_PARAMS = (
    *("num_inference_steps", "guidance_scale", "scheduler"),
    *("prompt_strength", "disable_safety_checker", "lora_scale", "output_quality"),
)


def versioned(model_id: str) -> ReplicateModel | None:
    """The model of an `owner/name:<version>` id: the catalogue's entry pinned to that version,
    or, for a model outside it, one sent the common fields as `width`/`height`, `seed`,
    `negative_prompt` and `provider_params` under Replicate's own names; None for any other id."""
    found = VERSION_ID.match(model_id)
    if found is None:
        return None
    name, version = found["name"], found["v"]
    known = MODELS.get(name)
    if known is not None:
        return replace(known, id=model_id, version=version)
    return ReplicateModel(
        id=model_id,
        name=name,
        version=version,
        description=f"{name} at a pinned version (a model outside the catalogue: its own "
        "inputs; Replicate refuses the ones it lacks)",
        size_rule="width/height as asked; aspect_ratio sent as given",
        aspect_ratios=True,
        seed=True,
        negative_prompt=True,
        output_formats=(),
        params=GENERIC_PARAMS,
        size_mode="wh",
        output="any",
    )


def as_replicate(spec: ModelSpec) -> ReplicateModel:
    if not isinstance(spec, ReplicateModel):
        raise TypeError(f"{spec.id} is not a Replicate model")
    return spec


# What each catalogue `provider_param` takes (`/v1/providers`), as the [3P] schemas above say;
# Replicate's own check (a 422 naming the field) stays the authority.
PARAM_SCHEMAS: ParamSchemas = {
    "megapixels": {"type": "string", "enum": ["1", "0.25"]},
    "go_fast": {"type": "boolean"},
    "num_inference_steps": {"type": "integer", "minimum": 1},
    "disable_safety_checker": {"type": "boolean"},
    "guidance": {"type": "number", "minimum": 0},
    "safety_tolerance": {
        "type": "integer",
        "minimum": 0,
        "maximum": 6,
        "description": "0 strictest",
    },
    "prompt_upsampling": {"type": "boolean"},
    "steps": {"type": "integer", "minimum": 1},
    "interval": {"type": "number", "minimum": 1},
    "resolution": {
        "type": "string",
        "description": "WxH from Ideogram's list (overrides aspect_ratio)",
    },
    "style_type": {"type": "string", "enum": ["None", "Auto", "General", "Realistic", "Design"]},
    "magic_prompt_option": {"type": "string", "enum": ["Auto", "On", "Off"]},
    "style": {"type": "string", "description": "Recraft's style, e.g. digital_illustration"},
}
