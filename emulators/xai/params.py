"""Request validation, xAI's way: a JSON body in, a `Job` (what to make) out, or an `XAIError`.

In the order xAI's server meets them:
1. the body must fit the request type, or it is a plain-text 422 (an unknown field, a missing
   `prompt`, a wrong type: "Failed to deserialize the JSON body into the target type: ...").
   Unknown fields are refused (ddcat-ai/open-ai-canvas #167 [3P]: xAI 422s `output_format`);
2. then its own checks, `{"code", "error"}` answers: `size` and `style` "Argument not
   supported" (docs.crazyrouter.com "Grok Image Models" [3P]), an unknown model (404), `n`
   outside 1-10, edits with no image, more than three (docs.x.ai "Multi-Image Editing"), or a
   grok-2 model; `resolution: "4k"` 503 `model_service_unavailable` (REFERENCE-MORE §7 [3P]).

Where xAI is lenient (REFERENCE-MORE §7 [3P]: "invalid aspect_ratio / resolution /
response_format silently fall back to defaults with 200; reference images sent to /generations
are silently dropped and still billed"), so is this emulator, counting each case in
`stats()["silent_fallbacks"]` / `["dropped_inputs"]`; with `strict` each is a 400 instead. Also
lenient, and strict-refused: `quality` on a model other than grok-imagine-image-2.0 ("other
models currently ignore it", Comfy Router's xAI schema [semi-primary]), aspect ratio or
resolution on grok-2-image (xai-sdk: "only supported for grok-imagine models"), and an edit's
`mask` (in xAI's REST schema, honoured by no documented model [UNVERIFIED]).
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from . import errors as E

MODELS = {
    # id -> family; what each accepts: see emulators/xai/__init__.py
    "grok-imagine-image": "imagine",
    "grok-imagine-image-quality": "imagine",
    "grok-imagine-image-2.0": "imagine",
    "grok-2-image-1212": "grok-2",
}
ALIASES = {
    "grok-imagine-image-pro": "grok-imagine-image-quality",
    "grok-2-image": "grok-2-image-1212",
}
DEFAULT_MODEL = "grok-imagine-image"
ASPECT_RATIOS = {
    "1:1": 1.0,
    "3:4": 3 / 4,
    "4:3": 4 / 3,
    "9:16": 9 / 16,
    "16:9": 16 / 9,
    "2:3": 2 / 3,
    "3:2": 3 / 2,
    "9:19.5": 9 / 19.5,
    "19.5:9": 19.5 / 9,
    "9:20": 9 / 20,
    "20:9": 20 / 9,
    "1:2": 1 / 2,
    "2:1": 2.0,
}
RESOLUTIONS = ("1k", "2k")
QUALITIES = ("low", "medium", "high")  # xAI's REST schema; the SDK sends low | medium
RESPONSE_FORMATS = ("url", "b64_json")
MAX_INPUT_IMAGES = 3

_COMMON = ("prompt", "model", "n", "response_format", "aspect_ratio", "resolution", "quality")
GENERATION_FIELDS = (*_COMMON, "user", "size", "style", "image", "images")
EDIT_FIELDS = (*GENERATION_FIELDS, "mask")
IMAGE_FIELDS = ("url", "type", "detail")
STRINGS = ("prompt", "model", "response_format", "aspect_ratio", "resolution", "quality", "user")


@dataclass
class Job:
    kind: str  # generate | edit
    model: str  # the id, aliases resolved
    asked_model: str  # as sent
    prompt: str
    n: int = 1
    response_format: str = "url"
    aspect_ratio: float | None = None  # None: auto
    resolution: str = "1k"
    quality: str = "medium"
    inputs: list[tuple[int, int]] = field(default_factory=list)  # input images' sizes

    @property
    def family(self) -> str:
        return MODELS[self.model]


class Lenience:
    """What a lenient request had silently replaced or dropped (strict: a 400 instead)."""

    def __init__(self, strict: bool, count: Callable[[str], None]) -> None:
        self.strict, self.count = strict, count

    def fallback(self, message: str) -> None:
        if self.strict:
            raise E.invalid(message)
        self.count("silent_fallbacks")

    def drop(self, message: str) -> None:
        if self.strict:
            raise E.invalid(message)
        self.count("dropped_inputs")


def parse_job(kind: str, body: Any, lenience: Lenience) -> Job:
    """The job a request body asks for (module docstring), or the `XAIError` xAI would answer."""
    fields = EDIT_FIELDS if kind == "edit" else GENERATION_FIELDS
    body = _deserialize(body, fields)
    asked = body.get("model") or DEFAULT_MODEL
    model = ALIASES.get(asked.removesuffix("-beta"), asked.removesuffix("-beta"))
    if model not in MODELS:
        raise E.model_not_found(asked)
    for name in ("size", "style"):
        if body.get(name) is not None:
            raise E.invalid(f"Argument not supported: {name}")
    made = Job(kind, model, asked, body["prompt"])
    if not made.prompt.strip():
        raise E.invalid("prompt must not be empty")  # [wording UNVERIFIED]
    n = body.get("n")
    if n is not None:
        if not 1 <= n <= 10:
            raise E.invalid(f"n must be between 1 and 10, got {n}")  # [wording UNVERIFIED]
        made.n = n
    _options(made, body, lenience)
    if kind == "edit":
        made.inputs = _inputs(made, body, lenience)
    elif body.get("image") is not None or body.get("images") is not None:
        lenience.drop("image inputs are taken by /v1/images/edits")
    return made


def _deserialize(body: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """serde's view of the body: an object of known fields of the right types."""
    if not isinstance(body, dict):
        raise E.deserialize(f"invalid type: {_json_type(body)}, expected struct at line 1 column 1")
    for name in body:
        if name not in fields:
            expected = ", ".join(f"`{f}`" for f in fields)
            raise E.deserialize(f"unknown field `{name}`, expected one of {expected}")
    if "prompt" not in body or body["prompt"] is None:
        raise E.deserialize("missing field `prompt`")
    for name in STRINGS:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise E.deserialize(
                f"{name}: invalid type: {_json_type(body[name])}, expected a string"
            )
    n = body.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise E.deserialize(f"n: invalid type: {_json_type(n)}, expected u32")
    for name in ("image", "mask"):
        if body.get(name) is not None:
            _image_object(body[name], name)
    images = body.get("images")
    if images is not None:
        if not isinstance(images, list):
            raise E.deserialize(f"images: invalid type: {_json_type(images)}, expected a sequence")
        for index, item in enumerate(images):
            _image_object(item, f"images[{index}]")
    return body


