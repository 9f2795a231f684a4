"""Gemini API image models (`generateContent`) and what each accepts, as typed `GeminiModel`s
(shared/providers/REFERENCE-MORE.md §1.1 line-up and dates, §1.3 request fields, §1.9 sizes).

What every model here honours: `prompt`, `n` (one image per call: the kit fans `n` out; there
is no `n`/`sampleCount` for Gemini image models, §1.3), `size` (exactly one of the model's
pixel sizes, `sizes.py`), `aspect_ratio` (one of its ratios), input images for edits (inline
data, up to `max_input_images`: 3 for 2.5 Flash, 14 for 3 Pro and 3.1 Flash, §1.3) and
`output_format: png` (the Gemini API decides the output type, PNG in Google's examples;
choosing JPEG is Vertex-only, §1.4). Nothing else of the common fields: no quality, style,
background, moderation, input_fidelity, seed, negative_prompt, output_compression or mask
(a mask is refused by the adapter; describe the change in the prompt).

`provider_params` (Gemini's own names, snake_case as in GENAI-PY):
- `image_size`: the tier (`"512"`, `"1K"`, `"2K"`, `"4K"` where the model has it; case
  does not matter, it is sent with an uppercase K), where the model has more than one;
- `thinking_level`: `MINIMAL`, `LOW`, `MEDIUM`, `HIGH` (GENAI-PY `ThinkingLevel`; Google's
  Imagen migration uses MINIMAL and HIGH on 3.1 Flash Image, FIREBASE), 3.1 Flash only;
- `response_modalities`: `["TEXT", "IMAGE"]` (default: the text beside the image becomes
  `revised_prompt`) or `["IMAGE"]`.

Newer ids (`gemini-*image*`, `gemini-nano-banana-*`) are passed through with the most
conservative spec: 2.5 Flash's (1K, the ten common ratios, 3 input images).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from image_gateway.providers.gemini import sizes
from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

THINKING_LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
MODALITIES = (("TEXT", "IMAGE"), ("IMAGE",))
PARAM_SCHEMAS: ParamSchemas = {
    "image_size": {"type": "string", "description": "the tier: 512, 1K, 2K or 4K"},
    "thinking_level": {"type": "string", "enum": list(THINKING_LEVELS)},
    "response_modalities": {
        "type": "array",
        "items": {"type": "string", "enum": ["TEXT", "IMAGE"]},
    },
}
_PASSTHROUGH = re.compile(r"^gemini-(?:[a-z0-9.\-]*image[a-z0-9.\-]*|nano-banana-[a-z0-9.\-]+)$")


@dataclass(frozen=True, kw_only=True)
class GeminiModel(ModelSpec):
    """A Gemini image model: its pixel sizes per tier (`sizes.Tiers`), and the thinking levels
    it takes (none: `thinking_level` is not offered)."""

    tiers: sizes.Tiers
    thinking_levels: tuple[str, ...] = ()

    @property
    def ratios(self) -> tuple[str, ...]:
        return sizes.ratios_of(self.tiers)


def _model(
    model_id: str,
    description: str,
    tiers: sizes.Tiers,
    max_input_images: int,
    thinking_levels: tuple[str, ...] = (),
) -> GeminiModel:
    params = ["response_modalities"]
    if len(tiers) > 1:
        params.insert(0, "image_size")
    if thinking_levels:
        params.insert(-1, "thinking_level")
    tier_text = "/".join(tiers)
    return GeminiModel(
        id=model_id,
        description=description,
        size_rule=(
            f"one of its pixel sizes ({tier_text} tiers x {len(sizes.ratios_of(tiers))} aspect "
            "ratios); or aspect_ratio with provider_params.image_size"
        ),
        sizes=sizes.all_sizes(tiers),
        aspect_ratios=True,
        images_per_call=1,
        edits=True,
        max_input_images=max_input_images,
        params=tuple(params),
        output_formats=("png",),
        default_output_format="png",
        default_size="1024x1024",  # no size and no input image: 1:1 at 1K (§1.3)
        tiers=tiers,
        thinking_levels=thinking_levels,
    )


MODELS: dict[str, GeminiModel] = {
    "gemini-2.5-flash-image": _model(
        "gemini-2.5-flash-image",
        "Gemini 2.5 Flash Image (Nano Banana), GA 2025-10-02; Google's deprecation table gives "
        "its shutdown as October 2, 2026 (an older copy: earliest October 2026)",
        sizes.FLASH_2_5,
        max_input_images=3,
    ),
    "gemini-3-pro-image": _model(
        "gemini-3-pro-image",
        "Gemini 3 Pro Image (Nano Banana Pro), GA 2026-05-28; a thinking model (1K/2K/4K); "
        "its preview id was shut down 2026-06-25",
        sizes.PRO_3,
        max_input_images=14,
    ),
    "gemini-3.1-flash-image": _model(
        "gemini-3.1-flash-image",
        "Gemini 3.1 Flash Image (Nano Banana 2), GA 2026-05-28; a thinking model with the 512 "
        "tier and 1:4, 4:1, 1:8, 8:1; shutdown 2026-10-29 per a third-party source",
        sizes.FLASH_3_1,
        max_input_images=14,
        thinking_levels=THINKING_LEVELS,
    ),
}


def passthrough_spec(model_id: str) -> GeminiModel | None:
    """A newer Gemini image id (`gemini-*image*`, `gemini-nano-banana-*`), validated like
    2.5 Flash Image (the most conservative spec); None for any other id."""
    if not _PASSTHROUGH.match(model_id):
        return None
    return replace(
        MODELS["gemini-2.5-flash-image"],
        id=model_id,
        description="Gemini image model (passed through; validated like gemini-2.5-flash-image)",
    )


def as_gemini(spec: ModelSpec) -> GeminiModel:
    """A spec this provider handed out, with its Gemini fields; `TypeError` for any other."""
    if not isinstance(spec, GeminiModel):
        raise TypeError(f"{spec.id} is not a Gemini model spec")
    return spec
