"""BFL FLUX models and what each accepts (BFL's OpenAPI, shared/providers/bfl-openapi.json),
as typed `BFLModel`s: the common declarations of `ModelSpec` plus BFL's own.

`path` is the endpoint (`POST /v1/<path>`). `size_mode` says how the common
`size`/`aspect_ratio` fields reach the endpoint:
  "wh32"   width/height, multiples of 32 within 256-1440 (FLUX1.x)
  "wh16"   width/height, multiples of 16, at least 64, at most 4 MP (FLUX.2)
  "aspect" aspect_ratio string between 21:9 and 9:21 (Ultra, Kontext)
  "none"   the output size follows the input image (Fill, Expand)
`webhook_url`/`webhook_secret` are not offered: the gateway never asks BFL to call out.
Every endpoint takes `seed` and `output_format`; none takes quality, style, background,
moderation, negative_prompt or output_compression (so none is declared).
Input images go to `image_field` (Fill, Expand: the one image) or, in order, to `refs`
(Kontext, FLUX.2: reference images). `masks`: whether the endpoint takes one (BFL's OpenAPI:
only Fill and Fill fine-tuned have a `mask` field; any other would drop it unread).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.kit.capabilities import IMAGE_PARAM, ModelSpec, ParamSchemas

SizeMode = Literal["wh32", "wh16", "aspect", "none"]


@dataclass(frozen=True, kw_only=True)
class BFLModel(ModelSpec):
    path: str
    size_mode: SizeMode
    image_field: str | None = None
    refs: tuple[str, ...] = ()


FORMATS = ("jpeg", "png", "webp")
_REFS4 = ("input_image", "input_image_2", "input_image_3", "input_image_4")
_REFS8 = (*_REFS4, "input_image_5", "input_image_6", "input_image_7", "input_image_8")
_COMMON = ("safety_tolerance",)

_PRO11 = BFLModel(
    id="flux-pro-1.1",
    description="FLUX1.1 [pro]",
    seed=True,
    size_rule="width/height 256-1440 in multiples of 32 (sizes are fitted); default 1024x768",
    aspect_ratios=True,
    output_formats=FORMATS,
    default_output_format="jpeg",
    params=(*_COMMON, "width", "height", "image_prompt", "prompt_upsampling"),
    default_size="1024x768",  # BFL's OpenAPI: width 1024, height 768
    path="flux-pro-1.1",
    size_mode="wh32",
)
_ULTRA = BFLModel(
    id="flux-pro-1.1-ultra",
    description="FLUX1.1 [pro] Ultra (up to 4 MP; raw mode)",
    seed=True,
    size_rule="aspect_ratio between 21:9 and 9:21 (a size is turned into its aspect ratio)",
    aspect_ratios=True,
    output_formats=FORMATS,
    default_output_format="jpeg",
    params=(
        *_COMMON,
        "aspect_ratio",
        "raw",
        "image_prompt",
        "image_prompt_strength",
        "prompt_upsampling",
    ),
    path="flux-pro-1.1-ultra",
    size_mode="aspect",
)
_FILL = BFLModel(
    id="flux-pro-1.0-fill",
    description="FLUX.1 Fill [pro]: inpainting with a mask",
    seed=True,
    size_rule="follows the input image",
    edits=True,
    edit_only=True,
    max_input_images=1,
    output_formats=FORMATS,
    default_output_format="jpeg",
    params=(*_COMMON, "steps", "guidance", "prompt_upsampling"),
    path="flux-pro-1.0-fill",
    size_mode="none",
    image_field="image",
    masks=True,
)
_KONTEXT = BFLModel(
    id="flux-kontext-pro",
    description="FLUX.1 Kontext [pro]: generation and editing with up to 4 reference images",
    seed=True,
    size_rule="aspect_ratio between 21:9 and 9:21 (a size is turned into its aspect ratio)",
    aspect_ratios=True,
    edits=True,
    max_input_images=4,
    output_formats=FORMATS,
    default_output_format="png",
    params=_COMMON + _REFS4 + ("aspect_ratio", "prompt_upsampling"),
    path="flux-kontext-pro",
    size_mode="aspect",
    refs=_REFS4,
)
_FLUX2 = BFLModel(
    id="flux-2-pro",
    description="FLUX.2 [pro]: generation and editing with up to 8 reference images",
    seed=True,
    size_rule="width/height multiples of 16, at least 64, at most 4 MP (sizes are fitted)",
    aspect_ratios=True,
    edits=True,
    max_input_images=8,
    output_formats=FORMATS,
    default_output_format="jpeg",
    params=_COMMON + _REFS8 + ("width", "height"),
    default_size="1024x1024",  # width/height 0 = unspecified: 1 MP (BFL's 1 MP T2I prices)
    path="flux-2-pro",
    size_mode="wh16",
    refs=_REFS8,
)
_KLEIN = replace(
    _FLUX2,
    id="flux-2-klein-4b",
    description="FLUX.2 [klein] 4B",
    max_input_images=4,
    params=_COMMON + _REFS4 + ("width", "height"),
    path="flux-2-klein-4b",
    refs=_REFS4,
)


def _variant(
    spec: BFLModel, model_id: str, description: str, params: tuple[str, ...] | None = None
) -> BFLModel:
    """Another endpoint like `spec` (same request shape), at `/v1/<model_id>`."""
    params = spec.params if params is None else params
    return replace(spec, id=model_id, path=model_id, description=description, params=params)


MODELS: dict[str, BFLModel] = {
    spec.id: spec
    for spec in (
        _PRO11,
        _variant(_PRO11, "flux-dev", "FLUX.1 [dev]", params=(*_PRO11.params, "steps", "guidance")),
        _ULTRA,
        _variant(
            _ULTRA,
            "flux-pro-1.1-ultra-finetuned",
            "FLUX1.1 [pro] Ultra, fine-tuned",
            params=(*_ULTRA.params, "finetune_id", "finetune_strength"),
        ),
        _FILL,
        _variant(
            _FILL,
            "flux-pro-1.0-fill-finetuned",
            "FLUX.1 Fill [pro], fine-tuned",
            params=(*_FILL.params, "finetune_id", "finetune_strength"),
        ),
        replace(
            _variant(
                _FILL,
                "flux-pro-1.0-expand",
                "FLUX.1 Expand [pro]: outpainting",
                params=(
                    *_COMMON,
                    "top",
                    "bottom",
                    "left",
                    "right",
                    "steps",
                    "guidance",
                    "prompt_upsampling",
                ),
            ),
            masks=False,
        ),
        _KONTEXT,
        _variant(_KONTEXT, "flux-kontext-max", "FLUX.1 Kontext [max]"),
        _FLUX2,
        _variant(_FLUX2, "flux-2-pro-preview", "FLUX.2 [pro] preview"),
        _variant(_FLUX2, "flux-2-max", "FLUX.2 [max]"),
        _variant(
            _FLUX2,
            "flux-2-flex",
            "FLUX.2 [flex]",
            params=(
                *_FLUX2.params,
                "guidance",
                "steps",
                "prompt_upsampling",
                "input_image_blob_path",
            ),
        ),
        _KLEIN,
        _variant(_KLEIN, "flux-2-klein-9b", "FLUX.2 [klein] 9B"),
        _variant(_KLEIN, "flux-2-klein-9b-preview", "FLUX.2 [klein] 9B preview"),
    )
}

# Fine-tuned endpoints cannot run without this.
REQUIRED_PARAMS = {
    "flux-pro-1.1-ultra-finetuned": ("finetune_id",),
    "flux-pro-1.0-fill-finetuned": ("finetune_id",),
}

# provider_params that carry an input image (base64 or URL). The gateway loads each itself —
# a URL through its SSRF guard — and sends BFL base64, so BFL never fetches a client's URL.
# (Fill/Expand take `image`/`mask` from the edit upload, not from provider_params.)
IMAGE_PARAMS = ("image_prompt", *_REFS8)

# What each provider_param takes (BFL's OpenAPI, shared/providers/bfl-openapi.json; a range is
# given only where every endpoint taking the name has the same one: safety_tolerance is 0-6 on
# FLUX1.x and Kontext, 0-5 on FLUX.2, so only its minimum).
PARAM_SCHEMAS: ParamSchemas = {
    "safety_tolerance": {"type": "integer", "minimum": 0, "description": "0 strictest"},
    "width": {"type": "integer"},
    "height": {"type": "integer"},
    "aspect_ratio": {"type": "string", "description": "W:H, between 21:9 and 9:21"},
    "prompt_upsampling": {"type": "boolean"},
    "raw": {"type": "boolean"},
    "steps": {"type": "integer"},
    "guidance": {"type": "number"},
    "image_prompt_strength": {"type": "number", "minimum": 0, "maximum": 1},
    "finetune_id": {"type": "string"},
    "finetune_strength": {"type": "number", "minimum": 0, "maximum": 2},
    **{
        side: {"type": "integer", "description": f"pixels to add at the {side} (Expand)"}
        for side in ("top", "bottom", "left", "right")
    },
    "input_image_blob_path": {"type": "string", "description": "a blob path BFL gave"},
    **{name: IMAGE_PARAM for name in IMAGE_PARAMS},
}