def _image_object(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise E.deserialize(f"{where}: invalid type: {_json_type(value)}, expected struct")
    for name in value:
        if name not in IMAGE_FIELDS:
            raise E.deserialize(f"{where}: unknown field `{name}`, expected `url` or `type`")
    if not isinstance(value.get("url"), str):
        raise E.deserialize(f"{where}: missing field `url`")


def _options(job: Job, body: dict[str, Any], lenience: Lenience) -> None:
    fmt = body.get("response_format")
    if fmt is not None:
        if fmt in RESPONSE_FORMATS:
            job.response_format = fmt
        else:
            lenience.fallback(f"response_format must be url or b64_json, got {fmt}")
    imagine = job.family == "imagine"
    ratio = body.get("aspect_ratio")
    if ratio is not None:
        if not imagine:
            lenience.fallback(f"aspect_ratio is not supported by {job.model}")
        elif ratio in ASPECT_RATIOS:
            job.aspect_ratio = ASPECT_RATIOS[ratio]
        elif ratio != "auto":
            lenience.fallback(f"aspect_ratio must be one of {', '.join(ASPECT_RATIOS)} or auto")
    resolution = body.get("resolution")
    if resolution is not None:
        if resolution == "4k":
            raise E.no_4k()
        if not imagine:
            lenience.fallback(f"resolution is not supported by {job.model}")
        elif resolution in RESOLUTIONS:
            job.resolution = resolution
        else:
            lenience.fallback(f"resolution must be 1k or 2k, got {resolution}")
    quality = body.get("quality")
    if quality is not None:
        if job.model != "grok-imagine-image-2.0":
            lenience.fallback(f"quality is not supported by {job.model}")
        elif quality in QUALITIES:
            job.quality = quality
        else:
            lenience.fallback(f"quality must be low or medium, got {quality}")


def _inputs(job: Job, body: dict[str, Any], lenience: Lenience) -> list[tuple[int, int]]:
    """An edit's input images: `image` or `images` (not both), 1-3, each a data URI of an
    image or an http(s) URL (not fetched here: taken as 1024x1024)."""
    if job.family != "imagine":
        raise E.invalid(f"Model {job.model} does not support image editing")  # [UNVERIFIED]
    image, images = body.get("image"), body.get("images")
    if image is not None and images is not None:
        raise E.invalid("Only one of image or images can be set")  # [wording UNVERIFIED]
    given = [image] if image is not None else list(images or [])
    if not given:
        raise E.invalid("An image is required for image editing: set image or images")
    if len(given) > MAX_INPUT_IMAGES:
        raise E.invalid(f"At most {MAX_INPUT_IMAGES} images can be edited together")
    if body.get("mask") is not None:
        lenience.drop("mask is not supported")
    return [_input_size(item["url"], index) for index, item in enumerate(given)]


def _input_size(url: str, index: int) -> tuple[int, int]:
    if url.startswith(("https://", "http://")):
        return (1024, 1024)
    head, sep, data = url.partition(",")
    if not (url.startswith("data:image/") and sep and head.endswith(";base64")):
        raise E.invalid(f"image {index}: expected an image URL or a base64 data URI")
    try:
        raw = base64.b64decode(data, validate=True)
        with Image.open(io.BytesIO(raw)) as img:
            return img.size
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        raise E.invalid(f"image {index}: could not decode the image") from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int | float):
        return f"number `{value}`"
    if isinstance(value, str):
        return f'string "{value[:40]}"'
    if isinstance(value, list):
        return "sequence"
    return "map"
