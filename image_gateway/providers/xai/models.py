"""xAI image models and what each accepts, and the other ids xAI answers to.

Sources:
- xai-org/xai-sdk-python HEAD 4dab6a4 (2026-08-18): `types/model.py` (`ImageGenerationModel`:
  grok-imagine-image, grok-imagine-image-2.0, grok-imagine-image-quality), `types/image.py`
  (the 13 aspect ratios, `resolution` "1k" | "2k", `quality` "low" | "medium"), the
  `image.sample` docstring in `sync/image.py` (aspect ratio, resolution and input images "only
  supported for grok-imagine models"; `quality` "only supported for grok-imagine-image-2.0",
  default "medium"; 1k ~1 megapixel, 2k ~4 megapixels), `CHANGELOG.md` (grok-imagine-image-pro
  is "an alias of grok-imagine-image-quality"; the grok-2-image ids left the SDK's list);
- REFERENCE-MORE §7: n 1-10, no `size` or `style`, `-pro` deprecated 2026-05-15 for
  `-quality`, `-beta` ids alias their GA models, JPEG output;
- docs.x.ai "Multi-Image Editing" (2026-05-26): up to three source images per edit.

The gateway's `aspect_ratio` takes integer terms, so xAI's `9:19.5` and `19.5:9` are asked for
as `6:13` and `13:6` (any equal ratio works: `18:39`); xAI's `auto` (its default) is asked for
by leaving `aspect_ratio` out (`translate.wire_aspect_ratio`). `resolution` is
`provider_params.resolution` ("1k" or "2k"; "1K"/"2K" are lowercased). xAI has no seed, mask,
size, style or background, and makes JPEG only: each of those fields (another output format) is
a 400 naming it.

Aliases (`canonical`): `grok-imagine-image-pro` is sent as `grok-imagine-image-quality`, which xAI
made it an alias of when deprecating it, so requests naming it keep working whether or not xAI
still answers to the old id; `<id>-beta` is sent as `<id>`; `grok-2-image` as
`grok-2-image-1212`. Aliases are accepted, not listed: `/v1/providers` shows the ids xAI serves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

# xAI's aspect ratios, as it spells them (xai-sdk `types/image.py`), besides `auto`.
ASPECT_RATIOS = (
    *("1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2"),
    *("9:19.5", "19.5:9", "9:20", "20:9", "1:2", "2:1"),
)
RESOLUTIONS = ("1k", "2k")  # ~1 and ~4 megapixels (xai-sdk `image.sample` docstring)
PARAM_SCHEMAS: ParamSchemas = {"resolution": {"type": "string", "enum": list(RESOLUTIONS)}}
MAX_INPUT_IMAGES = 3  # docs.x.ai "Multi-Image Editing": up to three source images


@dataclass(frozen=True, kw_only=True)
class XAIModel(ModelSpec):
    """An xAI image model: `family` "imagine" (Grok Imagine: aspect ratio, resolution, edits)
    or "grok-2" (the legacy grok-2-image: a prompt and `n` only)."""

    family: Literal["imagine", "grok-2"]


_IMAGINE = XAIModel(
    id="grok-imagine-image",
    description="xAI Grok Imagine (xAI's default image model)",
    size_rule=(
        "no size: aspect_ratio 1:1, 3:4, 4:3, 9:16, 16:9, 2:3, 3:2, 9:20, 20:9, 1:2, 2:1, "
        "6:13 (xAI's 9:19.5) or 13:6 (19.5:9), left out for xAI's auto; "
        "provider_params.resolution 1k (default, ~1 MP) or 2k (~4 MP)"
    ),
    aspect_ratios=True,
    images_per_call=10,
    edits=True,
    max_input_images=MAX_INPUT_IMAGES,
    params=("resolution",),
    output_formats=("jpeg",),
    default_output_format="jpeg",
    default_response_format="url",
    family="imagine",
)

MODELS: dict[str, XAIModel] = {
    "grok-imagine-image": _IMAGINE,
    "grok-imagine-image-quality": replace(
        _IMAGINE,
        id="grok-imagine-image-quality",
        description="xAI Grok Imagine, quality model (grok-imagine-image-pro's successor)",
    ),
    "grok-imagine-image-2.0": replace(
        _IMAGINE,
        id="grok-imagine-image-2.0",
        description="xAI Grok Imagine 2.0; quality low or medium (default) is its price tier",
        qualities=("low", "medium"),
        default_quality="medium",
    ),
    "grok-2-image-1212": XAIModel(
        id="grok-2-image-1212",
        description="xAI grok-2-image (legacy: no aspect ratio, resolution or edits)",
        size_rule="no size or aspect ratio: the model decides",
        images_per_call=10,
        output_formats=("jpeg",),
        default_output_format="jpeg",
        default_response_format="url",
        family="grok-2",
    ),
}

ALIASES = {
    "grok-imagine-image-pro": "grok-imagine-image-quality",
    "grok-2-image": "grok-2-image-1212",
}


def canonical(model_id: str) -> str | None:
    """The id of `MODELS` a model id stands for (itself, an alias, or `<id>-beta`), or None."""
    name = model_id.removesuffix("-beta")
    name = ALIASES.get(name, name)
    return name if name in MODELS else None


def as_xai(spec: ModelSpec) -> XAIModel:
    """A spec this provider handed out, with its xAI fields; `TypeError` for any other (a bug:
    specs come from the provider that serves them)."""
    if not isinstance(spec, XAIModel):
        raise TypeError(f"{spec.id} is not an xAI model spec")
    return spec
