"""Request validation, Ark's way: the JSON body of `POST /api/v3/images/generations` in, a
`Job` (what to make) out, or an `ArkError` (400 `InvalidParameter` / `MissingParameter`
naming the field, 404 for an unknown model).

Per model (the facts and their sources: `image_gateway/providers/seedream/models.py`):

- seedream-5-0-260128: 2K, 3K, 4K or WxH of 3,686,400-16,777,216 pixels; `output_format`
  jpeg or png; `image` 1-14;
- seedream-4-5-251128: 2K, 4K or WxH of 3,686,400-16,777,216 pixels; `image` 1-14;
- seedream-4-0-250828: 1K, 2K, 4K or WxH of 921,600-16,777,216 pixels; `image` 1-14;
- seedream-3-0-t2i-250415: WxH, sides 512-2048; `seed`, `guidance_scale`; no `image`;
- seededit-3-0-i2i-250628: `size` adaptive; one `image` required; `seed`, `guidance_scale`.

Aspect ratios of a WxH within 1/16..16; `doubao-` ids (Volcengine's names) too. Where Ark is
lenient — a field it does not know, `seed` / `guidance_scale` on a 4.x model, `output_format`
on another model than 5.0 lite, all silently ignored [UNVERIFIED reading of its docs: "only
... supports this parameter"] — so is this emulator, counting each in `stats()["ignored"]`;
with `strict` each is a 400 instead.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from . import errors as E

MODELS: dict[str, dict[str, Any]] = {
    "seedream-5-0-260128": {
        "family": "4",
        "shorthand": ("2K", "3K", "4K"),
        "pixels": (3_686_400, 16_777_216),
        "formats": ("jpeg", "png"),
    },
    "seedream-4-5-251128": {
        "family": "4",
        "shorthand": ("2K", "4K"),
        "pixels": (3_686_400, 16_777_216),
    },
    "seedream-4-0-250828": {
        "family": "4",
        "shorthand": ("1K", "2K", "4K"),
        "pixels": (921_600, 16_777_216),
    },
    "seedream-3-0-t2i-250415": {"family": "3-t2i", "sides": (512, 2048)},
    "seededit-3-0-i2i-250628": {"family": "3-edit"},
}
SIDES = {"1K": 1024, "2K": 2048, "3K": 3072, "4K": 4096}
FIELDS = (
    *("model", "prompt", "image", "response_format", "size", "seed", "guidance_scale"),
    *("watermark", "optimize_prompt", "optimize_prompt_options", "sequential_image_generation"),
    *("sequential_image_generation_options", "tools", "output_format", "stream"),
)
MAX_IMAGES = 14
WXH = re.compile(r"^(\d{2,5})[xX*](\d{2,5})$")


@dataclass
class Job:
    model: str
    family: str
    prompt: str
    width: int
    height: int
    response_format: str = "url"
    output_format: str = "jpeg"
    inputs: list[tuple[int, int]] = field(default_factory=list)
    watermark: bool = True


def parse_job(body: Any, strict: bool, ignored: Callable[[str], None]) -> Job:
    if not isinstance(body, dict):
        raise E.invalid("body", "the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise E.missing("model")
    spec = MODELS.get(model.removeprefix("doubao-"))
    if spec is None:
        raise E.model_not_found(model)
    unknown = [name for name in body if name not in FIELDS]
    if unknown:
        _lenient(strict, ignored, unknown[0], "it is not a parameter of this API")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise E.missing("prompt")
    response_format = body.get("response_format", "url")
    if response_format not in ("url", "b64_json"):
        raise E.invalid("response_format", "it must be url or b64_json")
    family = spec["family"]
    for name in ("seed", "guidance_scale"):
        if name in body and family == "4":
            _lenient(strict, ignored, name, f"{model} does not support it")
    _check_numbers(body)
    watermark = body.get("watermark", True)
    if not isinstance(watermark, bool):
        raise E.invalid("watermark", "it must be a boolean")
    output_format = body.get("output_format", "jpeg")
    if "output_format" in body:
        if "formats" not in spec:
            _lenient(strict, ignored, "output_format", f"{model} does not support it")
            output_format = "jpeg"
        elif output_format not in spec["formats"]:
            raise E.invalid("output_format", "it must be jpeg or png")
    inputs = _inputs(body.get("image"), family, model)
    width, height = _size(body.get("size"), spec, inputs, model)
    return Job(
        model, family, prompt, width, height, response_format, output_format, inputs, watermark
    )


def _lenient(strict: bool, ignored: Callable[[str], None], name: str, why: str) -> None:
    if strict:
        raise E.invalid(name, why)
    ignored(name)


def _check_numbers(body: dict[str, Any]) -> None:
    seed = body.get("seed")
    if "seed" in body and (
        isinstance(seed, bool) or not isinstance(seed, int) or not -1 <= seed <= 2_147_483_647
    ):
        raise E.invalid("seed", "it must be an integer from -1 to 2147483647")
    scale = body.get("guidance_scale")
    if "guidance_scale" in body and (
        isinstance(scale, bool) or not isinstance(scale, int | float) or not 1 <= scale <= 10
    ):
        raise E.invalid("guidance_scale", "it must be a number from 1 to 10")


def _inputs(value: Any, family: str, model: str) -> list[tuple[int, int]]:
    """The input images' sizes (data URIs decoded; an http(s) URL counts as 1024x1024)."""
    if value is None:
        if family == "3-edit":
            raise E.missing("image")
        return []
    if family == "3-t2i":
        raise E.invalid("image", f"{model} does not support image input")
    images = value if isinstance(value, list) else [value]
    limit = 1 if family == "3-edit" else MAX_IMAGES
    if not images or len(images) > limit:
        raise E.invalid("image", f"it takes 1 to {limit} images")
    return [_image_size(item) for item in images]


