"""Seedream models on Ark and what each accepts.

Sources:
- ARK-PY (volcengine-python-sdk `volcenginesdkarkruntime/resources/images/images.py`,
  `types/images/images.py`): the body's fields (`model`, `prompt`, `image` as one string or a
  list, `response_format`, `size`, `seed`, `guidance_scale`, `watermark`,
  `sequential_image_generation(_options.max_images)`, `output_format`, ...);
- REFERENCE-MORE §8: `size` as "2K"/"4K" or "WxH", up to 14 reference images, `output_format`;
- BytePlus ModelArk's image-generation API page as republished by third parties [3P]
  (novita.ai "Seedream 4.5", docs.siraya.ai "Seedream", docs.apimart.ai "Seedream 5.0 lite",
  replicate.com bytedance/seedream-4): the shorthand resolutions per model (4.0: 1K, 2K, 4K;
  4.5: 2K, 4K; 5.0 lite: 2K, 3K, and 4K in one source but not another: accepted), the pixel
  ranges of a "WxH" size (4.0: 1280x720 to 4096x4096 pixels; 4.5 and 5.0 lite: from 3,686,400
  pixels; aspect ratio within 1/16..16), 3.0 t2i's sides 512-2048, SeedEdit 3.0's `size:
  "adaptive"`, `seed` and `guidance_scale` only on the 3.0 models, `output_format` (jpeg,
  png) only on 5.0 lite, JPEG output otherwise.

The gateway's `size` ("WxH") is sent as it is, checked against the model's range;
`aspect_ratio` becomes a "WxH" of about the area of the chosen resolution (`resolution`
provider param, else the model's default: 2K, or 1K for 3.0 t2i), sides multiples of 16;
`provider_params.resolution` alone is sent as Ark's shorthand ("2K"), the model then choosing
the shape from the prompt. One call makes one image here: Ark's `sequential_image_generation:
"auto"` lets the model decide whether, and how many, images to make, which cannot honour a
client's `n`, so the gateway fans `n` out into calls instead.

Volcengine Ark (China) names the same models with a `doubao-` prefix
(`doubao-seedream-4-0-250828` [3P]): those ids are accepted too (`lookup`), sent as asked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

# The side of a square image at each shorthand resolution (Ark's "2K" = 2048x2048 for 1:1).
RESOLUTION_SIDES = {"1K": 1024, "2K": 2048, "3K": 3072, "4K": 4096}
MAX_RATIO = 16  # width / height within 1/16..16 (4.x, 5.0 lite)
SEED_RANGE = (-1, 2_147_483_647)  # 3.0 models; -1 = random
GUIDANCE_RANGE = (1.0, 10.0)  # 3.0 models
MAX_REFERENCE_IMAGES = 14  # REFERENCE-MORE §8 (ARK-PY docstrings: "<=14")
VOLCENGINE_PREFIX = "doubao-"

PARAM_SCHEMAS: ParamSchemas = {
    "resolution": {
        "type": "string",
        "enum": list(RESOLUTION_SIDES),
        "description": "Ark's shorthand size; with aspect_ratio, the area of the WxH sent",
    },
    "watermark": {
        "type": "boolean",
        "description": "Ark's 'AI generated' mark on the image (Ark's default: true)",
    },
    "guidance_scale": {
        "type": "number",
        "minimum": GUIDANCE_RANGE[0],
        "maximum": GUIDANCE_RANGE[1],
        "description": "prompt adherence (3.0 models)",
    },
}


@dataclass(frozen=True, kw_only=True)
class SeedreamModel(ModelSpec):
    """A Seedream model: `family` "4" (4.x and 5.0 lite: text-to-image and reference edits,
    shorthand resolutions), "3-t2i" (text only, WxH sides within `side_range`) or "3-edit"
    (SeedEdit: one input image, `size: "adaptive"`)."""

    family: Literal["4", "3-t2i", "3-edit"]
    resolutions: tuple[str, ...] = ()
    default_resolution: str = "2K"
    pixel_range: tuple[int, int] = (0, 0)  # family "4": total pixels of a WxH size
    side_range: tuple[int, int] = (0, 0)  # family "3-t2i": each side


_V4 = SeedreamModel(
    id="seedream-4-0-250828",
    description="ByteDance Seedream 4.0: text-to-image and edits with up to 14 reference images",
    size_rule=(
        "WxH of 921,600 to 16,777,216 pixels (1280x720 to 4096x4096), aspect 1/16 to 16; or "
        "aspect_ratio and provider_params.resolution 1K, 2K (default) or 4K"
    ),
    aspect_ratios=True,
    edits=True,
    max_input_images=MAX_REFERENCE_IMAGES,
    params=("resolution", "watermark"),
    output_formats=("jpeg",),
    default_output_format="jpeg",
    default_size="2048x2048",
    family="4",
    resolutions=("1K", "2K", "4K"),
    pixel_range=(1280 * 720, 4096 * 4096),
)

MODELS: dict[str, SeedreamModel] = {
    "seedream-5-0-260128": replace(
        _V4,
        id="seedream-5-0-260128",
        description="ByteDance Seedream 5.0 lite: text-to-image and reference edits, JPEG or PNG",
        size_rule=(
            "WxH of 3,686,400 to 16,777,216 pixels, aspect 1/16 to 16; or aspect_ratio and "
            "provider_params.resolution 2K (default), 3K or 4K"
        ),
        output_formats=("jpeg", "png"),
        resolutions=("2K", "3K", "4K"),
        pixel_range=(3_686_400, 4096 * 4096),
    ),
    "seedream-4-5-251128": replace(
        _V4,
        id="seedream-4-5-251128",
        description="ByteDance Seedream 4.5: text-to-image and reference edits",
        size_rule=(
            "WxH of 3,686,400 to 16,777,216 pixels (2560x1440 to 4096x4096), aspect 1/16 to "
            "16; or aspect_ratio and provider_params.resolution 2K (default) or 4K"
        ),
        resolutions=("2K", "4K"),
        pixel_range=(3_686_400, 4096 * 4096),
    ),
    "seedream-4-0-250828": _V4,
    "seedream-3-0-t2i-250415": SeedreamModel(
        id="seedream-3-0-t2i-250415",
        description="ByteDance Seedream 3.0 (text-to-image)",
        size_rule="WxH, each side 512-2048 (default 1024x1024); or aspect_ratio (about 1 MP)",
        aspect_ratios=True,
        seed=True,
        params=("watermark", "guidance_scale"),
        output_formats=("jpeg",),
        default_output_format="jpeg",
        default_size="1024x1024",
        family="3-t2i",
        default_resolution="1K",
        side_range=(512, 2048),
    ),
    "seededit-3-0-i2i-250628": SeedreamModel(
        id="seededit-3-0-i2i-250628",
        description="ByteDance SeedEdit 3.0: edits one image from a prompt (its size kept)",
        size_rule="no size: the input image's (Ark's size 'adaptive')",
        edits=True,
        edit_only=True,
        max_input_images=1,
        seed=True,
        params=("watermark", "guidance_scale"),
        output_formats=("jpeg",),
        default_output_format="jpeg",
        family="3-edit",
    ),
}


def lookup(model_id: str) -> SeedreamModel | None:
    """The spec for a listed id, or for Volcengine's `doubao-<id>` (its id kept, so it is sent
    as asked)."""
    if model_id in MODELS:
        return MODELS[model_id]
    if model_id.startswith(VOLCENGINE_PREFIX):
        base = MODELS.get(model_id.removeprefix(VOLCENGINE_PREFIX))
        if base is not None:
            return replace(base, id=model_id)
    return None


def as_seedream(spec: ModelSpec) -> SeedreamModel:
    """A spec this provider handed out, with its Seedream fields; `TypeError` for any other."""
    if not isinstance(spec, SeedreamModel):
        raise TypeError(f"{spec.id} is not a Seedream model spec")
    return spec
