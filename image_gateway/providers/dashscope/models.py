"""DashScope image models and what each accepts.

Sources:
- DASH-PY (dashscope-sdk-python `dashscope/aigc/image_synthesis.py`): the task is
  `text2image`, or `image2image` for a model whose name holds `imageedit` or `wan2.5-i2i`;
  the input fields `prompt`, `negative_prompt`, `images` (a list), `function`,
  `base_image_url`, `mask_image_url`; `n` and `size` ("width*height") as parameters;
- alibabacloud.com Model Studio "Wan text-to-image V2 API reference" (2025-11 and 2025-12
  copies): wan2.5-t2i-preview takes any size of 768*768 to 1440*1440 pixels with an aspect
  ratio within 1:4..4:1; wan2.2-t2i-flash/-plus and wanx2.1-t2i-turbo/-plus take sides of
  512-1440 pixels; PNG output; result URLs valid 24 hours. Third-party copies of the 2.5 page
  say 1280*1280 as the lower bound [3P: seaart, vtrix]: the wider reading is accepted;
- third-party copies of Model Studio's parameter tables [3P: seaart, vtrix]: `n` 1-4 (default
  4, so the gateway always sends it), `seed` 0-2147483647, `prompt_extend` (default true),
  `watermark` (default false); wan2.5-i2i-preview's `images` 1-3 (URL or base64); Qwen-Image's
  five sizes (1664*928, 1472*1140, 1328*1328 default, 1140*1472, 928*1664) and one image a
  task [UNVERIFIED: no primary source stored];
- wanx2.1-imageedit's functions (DASH-PY docstring: colorization, super_resolution, expand,
  remove_watermark, doodle, description_edit_with_mask, description_edit, stylization_local,
  stylization_all): `provider_params.function`, by default `description_edit`, or
  `description_edit_with_mask` when a mask is sent (its white area is edited: the OpenAI mask
  is converted, `kit/masks.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

SEED_MAX = 2_147_483_647
SIDE_RANGE = (512, 1440)  # wan2.2 and 2.1: each side
PIXEL_RANGE = (768 * 768, 1440 * 1440)  # wan2.5: total pixels (1280*1280 in [3P] copies)
MAX_RATIO = 4  # wan2.5: aspect within 1:4..4:1
QWEN_SIZES = ("1664x928", "1472x1140", "1328x1328", "1140x1472", "928x1664")
FUNCTIONS = (
    "description_edit",
    "description_edit_with_mask",
    "stylization_all",
    "stylization_local",
    "remove_watermark",
    "expand",
    "super_resolution",
    "colorization",
    "doodle",
)

PARAM_SCHEMAS: ParamSchemas = {
    "prompt_extend": {
        "type": "boolean",
        "description": "DashScope rewrites the prompt with a language model (its default: true)",
    },
    "watermark": {
        "type": "boolean",
        "description": "an 'AI generated' mark in the corner (DashScope's default: false)",
    },
    "function": {
        "type": "string",
        "enum": list(FUNCTIONS),
        "description": "wanx2.1-imageedit's edit mode (default description_edit, or "
        "description_edit_with_mask with a mask, the only one a mask goes with)",
    },
}


@dataclass(frozen=True, kw_only=True)
class DashScopeModel(ModelSpec):
    """A DashScope image model: its `task` (the URL's `text2image` or `image2image`), how it
    takes a size (`sides`: each side within `SIDE_RANGE`; `pixels`: total pixels within
    `PIXEL_RANGE` and aspect 1:4..4:1; `fixed`: one of `sizes`; `none`: the input image's),
    and, for edits, how the input images go (`images` list, or wanx2.1-imageedit's
    `function` with `base_image_url`)."""

    task: Literal["text2image", "image2image"] = "text2image"
    size_mode: Literal["sides", "pixels", "fixed", "none"] = "sides"
    edit_mode: Literal["", "images", "function"] = ""


_WAN22 = DashScopeModel(
    id="wan2.2-t2i-flash",
    description="Alibaba Wan 2.2 Flash text-to-image (fast)",
    size_rule="WxH with each side 512-1440 (default 1024x1024), or aspect_ratio (about 1 MP)",
    aspect_ratios=True,
    images_per_call=4,
    seed=True,
    negative_prompt=True,
    params=("prompt_extend", "watermark"),
    output_formats=("png",),
    default_size="1024x1024",
)
_WAN25 = replace(
    _WAN22,
    id="wan2.5-t2i-preview",
    description="Alibaba Wan 2.5 preview text-to-image",
    size_rule=(
        "WxH of 768x768 to 1440x1440 pixels in all, aspect 1:4 to 4:1 (default 1280x1280), or "
        "aspect_ratio"
    ),
    size_mode="pixels",
    default_size="1280x1280",
)
_QWEN = replace(
    _WAN22,
    id="qwen-image",
    description="Alibaba Qwen-Image text-to-image (strong at rendering text)",
    size_rule="one of 1664x928, 1472x1140, 1328x1328 (default), 1140x1472, 928x1664, or the "
    "aspect_ratio closest to one",
    sizes=QWEN_SIZES,
    images_per_call=1,
    size_mode="fixed",
    default_size="1328x1328",
)

MODELS: dict[str, DashScopeModel] = {
    "wan2.2-t2i-flash": _WAN22,
    "wan2.2-t2i-plus": replace(
        _WAN22, id="wan2.2-t2i-plus", description="Alibaba Wan 2.2 Plus text-to-image"
    ),
    "wan2.5-t2i-preview": _WAN25,
    "wanx2.1-t2i-turbo": replace(
        _WAN22, id="wanx2.1-t2i-turbo", description="Alibaba Wan 2.1 Turbo text-to-image"
    ),
    "wanx2.1-t2i-plus": replace(
        _WAN22, id="wanx2.1-t2i-plus", description="Alibaba Wan 2.1 Plus text-to-image"
    ),
    "qwen-image": _QWEN,
    "qwen-image-plus": replace(
        _QWEN, id="qwen-image-plus", description="Alibaba Qwen-Image Plus text-to-image"
    ),
    "wan2.5-i2i-preview": replace(
        _WAN25,
        id="wan2.5-i2i-preview",
        description="Alibaba Wan 2.5 preview image editing: one to three input images",
        size_rule="optional: WxH of 768x768 to 1440x1440 pixels, aspect 1:4 to 4:1, or "
        "aspect_ratio; else the model's choice from the input",
        task="image2image",
        edits=True,
        edit_only=True,
        max_input_images=3,
        default_size=None,
        edit_mode="images",
    ),
    "wanx2.1-imageedit": DashScopeModel(
        id="wanx2.1-imageedit",
        description="Alibaba Wan 2.1 image editing: one image, a function, an optional mask",
        size_rule="no size: the input image's",
        images_per_call=4,
        edits=True,
        edit_only=True,
        masks=True,  # with provider_params.function description_edit_with_mask only
        max_input_images=1,
        seed=True,
        params=("function", "watermark"),
        output_formats=("png",),
        task="image2image",
        size_mode="none",
        edit_mode="function",
    ),
}


def as_dashscope(spec: ModelSpec) -> DashScopeModel:
    """A spec this provider handed out, with its DashScope fields; `TypeError` for any other."""
    if not isinstance(spec, DashScopeModel):
        raise TypeError(f"{spec.id} is not a DashScope model spec")
    return spec
