"""Ideogram's models and what each takes (REFERENCE §3.5, REFERENCE-MORE §8; IDEO-DOCS).

One model per rendering speed, since the speed is the price (REFERENCE §4, per output image):

| model                | endpoint family    | rendering_speed | price  |
|----------------------|--------------------|-----------------|--------|
| `ideogram-3-flash`   | `/v1/ideogram-v3/` | FLASH           | $0.03  |
| `ideogram-3-turbo`   | `/v1/ideogram-v3/` | TURBO           | $0.03  |
| `ideogram-3`         | `/v1/ideogram-v3/` | DEFAULT         | $0.06  |
| `ideogram-3-quality` | `/v1/ideogram-v3/` | QUALITY         | $0.09  |
| `ideogram-4-turbo`   | `/v1/ideogram-v4/` | TURBO           | $0.03  |
| `ideogram-4`         | `/v1/ideogram-v4/` | DEFAULT         | $0.06  |
| `ideogram-4-quality` | `/v1/ideogram-v4/` | QUALITY         | $0.10  |

Ideogram 3.0 (`generate`, `remix`, `edit`; multipart): `prompt`, `rendering_speed`,
`resolution` (`RESOLUTIONS_V3`) or `aspect_ratio` (`ASPECT_RATIOS_V3`, written `16x9`),
`magic_prompt` AUTO|ON|OFF, `negative_prompt`, `num_images` 1-8, `seed` 0-2147483647,
`style_type`. An edit with a mask is `/edit` (image + mask, black = edit; no size: the input
image's); an edit without one is `/remix` (image + `image_weight` 1-100; cropped to the ratio
asked). Ideogram's docs now list `/edit` as "(legacy)" beside `/inpaint`, which takes the same
fields; `/edit` is what clients call and is kept (the emulator serves both).

Ideogram 4.0 (`generate`, `remix`): `text_prompt` (or `json_prompt`, not offered here),
`rendering_speed` DEFAULT|TURBO|QUALITY, `resolution` WxH from a 2K list (omitted: the model
picks) [semi-primary: Comfy's schema of Ideogram's]; a Comfy example sends `1024x1024`, so that
size is accepted too [UNVERIFIED]. `num_images` is not in its schema: one image a call, `n`
fans out. `seed` [3P: Comfy's node]. Remix: `image`, `text_prompt`, `image_weight` (IDEO-DOCS
remix-v4, "mirrors /v1/ideogram-v3/remix"). No negative prompt, no mask.

`RESOLUTIONS_V3` is Ideogram's `resolution` enum as clients republish it [3P: Runware's 1K
table, replicate's ideogram-v3 schema]; Ideogram's 400 names a size it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

ASPECT_RATIOS_V3 = (
    *("1:3", "3:1", "1:2", "2:1", "9:16", "16:9", "10:16", "16:10"),
    *("2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "1:1"),
)
RESOLUTIONS_V3 = (
    *("512x1536", "576x1408", "576x1472", "576x1536", "640x1344", "640x1408", "640x1472"),
    *("640x1536", "704x1152", "704x1216", "704x1280", "704x1344", "704x1408", "704x1472"),
    *("736x1312", "768x1088", "768x1216", "768x1280", "768x1344", "800x1280", "832x960"),
    *("832x1024", "832x1088", "832x1152", "832x1216", "832x1248", "864x1152", "896x960"),
    *("896x1024", "896x1088", "896x1120", "896x1152", "960x832", "960x896", "960x1024"),
    *("960x1088", "1024x832", "1024x896", "1024x960", "1024x1024", "1088x768", "1088x832"),
    *("1088x896", "1088x960", "1120x896", "1152x704", "1152x832", "1152x864", "1152x896"),
    *("1216x704", "1216x768", "1216x832", "1248x832", "1280x704", "1280x768", "1280x800"),
    *("1312x736", "1344x640", "1344x704", "1344x768", "1408x576", "1408x640", "1408x704"),
    *("1472x576", "1472x640", "1472x704", "1536x512", "1536x576", "1536x640"),
)
RESOLUTIONS_V4 = (
    *("2048x2048", "1440x2880", "2880x1440", "1664x2496", "2496x1664", "1792x2240"),
    *("2240x1792", "1440x2560", "2560x1440", "1600x2560", "2560x1600", "1728x2304"),
    *("2304x1728", "1296x3168", "3168x1296", "1152x2944", "2944x1152", "1248x3328"),
    *("3328x1248", "1280x3072", "3072x1280", "1024x1024"),
)
MAX_SEED = 2_147_483_647
MAGIC_PROMPT = ("AUTO", "ON", "OFF")
STYLE_TYPES = ("AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION")

Version = Literal["v3", "v4"]


def ratio_of(size: str) -> Fraction:
    width, _, height = size.partition("x")
    return Fraction(int(width), int(height))


# Ideogram 4.0 takes no aspect_ratio: a ratio is sent as the 2K size of that ratio.
V4_BY_RATIO = {ratio_of(size): size for size in RESOLUTIONS_V4 if size != "1024x1024"}


@dataclass(frozen=True, kw_only=True)
class IdeogramModel(ModelSpec):
    """An Ideogram model: its API version (the path family) and its rendering speed."""

    version: Version
    rendering_speed: str


_V3 = IdeogramModel(
    id="ideogram-3-turbo",
    description="Ideogram 3.0, TURBO speed; edits: with a mask (black-and-white, or OpenAI's "
    "transparent one) the masked area is redrawn, without one the image is remixed "
    "(provider_params.image_weight)",
    size_rule="a size from Ideogram 3.0's resolution list, or aspect_ratio "
    + ", ".join(ASPECT_RATIOS_V3),
    sizes=RESOLUTIONS_V3,
    aspect_ratios=True,
    images_per_call=8,
    edits=True,
    masks=True,
    max_input_images=1,
    params=("magic_prompt", "style_type", "image_weight"),
    seed=True,
    negative_prompt=True,
    output_formats=("png",),
    default_size="1024x1024",
    version="v3",
    rendering_speed="TURBO",
)


def _v3(model_id: str, speed: str) -> IdeogramModel:
    return replace(
        _V3,
        id=model_id,
        rendering_speed=speed,
        description=_V3.description.replace("TURBO", speed, 1),
    )


_V4 = IdeogramModel(
    id="ideogram-4",
    description="Ideogram 4.0, DEFAULT speed (2K sizes); edits remix the image "
    "(provider_params.image_weight), no mask",
    size_rule="a size from Ideogram 4.0's 2K list, or the aspect ratio of one of them "
    "(neither: the model picks)",
    sizes=RESOLUTIONS_V4,
    aspect_ratios=True,
    edits=True,
    max_input_images=1,
    params=("image_weight",),
    seed=True,
    output_formats=("png",),
    version="v4",
    rendering_speed="DEFAULT",
)


def _v4(model_id: str, speed: str) -> IdeogramModel:
    return replace(
        _V4,
        id=model_id,
        rendering_speed=speed,
        description=_V4.description.replace("DEFAULT", speed, 1),
    )


MODELS: dict[str, IdeogramModel] = {
    spec.id: spec
    for spec in (
        _v3("ideogram-3-flash", "FLASH"),
        _V3,
        _v3("ideogram-3", "DEFAULT"),
        _v3("ideogram-3-quality", "QUALITY"),
        _v4("ideogram-4-turbo", "TURBO"),
        _V4,
        _v4("ideogram-4-quality", "QUALITY"),
    )
}


def as_ideogram(spec: ModelSpec) -> IdeogramModel:
    if not isinstance(spec, IdeogramModel):
        raise TypeError(f"{spec.id} is not an Ideogram model")
    return spec


PARAM_SCHEMAS: ParamSchemas = {
    "magic_prompt": {
        "type": "string",
        "enum": list(MAGIC_PROMPT),
        "description": "whether Ideogram rewrites the prompt (Magic Prompt)",
    },
    "style_type": {"type": "string", "enum": list(STYLE_TYPES)},
    "image_weight": {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "description": "remix (an edit without a mask): how closely the result follows the "
        "input image",
    },
}
