"""What Together's `POST /v1/images/generations` accepts, checked as the emulator's job.

Fields (Together's OpenAPI, together-py `image_generate_params.py`): `model`, `prompt` (both
required), `steps`, `image_url`, `seed`, `n`, `height`, `width`, `negative_prompt`,
`response_format` (`base64` | `url`), `guidance_scale`, `output_format` (`jpeg` | `png`),
`image_loras`, `reference_images`, `disable_safety_checker`. An unknown field is ignored (the
SDKs pass extra keyword arguments through) unless strict, which refuses it with a 400.

Limits [UNVERIFIED], the same as the gateway's reading (`providers/together/models.py`):
sides 64-1792, `n` 1-4, `steps` 1-12 for schnell and 1-50 otherwise; `image_url` only for
Kontext models, a `data:` URI of an image or an http(s) URL (not fetched).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from . import errors as E

FIELDS = (
    "model",
    "prompt",
    "steps",
    "image_url",
    "seed",
    "n",
    "height",
    "width",
    "negative_prompt",
    "response_format",
    "guidance_scale",
    "output_format",
    "image_loras",
    "reference_images",
    "disable_safety_checker",
)
MODELS = (
    "black-forest-labs/FLUX.1-schnell-Free",
    "black-forest-labs/FLUX.1-schnell",
    "black-forest-labs/FLUX.1-dev",
    "black-forest-labs/FLUX.1-pro",
    "black-forest-labs/FLUX.1.1-pro",
    "black-forest-labs/FLUX.1-kontext-pro",
    "black-forest-labs/FLUX.1-kontext-max",
    "black-forest-labs/FLUX.1-kontext-dev",
)
FLUX = re.compile(r"^black-forest-labs/FLUX[\w.\-]*$", re.IGNORECASE)
MIN_SIDE, MAX_SIDE, MAX_N = 64, 1792, 4


@dataclass
class Job:
    model: str
    prompt: str
    n: int = 1
    width: int = 1024
    height: int = 1024
    output_format: str = "jpeg"
    response_format: str = "url"
    seed: int | None = None
    edit: bool = False


def parse_job(body: Any, strict: bool) -> Job:
    """The job a request body asks for, or the `TogetherError` Together would answer."""
    if not isinstance(body, dict):
        raise E.invalid("Request body must be a JSON object")
    if strict:
        unknown = [name for name in body if name not in FIELDS]
        if unknown:
            raise E.invalid(f"Unknown parameter: {unknown[0][:60]}", param=unknown[0][:60])
    model, prompt = body.get("model"), body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise E.invalid("prompt is required and must be a non-empty string", param="prompt")
    if not isinstance(model, str) or not model:
        raise E.invalid("model is required", param="model")
    if model not in MODELS and not FLUX.match(model):
        raise E.model_not_found(model)
    job = Job(model, prompt)
    job.n = _integer(body, "n", 1, MAX_N, job.n)
    job.width = _integer(body, "width", MIN_SIDE, MAX_SIDE, job.width)
    job.height = _integer(body, "height", MIN_SIDE, MAX_SIDE, job.height)
    max_steps = 12 if "schnell" in model.lower() else 50
    _integer(body, "steps", 1, max_steps, 0)
    if body.get("seed") is not None:
        job.seed = _integer(body, "seed", 0, 2**32 - 1, 0)
    job.output_format = _choice(body, "output_format", ("jpeg", "png"), job.output_format)
    job.response_format = _choice(body, "response_format", ("base64", "url"), job.response_format)
    scale = body.get("guidance_scale")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float)):
        raise E.invalid("guidance_scale must be a number", param="guidance_scale")
    safety = body.get("disable_safety_checker")
    if safety is not None and not isinstance(safety, bool):
        raise E.invalid("disable_safety_checker must be a boolean", param="disable_safety_checker")
    image_url = body.get("image_url")
    if image_url is not None:
        if "kontext" not in model.lower():
            raise E.invalid(f"image_url is not supported by model {model}", param="image_url")
        _check_image(image_url)
        job.edit = True
    return job


def _integer(body: dict[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise E.invalid(f"{name} must be an integer", param=name)
    if not low <= value <= high:
        raise E.invalid(f"{name} must be between {low} and {high}, got {value}", param=name)
    return value


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise E.invalid(f"{name} must be one of {', '.join(allowed)}", param=name)
    return str(value)


def _check_image(url: Any) -> None:
    if not isinstance(url, str):
        raise E.invalid("image_url must be a string", param="image_url")
    if url.startswith(("https://", "http://")):
        return
    head, sep, data = url.partition(",")
    if not (url.startswith("data:image/") and sep and head.endswith(";base64")):
        raise E.invalid("image_url must be an image URL or a base64 data URI", param="image_url")
    try:
        with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as img:
            img.verify()
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        raise E.invalid("image_url could not be decoded as an image", param="image_url") from None
