"""The `vertex-ai` catalogue: Imagen on Vertex AI (`:predict`), as typed `VertexModel`s, and
the Gemini image models (`:generateContent`), the `gemini` provider's `GeminiModel`s as Vertex
serves them (`gemini.py`: JPEG output, `personGeneration`, `prominentPeople`).

Facts (REFERENCE-MORE §1.1, §1.7, §1.8; python-genai `types.py` `GenerateImagesConfig`):

- Imagen 3 and 4 are deprecated "across Google ... both the Gemini Developer API and Agent
  Platform Gemini API (formerly Vertex AI)"; Google's replacements: Imagen 4 Fast and Standard
  -> `gemini-3.1-flash-image`, Ultra -> `gemini-3-pro-image` (FIREBASE migration, §1.1).
- `sampleCount` 1-4 (Ultra: 1), so one call makes up to 4 images (`images_per_call`); the
  gateway fans larger `n` out. `aspectRatio`: 1:1, 3:4, 4:3, 9:16, 16:9.
- `sampleImageSize` 1K/2K on Imagen 4 Standard and Ultra only ("not supported for Imagen 3
  models", `GenerateImagesConfig.image_size`; Fast: 1K only [3P: Gemini API Imagen reference
  JSON, 2026-05]).
- Pixel sizes at 1K: 1024x1024, 896x1280, 1280x896, 768x1408, 1408x768 (Google's Vertex model
  cards for imagen-3.0-generate-001/-002). At 2K each side doubled [UNVERIFIED: not in the
  reference; the image's real size is read from its header whatever Google makes].
- Negative prompts: only imagen-3.0-generate-001, imagen-3.0-fast-generate-001 and
  imagen-3.0-capability-001 take them (Vertex "Omit content using a negative prompt"), so none
  of these models declares `negative_prompt` (a 400 naming it).
- `seed` is not available while `addWatermark` is true, its default (`GenerateImagesConfig.
  seed`): a request with a seed is sent with `addWatermark: false` (`imagen.py`).
- Output `image/png` (default) or `image/jpeg` with `compressionQuality` (`outputOptions`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.gemini.models import PARAM_SCHEMAS as GEMINI_PARAM_SCHEMAS
from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas
from image_gateway.providers.vertex.gemini import MODELS as GEMINI

IMAGEN_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")
# aspect ratio -> (width, height) at 1K (Vertex model cards, module docstring).
IMAGEN_1K: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "3:4": (896, 1280),
    "4:3": (1280, 896),
    "9:16": (768, 1408),
    "16:9": (1408, 768),
}
IMAGEN_PIXELS: dict[str, dict[str, tuple[int, int]]] = {
    "1K": IMAGEN_1K,
    "2K": {ratio: (w * 2, h * 2) for ratio, (w, h) in IMAGEN_1K.items()},  # [UNVERIFIED]
}
# provider_params of every Imagen model, under Vertex's own names (`parameters.*`, and the
# request's top-level `labels`).
IMAGEN_PARAMS = (
    "personGeneration",
    "safetySetting",
    "addWatermark",
    "enhancePrompt",
    "language",
    "labels",
)
# What each takes, on Gemini and Imagen models alike (the values of personGeneration differ
# between them: gemini.CHOICES, imagen.CHOICES; each model checks its own).
PARAM_SCHEMAS: ParamSchemas = {
    "personGeneration": {"type": "string"},
    "prominentPeople": {
        "type": "string",
        "enum": ["ALLOW_PROMINENT_PEOPLE", "BLOCK_PROMINENT_PEOPLE"],
    },
    "safetySetting": {
        "type": "string",
        "enum": ["block_low_and_above", "block_medium_and_above", "block_only_high", "block_none"],
    },
    "addWatermark": {"type": "boolean"},
    "enhancePrompt": {"type": "boolean"},
    "language": {"type": "string", "enum": ["auto", "en", "ja", "ko", "hi", "zh", "pt", "es"]},
    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    **GEMINI_PARAM_SCHEMAS,
}


@dataclass(frozen=True, kw_only=True)
class VertexModel(ModelSpec):
    """A model on Vertex AI: its API (`imagen`: `:predict`) and the `sampleImageSize` tiers it
    takes (`image_sizes`; the first is what it makes when none is asked)."""

    family: Literal["imagen"]
    image_sizes: tuple[str, ...] = ("1K",)

    @property
    def method(self) -> str:
        return "predict"


def _sizes(tiers: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{w}x{h}" for tier in tiers for w, h in IMAGEN_PIXELS[tier].values())


_IMAGEN = VertexModel(
    id="imagen-4.0-generate-001",
    description="Imagen 4 on Vertex AI (deprecated across Google; its replacement: "
    "gemini-3.1-flash-image)",
    size_rule="1K or 2K at 1:1, 3:4, 4:3, 9:16 or 16:9 (exact sizes only), or aspect_ratio",
    sizes=_sizes(("1K", "2K")),
    aspect_ratios=True,
    images_per_call=4,
    seed=True,
    output_formats=("png", "jpeg"),
    output_compression=True,
    params=IMAGEN_PARAMS,
    default_size="1024x1024",
    family="imagen",
    image_sizes=("1K", "2K"),
)

IMAGEN: dict[str, VertexModel] = {
    "imagen-4.0-generate-001": _IMAGEN,
    "imagen-4.0-ultra-generate-001": replace(
        _IMAGEN,
        id="imagen-4.0-ultra-generate-001",
        description="Imagen 4 Ultra on Vertex AI, one image per call (deprecated across Google; "
        "its replacement: gemini-3-pro-image)",
        images_per_call=1,
    ),
    "imagen-4.0-fast-generate-001": replace(
        _IMAGEN,
        id="imagen-4.0-fast-generate-001",
        description="Imagen 4 Fast on Vertex AI (deprecated across Google; its replacement: "
        "gemini-3.1-flash-image)",
        size_rule="1K at 1:1, 3:4, 4:3, 9:16 or 16:9 (exact sizes only), or aspect_ratio",
        sizes=_sizes(("1K",)),
        image_sizes=("1K",),
    ),
    "imagen-3.0-generate-002": replace(
        _IMAGEN,
        id="imagen-3.0-generate-002",
        description="Imagen 3 on Vertex AI (deprecated across Google)",
        size_rule="1K at 1:1, 3:4, 4:3, 9:16 or 16:9 (exact sizes only), or aspect_ratio",
        sizes=_sizes(("1K",)),
        image_sizes=("1K",),
    ),
}


MODELS: dict[str, ModelSpec] = {**IMAGEN, **GEMINI}


def as_vertex(spec: ModelSpec) -> VertexModel:
    """An Imagen spec this provider handed out, with its Vertex fields; TypeError for any
    other."""
    if not isinstance(spec, VertexModel):
        raise TypeError(f"{spec.id} is not a Vertex AI model spec")
    return spec
