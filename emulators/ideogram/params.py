"""Request validation as Ideogram does it (REFERENCE §3.5, REFERENCE-MORE §8; IDEO-DOCS): a
multipart form in, a `Job` (what to render) out, or an `IdeogramError` 400 naming the field.

Endpoints and their fields (`FIELDS`). Unknown fields are ignored ([UNVERIFIED]: Ideogram does
not say), or refused in strict mode. A `resolution` beside an `aspect_ratio` wins (Ideogram:
"resolution overrides aspect ratio"; `silent_overrides` counts it), refused in strict mode.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from .errors import IdeogramError, bad_request

# Ideogram's own lists (REFERENCE §3.5, REFERENCE-MORE §8), kept here apart from the gateway's:
# the emulator checks the gateway, it does not share its tables.
MAX_SEED = 2_147_483_647
MAGIC_PROMPT = ("AUTO", "ON", "OFF")
STYLE_TYPES = ("AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION")
RATIOS_V3 = (
    *("1x3", "3x1", "1x2", "2x1", "9x16", "16x9", "10x16", "16x10"),
    *("2x3", "3x2", "3x4", "4x3", "4x5", "5x4", "1x1"),
)
RESOLUTIONS_V3 = tuple(
    dict.fromkeys(
        f"{w}x{h}"
        for w, h in (
            *((512, 1536), (576, 1408), (576, 1472), (576, 1536), (640, 1344), (640, 1408)),
            *((640, 1472), (640, 1536), (704, 1152), (704, 1216), (704, 1280), (704, 1344)),
            *((704, 1408), (704, 1472), (736, 1312), (768, 1088), (768, 1216), (768, 1280)),
            *((768, 1344), (800, 1280), (832, 960), (832, 1024), (832, 1088), (832, 1152)),
            *((832, 1216), (832, 1248), (864, 1152), (896, 960), (896, 1024), (896, 1088)),
            *((896, 1120), (896, 1152), (960, 1024), (960, 1088), (1024, 1024)),
        )
        for w, h in ((w, h), (h, w))
    )
)
RESOLUTIONS_V4 = (
    *("2048x2048", "1440x2880", "2880x1440", "1664x2496", "2496x1664", "1792x2240"),
    *("2240x1792", "1440x2560", "2560x1440", "1600x2560", "2560x1600", "1728x2304"),
    *("2304x1728", "1296x3168", "3168x1296", "1152x2944", "2944x1152", "1248x3328"),
    *("3328x1248", "1280x3072", "3072x1280", "1024x1024"),
)
SPEEDS = {"v3": ("FLASH", "TURBO", "DEFAULT", "QUALITY"), "v4": ("DEFAULT", "TURBO", "QUALITY")}
_V3_STYLE = ("magic_prompt", "style_type", "style_codes", "color_palette", "style_preset")
_V3_COMMON = ("prompt", "seed", "rendering_speed", "num_images", *_V3_STYLE)
FIELDS: dict[str, tuple[str, ...]] = {
    "v3/generate": (*_V3_COMMON, "resolution", "aspect_ratio", "negative_prompt"),
    "v3/remix": (
        *_V3_COMMON,
        "image",
        "image_weight",
        "resolution",
        "aspect_ratio",
        "negative_prompt",
    ),
    "v3/edit": (*_V3_COMMON, "image", "mask"),
    "v3/inpaint": (*_V3_COMMON, "image", "mask"),
    "v4/generate": ("text_prompt", "json_prompt", "rendering_speed", "resolution", "seed"),
    "v4/remix": ("text_prompt", "image", "image_weight", "rendering_speed", "seed"),
}
FILES = ("image", "mask")


@dataclass
class Upload:
    data: bytes
    size: tuple[int, int]
    mode: str = ""


@dataclass
class Job:
    endpoint: str
    prompt: str
    n: int
    width: int
    height: int
    seed: int | None
    style_type: str


def upload(data: bytes) -> Upload:
    try:
        with Image.open(io.BytesIO(data)) as img:
            return Upload(data, img.size, img.mode)
    except (UnidentifiedImageError, OSError):
        return Upload(data, (0, 0))


def parse_job(
    endpoint: str, values: dict[str, Any], strict: bool, count: Callable[[str], None]
) -> Job:
    known = FIELDS[endpoint]
    unknown = [name for name in values if name not in known]
    if unknown and strict:
        raise bad_request(f"Unrecognized field: {unknown[0]}")
    version = endpoint.partition("/")[0]
    prompt = _text(values, "text_prompt" if version == "v4" else "prompt")
    if version == "v4" and endpoint.endswith("generate") and "json_prompt" in values:
        if prompt:
            raise bad_request("Supply exactly one of text_prompt or json_prompt")
        prompt = str(values["json_prompt"])
    if not prompt:
        raise bad_request(f"{'text_prompt' if version == 'v4' else 'prompt'}: field required")
    speed = values.get("rendering_speed", "DEFAULT")
    if speed not in SPEEDS[version]:
        raise bad_request(f"rendering_speed: must be one of {', '.join(SPEEDS[version])}")
    seed = _int(values, "seed", 0, MAX_SEED)
    n = _int(values, "num_images", 1, 8) or 1
    _int(values, "image_weight", 1, 100)
    for name, allowed in (("magic_prompt", MAGIC_PROMPT), ("style_type", STYLE_TYPES)):
        if name in values and values[name] not in allowed:
            raise bad_request(f"{name}: must be one of {', '.join(allowed)}")
    width, height = _size(endpoint, values, strict, count)
    return Job(endpoint, prompt, n, width, height, seed, str(values.get("style_type", "AUTO")))


def _size(
    endpoint: str, values: dict[str, Any], strict: bool, count: Callable[[str], None]
) -> tuple[int, int]:
    version, _, call = endpoint.partition("/")
    image = values.get("image")
    source = (0, 0)
    if call != "generate":
        if not isinstance(image, Upload):
            raise bad_request("image: field required")
        source = image.size
        if source == (0, 0):
            raise bad_request("image: only JPEG, WebP and PNG formats are supported")
    if call in ("edit", "inpaint"):
        mask = values.get("mask")
        if not isinstance(mask, Upload):
            raise bad_request("mask: field required")
        if mask.size != source:
            raise bad_request("mask: must be the same size as the image being edited")
        if mask.mode not in ("1", "L", "RGB", "P"):
            raise bad_request("mask: must be a black and white image")
        return source
    resolution, ratio = values.get("resolution"), values.get("aspect_ratio")
    listed = RESOLUTIONS_V3 if version == "v3" else RESOLUTIONS_V4
    if resolution is not None and resolution not in listed:
        raise bad_request(f"resolution: {resolution} is not a supported resolution")
    if ratio is not None and ratio not in RATIOS_V3:
        raise bad_request(f"aspect_ratio: must be one of {', '.join(RATIOS_V3)}")
    if resolution is not None and ratio is not None:
        if strict:
            raise bad_request("resolution: cannot be combined with aspect_ratio")
        count("silent_overrides")
    if resolution is not None:
        width, _, height = resolution.partition("x")
        return int(width), int(height)
    if ratio is not None:
        return _closest(ratio)
    if call == "remix":
        return source
    return (1024, 1024) if version == "v3" else (2048, 2048)


def _closest(ratio: str) -> tuple[int, int]:
    """The listed 3.0 resolution nearest `ratio` ("16x9") with the most pixels up to 1 MP."""
    w, _, h = ratio.partition("x")
    target = int(w) / int(h)

    def key(size: str) -> tuple[float, int]:
        sw, _, sh = size.partition("x")
        return (abs(math.log(int(sw) / int(sh) / target)), -int(sw) * int(sh))

    width, _, height = min(RESOLUTIONS_V3, key=key).partition("x")
    return int(width), int(height)


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int(values: dict[str, Any], name: str, low: int, high: int) -> int | None:
    if name not in values:
        return None
    try:
        number = int(str(values[name]))
    except ValueError:
        raise bad_request(f"{name}: must be an integer") from None
    if not low <= number <= high:
        raise bad_request(f"{name}: must be between {low} and {high}")
    return number


__all__ = ["FIELDS", "FILES", "IdeogramError", "Job", "Upload", "parse_job", "upload"]