def _image_size(item: Any) -> tuple[int, int]:
    if not isinstance(item, str):
        raise E.invalid("image", "each image must be a URL or a base64 data URI")
    if item.startswith(("http://", "https://")):
        return 1024, 1024
    head, sep, data = item.partition(",")
    if not sep or not re.fullmatch(r"data:image/[a-z]+;base64", head):
        raise E.invalid("image", "a base64 image must be data:image/<format>;base64,<data>")
    try:
        with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as img:
            return img.size
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        raise E.invalid("image", "the image could not be decoded") from None


def _size(
    value: Any, spec: dict[str, Any], inputs: list[tuple[int, int]], model: str
) -> tuple[int, int]:
    family = spec["family"]
    if family == "3-edit":
        if value not in (None, "adaptive"):
            raise E.invalid("size", f"{model} only supports adaptive")
        return inputs[0]
    if value is None:
        return (1024, 1024) if family == "3-t2i" else (2048, 2048)
    if not isinstance(value, str):
        raise E.invalid("size", "it must be a string")
    if value in SIDES:
        if value not in spec.get("shorthand", ()):
            raise E.invalid("size", f"{model} does not support {value}")
        return SIDES[value], SIDES[value]
    match = WXH.match(value)
    if match is None:
        raise E.invalid("size", "it must be a resolution such as 2K or WIDTHxHEIGHT")
    width, height = int(match[1]), int(match[2])
    if family == "3-t2i":
        low, high = spec["sides"]
        if not (low <= width <= high and low <= height <= high):
            raise E.invalid("size", f"width and height must be in [{low}, {high}]")
        return width, height
    low, high = spec["pixels"]
    if not low <= width * height <= high:
        raise E.invalid("size", f"the total pixels must be in [{low}, {high}]")
    if not 1 / 16 <= width / height <= 16:
        raise E.invalid("size", "the aspect ratio must be in [1/16, 16]")
    return width, height
