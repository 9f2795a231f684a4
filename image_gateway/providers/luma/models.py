"""Luma's Photon models and what each takes.

Source: lumaai-python (Stainless, generated from Luma's OpenAPI) HEAD c00ac17 (2025-10-22),
`types/generations/image_create_params.py`: `model` "photon-1" | "photon-flash-1" (required),
`prompt`, `aspect_ratio` 1:1, 16:9, 9:16, 4:3, 3:4, 21:9, 9:21, `format` "jpg" | "png",
`image_ref` [{url, weight}], `style_ref` [{url, weight}], `character_ref` {identity0: {images:
[url]}}, `modify_image_ref` {url, weight}, `callback_url`, `generation_type` "image", `sync`,
`sync_timeout`. Luma's default ratio is 16:9 (its OpenAPI as Comfy Router republishes it:
`default: "16:9"` [semi-primary]). One image per generation (vercel/ai `luma-image-model.ts`:
`maxImagesPerCall = 1`): `n` fans out. No seed, size, negative prompt, quality or style.

Input images: every reference is a URL Luma fetches itself ("string (uri)"); nothing in the
SDK or the API takes image bytes, and no source says a `data:` URI is read. The gateway does
not publish uploaded images at a URL Luma could reach, so `POST /v1/images/edits` (an upload)
is a 400 saying how to edit instead: `provider_params.modify_image_ref` (or `image_ref`,
`style_ref`, `character_ref`) naming an http(s) URL, on `POST /v1/images/generations`. Those
URLs are checked for their form (http(s), a host name, no credentials) but not fetched by the
gateway. The number of references Luma allows and the weights' range are [UNVERIFIED]: up to 4
per list and 0-1 are checked here; Luma's 400 names anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
FORMATS = {"jpeg": "jpg", "png": "png"}  # the gateway's output_format -> Luma's `format`
REFERENCES = ("image_ref", "style_ref", "character_ref", "modify_image_ref")
MAX_REFERENCES = 4  # [UNVERIFIED] per list


@dataclass(frozen=True, kw_only=True)
class LumaModel(ModelSpec):
    """A Photon model (nothing beyond the common declarations: the type names its specs)."""


def _photon(model_id: str, description: str) -> LumaModel:
    return LumaModel(
        id=model_id,
        description=description,
        size_rule="no free size: aspect_ratio "
        + ", ".join(ASPECT_RATIOS)
        + " (default 16:9); a size is sent as its ratio, which must be one of these",
        aspect_ratios=True,
        images_per_call=1,
        output_formats=("jpeg", "png"),
        default_output_format="jpeg",  # [UNVERIFIED]: Luma's default `format`
        params=REFERENCES,
    )


MODELS: dict[str, LumaModel] = {
    "photon-1": _photon("photon-1", "Luma Photon (one image a generation)"),
    "photon-flash-1": _photon(
        "photon-flash-1", "Luma Photon Flash, faster and cheaper (one image a generation)"
    ),
}

_REF = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "format": "uri", "description": "an http(s) URL Luma fetches"},
        "weight": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["url"],
}
PARAM_SCHEMAS: ParamSchemas = {
    "image_ref": {
        "type": "array",
        "items": _REF,
        "maxItems": MAX_REFERENCES,
        "description": "images to guide the generation",
    },
    "style_ref": {
        "type": "array",
        "items": _REF,
        "maxItems": MAX_REFERENCES,
        "description": "images whose style to follow",
    },
    "character_ref": {
        "type": "object",
        "properties": {
            "identity0": {
                "type": "object",
                "properties": {
                    "images": {
                        "type": "array",
                        "items": {"type": "string", "format": "uri"},
                        "maxItems": MAX_REFERENCES,
                    }
                },
            }
        },
        "description": "a character to keep: {identity0: {images: [URLs]}}",
    },
    "modify_image_ref": {**_REF, "description": "the image to edit (an http(s) URL)"},
}


def as_luma(spec: ModelSpec) -> LumaModel:
    if not isinstance(spec, LumaModel):
        raise TypeError(f"{spec.id} is not a Luma model spec")
    return spec
