"""fal endpoints and what each takes, as typed `FalModel`s.

Sources: REFERENCE-MORE §3.4 (fal-js `types/endpoints.ts`, 2026-08): `fal-ai/flux/dev` takes
`prompt`, `image_size` (a preset name or `{width, height}`), `num_inference_steps`,
`guidance_scale`, `num_images`, `seed`, `enable_safety_checker`, `output_format` jpeg|png
(default jpeg), `acceleration`, `sync_mode`, and answers `{images: [{url, width, height,
content_type}], seed, has_nsfw_concepts, prompt, timings}`; Seedream v4 takes `image_size`
(presets + `auto*`), `num_images`, `max_images`, `seed`, `enable_safety_checker`,
`enhance_prompt_mode`, answering `{images, seed}` (no `has_nsfw_concepts`); the Google-backed
`fal-ai/nano-banana` takes `aspect_ratio` (`auto` + 10 ratios), `num_images`, `output_format`
(png default), `safety_tolerance` "1"-"6", answering `{images, description}` (no seed).
FLUX schnell's fields are dev's without `guidance_scale` ([inference]: the same family).
FLUX1.1 [pro] (`image_size`, `safety_tolerance`), Ultra (`aspect_ratio`, `raw`) and Kontext
(`image_url`, `aspect_ratio`, `guidance_scale`) are [UNVERIFIED]: fal's endpoint map of them is
not in the stored material; their fields follow BFL's own API (REFERENCE §3.2), and fal answers
422 naming any field it does not take (`translate.error_detail`), so a wrong one fails unpaid.

`size_mode` says how `size`/`aspect_ratio` reach the endpoint:
  "image_size"  `image_size`: the preset a size or ratio is (`PRESETS`), else `{width, height}`
  "ratio"       `aspect_ratio` from `ratios` (a size is sent as its ratio, which must be listed)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

SizeMode = Literal["image_size", "ratio"]

# fal's `image_size` presets (REFERENCE §3.4, REFERENCE-MORE §3.4): name -> (width, height).
PRESETS: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
# The preset an aspect ratio is sent as (the 1024-px one).
RATIO_PRESETS = {
    "1:1": "square_hd",
    "3:4": "portrait_4_3",
    "9:16": "portrait_16_9",
    "4:3": "landscape_4_3",
    "16:9": "landscape_16_9",
}
ULTRA_RATIOS = ("21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21")
KONTEXT_RATIOS = ULTRA_RATIOS
NANO_RATIOS = ("21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16")


@dataclass(frozen=True, kw_only=True)
class FalModel(ModelSpec):
    size_mode: SizeMode
    ratios: tuple[str, ...] = ()
    image_field: str | None = None  # where an edit's one input image goes (a data: URI)
    safety_field: str | None = None  # fal's own safety switch the model has, if any


_FLUX_PARAMS = ("num_inference_steps", "enable_safety_checker", "acceleration")
_IMAGE_SIZE_RULE = (
    "a size as image_size {width, height} (the presets "
    + ", ".join(f"{w}x{h}" for w, h in PRESETS.values())
    + " by name); aspect_ratio "
    + ", ".join(RATIO_PRESETS)
)

_SCHNELL = FalModel(
    id="fal-ai/flux/schnell",
    description="FLUX.1 [schnell] on fal (up to 4 images a request)",
    size_rule=_IMAGE_SIZE_RULE,
    aspect_ratios=True,
    images_per_call=4,
    seed=True,
    output_formats=("jpeg", "png"),
    default_output_format="jpeg",
    default_size="1024x768",  # landscape_4_3, fal's default
    params=_FLUX_PARAMS,
    size_mode="image_size",
    safety_field="enable_safety_checker",
)
_DEV = replace(
    _SCHNELL,
    id="fal-ai/flux/dev",
    description="FLUX.1 [dev] on fal (up to 4 images a request)",
    params=(*_FLUX_PARAMS, "guidance_scale"),
)
_PRO11 = replace(
    _SCHNELL,
    id="fal-ai/flux-pro/v1.1",
    description="FLUX1.1 [pro] on fal (up to 4 images a request; fields per BFL's, not "
    "confirmed for fal)",
    params=("enable_safety_checker", "safety_tolerance"),
)
_ULTRA = FalModel(
    id="fal-ai/flux-pro/v1.1-ultra",
    description="FLUX1.1 [pro] ultra on fal (fields per BFL's, not confirmed for fal)",
    size_rule="aspect_ratio " + ", ".join(ULTRA_RATIOS) + " (a size is sent as its ratio)",
    aspect_ratios=True,
    images_per_call=4,
    seed=True,
    output_formats=("jpeg", "png"),
    default_output_format="jpeg",
    default_size="2752x1536",  # 16:9 at about 4 MP, BFL's default ratio
    params=("enable_safety_checker", "safety_tolerance", "raw"),
    size_mode="ratio",
    ratios=ULTRA_RATIOS,
    safety_field="enable_safety_checker",
)
_KONTEXT = FalModel(
    id="fal-ai/flux-pro/kontext",
    description="FLUX.1 Kontext [pro] on fal: edits of one input image (fields per BFL's, "
    "not confirmed for fal)",
    size_rule="aspect_ratio " + ", ".join(KONTEXT_RATIOS) + " (a size is sent as its ratio); "
    "without one the input image's",
    aspect_ratios=True,
    edits=True,
    edit_only=True,
    max_input_images=1,
    images_per_call=4,
    seed=True,
    output_formats=("jpeg", "png"),
    default_output_format="jpeg",
    params=("guidance_scale", "safety_tolerance", "enable_safety_checker"),
    size_mode="ratio",
    ratios=KONTEXT_RATIOS,
    image_field="image_url",
    safety_field="enable_safety_checker",
)
_SEEDREAM = FalModel(
    id="fal-ai/bytedance/seedream/v4/text-to-image",
    description="ByteDance Seedream 4.0 on fal (up to 4 images a request)",
    size_rule=_IMAGE_SIZE_RULE + "; total pixels 960x960 to 4096x4096",
    aspect_ratios=True,
    images_per_call=4,
    seed=True,
    output_formats=(),  # fal's Seedream takes no output_format
    default_output_format="png",
    default_size="2048x2048",  # [UNVERIFIED]: fal's default for Seedream is not given
    params=("enable_safety_checker", "enhance_prompt_mode", "max_images"),
    size_mode="image_size",
    safety_field="enable_safety_checker",
)
_NANO = FalModel(
    id="fal-ai/nano-banana",
    description="Google's Gemini 2.5 Flash Image (Nano Banana) on fal (up to 4 images a "
    "request; no seed)",
    size_rule="aspect_ratio " + ", ".join(NANO_RATIOS) + " (a size is sent as its ratio)",
    aspect_ratios=True,
    images_per_call=4,
    output_formats=("png", "jpeg", "webp"),
    default_output_format="png",
    default_size="1024x1024",
    params=("safety_tolerance", "resolution"),
    size_mode="ratio",
    ratios=NANO_RATIOS,
)

MODELS: dict[str, FalModel] = {
    spec.id: spec for spec in (_SCHNELL, _DEV, _PRO11, _ULTRA, _KONTEXT, _SEEDREAM, _NANO)
}


def as_fal(spec: ModelSpec) -> FalModel:
    if not isinstance(spec, FalModel):
        raise TypeError(f"{spec.id} is not a fal model")
    return spec


# What each catalogue `provider_param` takes (`/v1/providers`), per the sources above; fal's own
# check (a 422 naming the field) stays the authority.
PARAM_SCHEMAS: ParamSchemas = {
    "num_inference_steps": {"type": "integer", "minimum": 1, "maximum": 50},
    "enable_safety_checker": {"type": "boolean", "description": "fal's default: true"},
    "acceleration": {"type": "string", "enum": ["none", "regular", "high"]},
    "guidance_scale": {"type": "number", "minimum": 0},
    "safety_tolerance": {
        "type": "string",
        "enum": ["1", "2", "3", "4", "5", "6"],
        "description": "1 strictest",
    },
    "raw": {"type": "boolean", "description": "less processed, more natural images"},
    "enhance_prompt_mode": {"type": "string", "enum": ["standard", "fast"]},
    "max_images": {"type": "integer", "minimum": 1, "description": "images per generation"},
    "resolution": {"type": "string", "enum": ["1K", "2K", "4K"]},
}
