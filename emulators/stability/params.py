"""Request validation as Stability does it (REFERENCE-MORE §2.2, §2.5; STAB-OAS): a multipart
form in, a `Job` (what to render) out, or a `StabilityError` 400 whose message starts with the
field (`"aspect_ratio: must be one of ..."`).

Endpoints and their fields (`FIELDS`); unknown fields are ignored, or refused in strict mode.
SD3.0 model ids (`sd3-large`, ...) are silently served as 3.5 (§2.2, since 2025-04-17);
`silent_reroutes` counts them.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from .errors import StabilityError, bad_request

ASPECT_RATIOS = ("21:9", "16:9", "3:2", "5:4", "1:1", "4:5", "2:3", "9:16", "9:21")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
STYLE_PRESETS = (
    *("enhance", "anime", "photographic", "digital-art", "comic-book", "fantasy-art"),
    *("line-art", "analog-film", "neon-punk", "isometric", "low-poly", "origami"),
    *("modeling-compound", "cinematic", "3d-model", "pixel-art", "tile-texture"),
)
SD3_MODELS = {  # model -> credits
    "sd3.5-large": 6.5,
    "sd3.5-large-turbo": 4.0,
    "sd3.5-medium": 3.5,
    "sd3.5-flash": 2.5,
}
SD3_REROUTED = {
    "sd3-large": "sd3.5-large",
    "sd3-large-turbo": "sd3.5-large-turbo",
    "sd3-medium": "sd3.5-medium",
}
MAX_SEED = 4_294_967_294
SIDES = ("left", "right", "up", "down")

_COMMON = ("seed", "output_format")
FIELDS: dict[str, tuple[str, ...]] = {
    "ultra": (
        "prompt",
        "negative_prompt",
        "aspect_ratio",
        "image",
        "strength",
        "style_preset",
        *_COMMON,
    ),
    "core": ("prompt", "negative_prompt", "aspect_ratio", "style_preset", *_COMMON),
    "sd3": (
        "prompt",
        "negative_prompt",
        "aspect_ratio",
        "mode",
        "image",
        "strength",
        "model",
        "style_preset",
        "cfg_scale",
        *_COMMON,
    ),
    "inpaint": (
        "image",
        "prompt",
        "negative_prompt",
        "mask",
        "grow_mask",
        "style_preset",
        *_COMMON,
    ),
    "erase": ("image", "mask", "grow_mask", *_COMMON),
    "outpaint": ("image", *SIDES, "creativity", "prompt", *_COMMON),
    "search-and-replace": (
        "image",
        "prompt",
        "search_prompt",
        "negative_prompt",
        "grow_mask",
        *_COMMON,
    ),
}
CREDITS = {
    "ultra": 8.0,
    "core": 3.0,
    "inpaint": 3.0,
    "erase": 5.0,
    "outpaint": 4.0,
    "search-and-replace": 4.0,
}
MEGAPIXELS = {"ultra": 1.0, "core": 1.5, "sd3": 1.0}


@dataclass
class Job:
    service: str  # a FIELDS key
    prompt: str
    width: int
    height: int
    output_format: str
    seed: int
    credits: float
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Upload:
    data: bytes
    size: tuple[int, int]


def parse_job(
    service: str, form: dict[str, Any], strict: bool, count: Callable[[str], None]
) -> Job:
    """The job a form asks for (module docstring); `form` maps names to str or `Upload`."""
    allowed = FIELDS[service]
    if strict:
        for name in form:
            if name not in allowed:
                raise bad_request(f"{name}: is not a valid field for this endpoint")
    prompt = _text(form, "prompt", required="prompt" in allowed and service != "erase")
    if len(prompt) > 10000:
        raise bad_request("prompt: must be at most 10000 characters")
    if len(_text(form, "negative_prompt")) > 10000:
        raise bad_request("negative_prompt: must be at most 10000 characters")
    output_format = _choice(form, "output_format", OUTPUT_FORMATS) or "png"
    seed = _number(form, "seed", 0, MAX_SEED, integer=True)
    _choice(form, "style_preset", STYLE_PRESETS)
    credits = CREDITS.get(service, 0.0)
    image = _image(form, "image", required=service not in ("ultra", "core", "sd3"))
    if service == "core" and "image" in form:
        raise bad_request("image: is not accepted by this endpoint")
    if service == "sd3":
        model = _text(form, "model") or "sd3.5-large"
        if model in SD3_REROUTED:
            count("silent_reroutes")
            model = SD3_REROUTED[model]
        if model not in SD3_MODELS:
            raise bad_request(f"model: must be one of {', '.join(SD3_MODELS)}")
        credits = SD3_MODELS[model]
        mode = _choice(form, "mode", ("text-to-image", "image-to-image")) or "text-to-image"
        if mode == "image-to-image" and image is None:
            raise bad_request("image: is required when mode is image-to-image")
        if mode == "text-to-image" and image is not None:
            raise bad_request("image: is not accepted when mode is text-to-image")
        _number(form, "cfg_scale", 1, 10)
    if service in ("ultra", "sd3") and image is not None:
        if "strength" not in form:
            raise bad_request("strength: is required when image is provided")
        _number(form, "strength", 0, 1)
    _choice(form, "aspect_ratio", ASPECT_RATIOS)
    width, height = _size(service, form, image)
    if service in ("inpaint", "search-and-replace"):
        _number(form, "grow_mask", 0, 100, integer=True)
    if service == "erase":
        _number(form, "grow_mask", 0, 20, integer=True)
    if service in ("inpaint", "erase"):
        _image(form, "mask", required=False, minimum=1)
    if service == "search-and-replace" and not _text(form, "search_prompt"):
        raise bad_request("search_prompt: is required")
    if service == "outpaint":
        added = [_number(form, side, 0, 2000, integer=True) for side in SIDES]
        if not any(added):
            raise bad_request("left: at least one of left, right, up or down must be non-zero")
        _number(form, "creativity", 0, 1)
        width, height = width + added[0] + added[1], height + added[2] + added[3]
    return Job(service, prompt, width, height, output_format, seed, credits)


def _text(form: dict[str, Any], name: str, required: bool = False) -> str:
    value = form.get(name)
    if isinstance(value, Upload):
        raise bad_request(f"{name}: must be a string")
    if value is None or value == "":
        if required:
            raise bad_request(f"{name}: is required")
        return ""
    return str(value)


def _choice(form: dict[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    value = _text(form, name)
    if not value:
        return None
    if value not in choices:
        raise bad_request(f"{name}: must be one of {', '.join(choices)}")
    return value


def _number(form: dict[str, Any], name: str, low: float, high: float, integer: bool = False) -> int:
    text = _text(form, name)
    if not text:
        return 0
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise bad_request(f"{name}: must be {'an integer' if integer else 'a number'}") from None
    if not low <= value <= high:
        raise bad_request(f"{name}: must be between {low:g} and {high:g}")
    return int(value)


def _image(form: dict[str, Any], name: str, required: bool, minimum: int = 64) -> Upload | None:
    value = form.get(name)
    if value is None:
        if required:
            raise bad_request(f"{name}: is required")
        return None
    if not isinstance(value, Upload):
        raise bad_request(f"{name}: must be a file")
    width, height = value.size
    if min(width, height) < minimum or (minimum > 1 and width * height < 4096):
        raise bad_request(
            f"{name}: width and height must be at least 64 pixels and the image at least "
            f"4096 pixels (got {width}x{height})"
        )
    return value


def _size(service: str, form: dict[str, Any], image: Upload | None) -> tuple[int, int]:
    """The output's size: the input image's for an edit or image-to-image, else the aspect
    ratio at the endpoint's megapixels (multiples of 64)."""
    if image is not None:
        return image.size
    ratio = _text(form, "aspect_ratio") or "1:1"
    w, h = (int(part) for part in ratio.split(":"))
    pixels = MEGAPIXELS.get(service, 1.0) * 1024 * 1024
    height = (pixels * h / w) ** 0.5
    return max(64, round(height * w / h / 64) * 64), max(64, round(height / 64) * 64)


def upload(data: bytes) -> Upload:
    """A file part as an `Upload`; a 400 naming `image` when it is no image."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return Upload(data, img.size)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise bad_request("image: could not be decoded as an image") from None


__all__ = ["Job", "StabilityError", "Upload", "parse_job", "upload"]
