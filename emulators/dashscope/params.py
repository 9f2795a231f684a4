"""Request validation, DashScope's way: the JSON body of an image-synthesis submission in, a
`Job` (what to make) out, or a 400 `InvalidParameter` (`errors.py`).

Per model (facts and sources: `image_gateway/providers/dashscope/models.py`):
- text2image: wan2.2-t2i-flash, -plus, wanx2.1-t2i-turbo, -plus (each side 512-1440, default
  1024*1024), wan2.5-t2i-preview (768*768 to 1440*1440 pixels, aspect 1:4..4:1, default
  1280*1280), qwen-image, -plus (five sizes, default 1328*1328, `n` 1);
- image2image: wan2.5-i2i-preview (`input.images` 1-3; size optional, else the first
  image's area at 1280*1280), wanx2.1-imageedit (`input.function`, `base_image_url`,
  `mask_image_url` of the image's size for `description_edit_with_mask`, the only function
  that reads it: with any other it is left unread, like an unknown field).
`n` 1-4 (default 4), `seed` 0-2147483647, `prompt_extend` and `watermark` booleans; images as
http(s) URLs or `data:image/...;base64,` strings.

A model on the other task's URL is a 400 "url error". Unknown `parameters` are ignored, as
DashScope does (counted in `stats()["ignored"]`), and so is a `mask_image_url` no function
reads; `strict` refuses them.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from . import errors as E

T2I, I2I = "text2image", "image2image"
MODELS: dict[str, dict[str, Any]] = {
    "wan2.2-t2i-flash": {"task": T2I, "mode": "sides", "sync": True},
    "wan2.2-t2i-plus": {"task": T2I, "mode": "sides", "sync": True},
    "wanx2.1-t2i-turbo": {"task": T2I, "mode": "sides"},
    "wanx2.1-t2i-plus": {"task": T2I, "mode": "sides"},
    "wan2.5-t2i-preview": {"task": T2I, "mode": "pixels"},
    "qwen-image": {"task": T2I, "mode": "fixed", "max_n": 1},
    "qwen-image-plus": {"task": T2I, "mode": "fixed", "max_n": 1},
    "wan2.5-i2i-preview": {"task": I2I, "mode": "pixels", "edit": "images"},
    "wanx2.1-imageedit": {"task": I2I, "mode": "none", "edit": "function"},
}
QWEN_SIZES = ((1664, 928), (1472, 1140), (1328, 1328), (1140, 1472), (928, 1664))
FUNCTIONS = (
    *("description_edit", "description_edit_with_mask", "stylization_all", "stylization_local"),
    *("remove_watermark", "expand", "super_resolution", "colorization", "doodle"),
)
PARAMETERS = ("size", "n", "seed", "prompt_extend", "watermark", "strength")
INPUTS = ("prompt", "negative_prompt", "images", "function", "base_image_url", "mask_image_url")
SIZE = re.compile(r"^(\d{2,5})\*(\d{2,5})$")


@dataclass
class Job:
    model: str
    prompt: str
    n: int
    width: int
    height: int
    sync: bool = False  # the model answers a synchronous call
    inputs: list[tuple[int, int]] = field(default_factory=list)


def parse_job(task: str, body: Any, strict: bool, ignored: Callable[[str], None]) -> Job:
    if not isinstance(body, dict):
        raise E.invalid("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise E.invalid("Field required: model")
    spec = MODELS.get(model)
    if spec is None:
        raise E.invalid("Model not exist.")
    if spec["task"] != task:
        raise E.wrong_url()
    source = body.get("input")
    if not isinstance(source, dict):
        raise E.invalid("Field required: input")
    prompt = source.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise E.invalid("Field required: input.prompt")
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        raise E.invalid("parameters must be an object")
    unread = [*(k for k in parameters if k not in PARAMETERS), *_unknown(body, source, spec)]
    for name in unread:
        if strict:
            raise E.invalid(f"Unrecognized parameter: {name}")
        ignored(name)
    n = _number(parameters, "n", 1, spec.get("max_n", 4), default=4)
    _number(parameters, "seed", 0, 2_147_483_647)
    for name in ("prompt_extend", "watermark"):
        if name in parameters and not isinstance(parameters[name], bool):
            raise E.invalid(f"parameters.{name} must be a boolean")
    inputs = _inputs(source, spec)
    width, height = _size(parameters.get("size"), spec, inputs)
    return Job(model, prompt, n, width, height, bool(spec.get("sync")), inputs)


def _unknown(body: dict[str, Any], source: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    top = [k for k in body if k not in ("model", "input", "parameters")]
    unread = top + [f"input.{k}" for k in source if k not in INPUTS]
    if spec.get("edit") == "function" and "mask_image_url" in source:
        if source.get("function") != "description_edit_with_mask":
            unread.append("input.mask_image_url")
    return unread


def _number(parameters: dict[str, Any], name: str, low: int, high: int, default: int = 0) -> int:
    value = parameters.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise E.invalid(f"parameters.{name} must be an integer in [{low}, {high}]")
    return value


def _inputs(source: dict[str, Any], spec: dict[str, Any]) -> list[tuple[int, int]]:
    edit = spec.get("edit")
    if edit == "images":
        images = source.get("images")
        if not isinstance(images, list) or not 1 <= len(images) <= 3:
            raise E.invalid("input.images must be a list of 1 to 3 images")
        return [_image_size(item, "input.images") for item in images]
    if edit == "function":
        function = source.get("function")
        if function not in FUNCTIONS:
            raise E.invalid(f"input.function must be one of {', '.join(FUNCTIONS)}")
        base = _image_size(source.get("base_image_url"), "input.base_image_url")
        if function == "description_edit_with_mask":
            mask = _image_size(source.get("mask_image_url"), "input.mask_image_url")
            if mask != base:
                raise E.invalid("The mask image must have the same resolution as the base image.")
        return [base]
    for name in ("images", "base_image_url", "mask_image_url", "function"):
        if name in source:
            raise E.invalid(f"input.{name} is not supported by this model")
    return []


def _image_size(item: Any, name: str) -> tuple[int, int]:
    if not isinstance(item, str) or not item:
        raise E.invalid(f"Field required: {name}")
    if item.startswith(("http://", "https://")):
        return 1024, 1024
    head, sep, data = item.partition(",")
    if not sep or not re.fullmatch(r"data:image/[a-z]+;base64", head):
        raise E.invalid(f"{name}: an image must be a URL or data:image/<format>;base64,<data>")
    try:
        with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as img:
            return img.size
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        raise E.invalid(f"{name}: the image could not be decoded") from None


def _size(value: Any, spec: dict[str, Any], inputs: list[tuple[int, int]]) -> tuple[int, int]:
    mode = spec["mode"]
    if mode == "none":
        if value is not None:
            raise E.invalid("parameters.size is not supported by this model")
        return inputs[0]
    if value is None:
        if inputs:  # wan2.5-i2i: the first image's shape at the default area
            w, h = inputs[0]
            scale = math.sqrt(1280 * 1280 / (w * h))
            return max(16, round(w * scale / 16) * 16), max(16, round(h * scale / 16) * 16)
        return {"sides": (1024, 1024), "pixels": (1280, 1280), "fixed": (1328, 1328)}[mode]
    match = SIZE.match(value) if isinstance(value, str) else None
    if match is None:
        raise E.invalid("parameters.size must be width*height, such as 1024*1024")
    width, height = int(match[1]), int(match[2])
    if mode == "sides" and not (512 <= width <= 1440 and 512 <= height <= 1440):
        raise E.invalid("The size is not match: width and height must be in [512, 1440].")
    if mode == "fixed" and (width, height) not in QWEN_SIZES:
        allowed = ", ".join(f"{w}*{h}" for w, h in QWEN_SIZES)
        raise E.invalid(f"The size is not match the allowed size [{allowed}].")
    if mode == "pixels" and not (
        768 * 768 <= width * height <= 1440 * 1440 and 0.25 <= width / height <= 4
    ):
        raise E.invalid(
            "The size is not match: total pixels must be in [768*768, 1440*1440] and the "
            "aspect ratio in [1:4, 4:1]."
        )
    return width, height
