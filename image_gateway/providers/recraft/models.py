"""Recraft's raster models and what each accepts.

Sources (RECRAFT-DOCS: recraft.ai `docs/api-reference/...`, read 2026-11-30):
- `models/overview`, `models/recraft-v4-1`, `models/recraft-v4`: the `model` values (names
  ending `_vector` make SVG; `_pro` a 2K raster; `_utility` V4.1 only), `recraftv4_1` the
  default; `agents`: "always pass `model`", unsupported parameters "are rejected or ignored";
- `appendix`: prompt limits (V4 and V4.1 families 10000 characters, V2/V3 1000) and the size
  table: each model takes a size as `WxH` or as its aspect `w:h`, from a closed list per
  family. V4 and V4.1 (standard and utility) share the 1K list, V4 Pro the 2K list (V4.1 Pro
  and Utility Pro are given the same 2K list: the appendix groups V4.1 with V4 [inferred]);
  V2/V3's 15 sizes are the `ImageSize` enum of Recraft's own client (recraft-ai/
  mcp-recraft-server `src/api/models/ImageSize.ts` at c7a1ed6), the aspect of `1707x1024`
  (`10:6`) inferred from its mirror `6:10`;
- `tools/image-to-image`: "Works with Recraft V3, V4, and V4.1", `strength` 0-1 required
  (`ImageToImageRequest` in the same client); `pricing`: inpainting is priced for V3 only, so
  only V3 takes a mask here; `tools/inpainting`: up to 6 images a request (`n`);
- `style` (`ImageStyle` enum: realistic_image, digital_illustration, logo_raster, plus icon and
  vector_illustration, which make SVG), `substyle`, `style_id` and `negative_prompt` work with
  V2/V3 only ("style and negative_prompt work only with V3 models", image-to-image page);
  `random_seed` and `image_format` (png | webp) are fields of the client's
  `GenerateImageRequest`; `controls{colors, background_color, no_text, artistic_level}` of
  every model (REFERENCE-MORE §8, `UserControls`).

Vector models (`*_vector`) are not listed: they answer SVG, which the gateway cannot pass on as
the PNG/JPEG/WebP images its API promises (every image is checked as a raster image), and
rasterising it would sell something Recraft did not make. They are refused as unknown models.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

# Aspect (Recraft's spelling) -> size, per family (RECRAFT-DOCS appendix).
RATIOS_1K = (
    *(("1:1", "1024x1024"), ("2:1", "1536x768"), ("1:2", "768x1536")),
    *(("3:2", "1280x832"), ("2:3", "832x1280"), ("4:3", "1216x896"), ("3:4", "896x1216")),
    *(("5:4", "1152x896"), ("4:5", "896x1152"), ("6:10", "832x1344")),
    *(("14:10", "1280x896"), ("10:14", "896x1280"), ("16:9", "1344x768"), ("9:16", "768x1344")),
)
RATIOS_2K = (
    *(("1:1", "2048x2048"), ("2:1", "3072x1536"), ("1:2", "1536x3072")),
    *(("3:2", "2560x1664"), ("2:3", "1664x2560"), ("4:3", "2432x1792"), ("3:4", "1792x2432")),
    *(("5:4", "2304x1792"), ("4:5", "1792x2304"), ("6:10", "1664x2688")),
    *(("14:10", "2560x1792"), ("10:14", "1792x2560"), ("16:9", "2688x1536")),
    ("9:16", "1536x2688"),
)
RATIOS_V3 = (
    *(("1:1", "1024x1024"), ("2:1", "2048x1024"), ("1:2", "1024x2048")),
    *(("3:2", "1536x1024"), ("2:3", "1024x1536"), ("4:3", "1365x1024"), ("3:4", "1024x1365")),
    *(("5:4", "1280x1024"), ("4:5", "1024x1280"), ("6:10", "1024x1707"), ("10:6", "1707x1024")),
    *(("14:10", "1434x1024"), ("10:14", "1024x1434"), ("16:9", "1820x1024")),
    ("9:16", "1024x1820"),
)

MAX_PER_CALL = 6  # RECRAFT-DOCS tools/inpainting: "Set n to get up to 6 results"
RGB = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}}
PARAM_SCHEMAS: ParamSchemas = {
    "strength": {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "description": "edits (image to image) only, required there: 0 keeps the input image "
        "almost unchanged, 1 keeps almost nothing of it",
    },
    "substyle": {"type": "string", "description": "a substyle of `style` (V2/V3)"},
    "style_id": {"type": "string", "description": "a custom style's id (V2/V3), not with style"},
    "controls": {
        "type": "object",
        "description": "Recraft's controls: colors [{rgb: [r, g, b]}], background_color "
        "{rgb: [r, g, b]}, no_text (boolean), artistic_level (0-5)",
        "properties": {
            "colors": {"type": "array", "items": {"type": "object", "properties": {"rgb": RGB}}},
            "background_color": {"type": "object", "properties": {"rgb": RGB}},
            "no_text": {"type": "boolean"},
            "artistic_level": {"type": "integer", "minimum": 0, "maximum": 5},
        },
    },
}


@dataclass(frozen=True, kw_only=True)
class RecraftModel(ModelSpec):
    """A Recraft raster model: its family ("v4", "v3", "v2"), its aspects and sizes
    (`ratios`: Recraft's `w:h` -> `WxH`) and its prompt limit in characters; `masks` when it
    inpaints."""

    family: Literal["v4", "v3", "v2"]
    ratios: tuple[tuple[str, str], ...]
    max_prompt: int

    def size_for(self, ratio: str) -> str | None:
        """The size of the aspect equal in value to `ratio` ("3:5" is Recraft's "6:10")."""
        want = _value(ratio)
        return next((size for name, size in self.ratios if _value(name) == want), None)

    def aspect_names(self) -> str:
        return ", ".join(name for name, _ in self.ratios)


def _value(ratio: str) -> Fraction:
    width, _, height = ratio.partition(":")
    return Fraction(int(width), int(height))


def _model(
    model_id: str, description: str, ratios: tuple[tuple[str, str], ...], **kw: object
) -> RecraftModel:
    family = kw.pop("family", "v4")
    sizes = tuple(size for _, size in ratios)
    limit = 10000 if family == "v4" else 1000
    return RecraftModel(
        id=model_id,
        description=description,
        size_rule=f"size from Recraft's list ({sizes[0]} by default) or aspect_ratio "
        f"({', '.join(name for name, _ in ratios)}); prompt up to {limit} characters",
        sizes=sizes,
        aspect_ratios=True,
        images_per_call=MAX_PER_CALL,
        edits=family != "v2",
        max_input_images=0 if family == "v2" else 1,
        output_formats=("png", "webp"),
        default_output_format="png",
        default_response_format="url",
        default_size=sizes[0],
        family=family,  # type: ignore[arg-type]
        ratios=ratios,
        max_prompt=limit,
        **kw,  # type: ignore[arg-type]
    )


_V4_PARAMS = ("controls", "strength")
_V4_1 = _model(
    "recraftv4_1", "Recraft V4.1 (Recraft's default model), 1K raster", RATIOS_1K, params=_V4_PARAMS
)
_V3_1K = dict(
    family="v3",
    params=("controls", "substyle", "style_id", "strength"),
    styles=("realistic_image", "digital_illustration", "logo_raster"),
    seed=True,
    negative_prompt=True,
)

MODELS: dict[str, RecraftModel] = {
    "recraftv4_1": _V4_1,
    "recraftv4_1_pro": _model(
        "recraftv4_1_pro", "Recraft V4.1 Pro, 2K raster", RATIOS_2K, params=_V4_PARAMS
    ),
    "recraftv4_1_utility": replace(
        _V4_1,
        id="recraftv4_1_utility",
        description="Recraft V4.1 Utility: flat lighting, simple composition, 1K raster",
    ),
    "recraftv4_1_utility_pro": _model(
        "recraftv4_1_utility_pro",
        "Recraft V4.1 Utility Pro: flat lighting, simple composition, 2K raster",
        RATIOS_2K,
        params=_V4_PARAMS,
    ),
    "recraftv4": replace(_V4_1, id="recraftv4", description="Recraft V4, 1K raster"),
    "recraftv4_pro": _model(
        "recraftv4_pro", "Recraft V4 Pro, 2K raster", RATIOS_2K, params=_V4_PARAMS
    ),
    "recraftv3": _model(
        "recraftv3",
        "Recraft V3 raster: styles, substyles, custom styles; edits with or without a mask",
        RATIOS_V3,
        masks=True,
        **_V3_1K,
    ),
    "recraftv2": _model(
        "recraftv2",
        "Recraft V2 raster: styles and substyles (no edits)",
        RATIOS_V3,
        **{
            **_V3_1K,
            "family": "v2",
            "params": ("controls", "substyle", "style_id"),
            "styles": ("realistic_image", "digital_illustration"),
        },
    ),
}


def as_recraft(spec: ModelSpec) -> RecraftModel:
    """A spec this provider handed out, with its Recraft fields; `TypeError` for any other (a
    bug: specs come from the provider that serves them)."""
    if not isinstance(spec, RecraftModel):
        raise TypeError(f"{spec.id} is not a Recraft model spec")
    return spec
