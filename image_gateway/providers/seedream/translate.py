"""Ark Images API translations, pure: a task to the JSON body of `POST /api/v3/images/
generations`, an answer to images, and what Ark's error codes mean.

Request (ARK-PY `resources/images/images.py`): `model`, `prompt`, `response_format` (`url` |
`b64_json`), `size` (`models.py`: "WxH", a shorthand "2K", or SeedEdit's "adaptive"), `seed`
and `guidance_scale` (3.0 models), `watermark`, `output_format` (5.0 lite), and the input
images of an edit as `image`: one data URI (`data:image/png;base64,...`) as a string, several as
a list (the SDK's `str | list[str]`). The SDK's other fields (`optimize_prompt_options`,
`sequential_image_generation`, `tools`, `layer_decomposition`, `stream`) are not sent; Ark's
defaults for them make one image, which is what a call here asks.

Answer (ARK-PY `types/images/images.py` `ImagesResponse`): `{"model", "created_at", "data":
[{"url" | "b64_json", "size": "WxH", "output_format"}], "usage": {"input_images",
"generated_images", "output_tokens", "total_tokens"}, "error": {"code", "message"}}`.
Third-party examples show `created` instead of `created_at` (REFERENCE-MORE §8, [UNVERIFIED]):
neither is needed, so either (or none) is accepted. Empty `url` / `b64_json` strings (the SDK
types both as present) count as absent. A failure may come inside a 200: a top-level `error`
without images, or a `data` entry that is `{"error": {...}}` (a group image that failed,
what Ark's stream calls `image_generation.partial_failed` [3P]); a moderation code there is
`ContentPolicyViolation`, anything else an `UpstreamError`, both after the call was taken.

Error codes (docs.byteplus.com ModelArk 1299023 "Common Error Codes", bodies `{"error":
{"code", "message", "param", "type"}}`): `*SensitiveContentDetected*` (input text, input
image, output image; `.SevereViolation`, `.Violence`, `.PrivacyInformation` suffixes),
`*RiskDetection`, `PolicyViolation` are moderation (400); `AccountOverdueError` (403) and
`QuotaExceeded`, `SetLimitExceeded` (429: a used-up free quota or the account's own
inference limit) are quota, not rate limits; `RateLimitExceeded.*` and `ServerOverloaded`
(429) are rate limits; `AuthenticationError` (401), `InvalidEndpoint.NotFound` and
`ModelNotOpen` (404) are the status table's.
"""

from __future__ import annotations

import math
from typing import Any

import pybase64

from image_gateway.errors import ContentPolicyViolation, UpstreamError
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sizing import dims_for_aspect, ratio_value
from image_gateway.providers.kit.sync import Answer
from image_gateway.providers.openai import translate as openai_translate
from image_gateway.providers.seedream.models import RESOLUTION_SIDES, SeedreamModel
from image_gateway.schemas import ImageTask, InputImage

SIZE_MULTIPLE = 16
QUOTA_CODES = ("AccountOverdueError", "QuotaExceeded", "SetLimitExceeded")
_MODERATION_WORDS = ("SensitiveContent", "RiskDetection", "PolicyViolation", "PrivacyInformation")


def is_moderation(code: str | None) -> bool:
    """Whether Ark's error `code` is a moderation refusal (module docstring)."""
    return code is not None and any(word in code for word in _MODERATION_WORDS)


def is_quota(code: str | None) -> bool:
    return code is not None and code.split(".")[0] in QUOTA_CODES


def wire_size(task: ImageTask, spec: SeedreamModel) -> str | None:
    """Ark's `size` for the task (validated): SeedEdit's "adaptive"; the size asked ("WxH");
    an aspect ratio as the "WxH" of about the resolution's area (sides multiples of 16, within
    the model's range); a resolution alone as its shorthand; None for Ark's default."""
    if spec.family == "3-edit":
        return "adaptive"
    if task.size is not None:
        return f"{task.size[0]}x{task.size[1]}"
    resolution = task.params.get("resolution")
    if task.aspect_ratio is not None:
        width, height = size_for_aspect(task.aspect_ratio, resolution or spec.default_resolution)
        width, height = fit_to_model((width, height), spec)
        return f"{width}x{height}"
    return resolution if isinstance(resolution, str) else None


def size_for_aspect(ratio: str, resolution: str) -> tuple[int, int]:
    """About the area of `resolution`'s square at `ratio`, sides multiples of 16."""
    side = RESOLUTION_SIDES[resolution]
    return dims_for_aspect(ratio, megapixels=side * side / 1_000_000, multiple=SIZE_MULTIPLE)


def fit_to_model(size: tuple[int, int], spec: SeedreamModel) -> tuple[int, int]:
    """`size` nudged into the model's range: 3.0 t2i's sides, or 4.x's pixel count."""
    width, height = size
    if spec.side_range != (0, 0):
        low, high = spec.side_range
        scale = min(1.0, high / max(width, height))
        scale = max(scale, low / min(width, height))
        width, height = (_multiple(v * scale, low, high) for v in (width, height))
        return width, height
    low, high = spec.pixel_range
    pixels = width * height
    if low <= pixels <= high:
        return width, height
    scale = math.sqrt((low if pixels < low else high) / pixels)
    rounding = math.ceil if pixels < low else math.floor
    width, height = (
        max(SIZE_MULTIPLE, rounding(v * scale / SIZE_MULTIPLE) * SIZE_MULTIPLE)
        for v in (width, height)
    )
    return width, height


def _multiple(value: float, low: int, high: int) -> int:
    return min(high, max(low, round(value / SIZE_MULTIPLE) * SIZE_MULTIPLE))


def check_size(size: tuple[int, int], spec: SeedreamModel) -> str | None:
    """Why Ark would refuse this "WxH" for the model, or None when it is in range."""
    width, height = size
    if spec.side_range != (0, 0):
        low, high = spec.side_range
        if not (low <= width <= high and low <= height <= high):
            return f"each side must be {low}-{high} pixels"
        return None
    low, high = spec.pixel_range
    if not low <= width * height <= high:
        return f"it must have {low:,} to {high:,} pixels"
    if not 1 / 16 <= ratio_value(f"{width}:{height}") <= 16:
        return "its aspect ratio must be within 1:16 to 16:1"
    return None


def to_vendor(task: ImageTask, spec: SeedreamModel, response_format: str) -> dict[str, Any]:
    """The JSON body of one call making one image (validation left only what the model
    honours)."""
    body: dict[str, Any] = {
        "model": spec.id,
        "prompt": task.prompt,
        "response_format": response_format,
    }
    size = wire_size(task, spec)
    if size is not None:
        body["size"] = size
    if task.seed is not None:
        body["seed"] = task.seed
    for name in ("guidance_scale", "watermark"):
        if name in task.params:
            body[name] = task.params[name]
    if task.output_format is not None and len(spec.output_formats) > 1:
        body["output_format"] = task.output_format
    if task.is_edit:
        images = [data_uri(image) for image in task.images]
        body["image"] = images[0] if len(images) == 1 else images
    return body


def data_uri(image: InputImage) -> str:
    """An input image as Ark takes base64: `data:image/<format>;base64,<data>`."""
    return f"data:{image.content_type};base64,{pybase64.b64encode(image.data).decode('ascii')}"


def from_vendor(payload: Any, provider: str, secrets: list[str]) -> Answer:
    """Images from a 2xx answer (module docstring): `ContentPolicyViolation` or `UpstreamError`
    for a failure reported with HTTP 200; `UpstreamError` for an answer without images."""
    if not isinstance(payload, dict):
        raise UpstreamError(
            f"{provider} returned an answer that is not an object", provider=provider
        )
    items = payload.get("data")
    failures = (
        [
            i["error"]
            for i in items or ()
            if isinstance(i, dict) and isinstance(i.get("error"), dict)
        ]
        if isinstance(items, list)
        else []
    )
    error = payload.get("error")
    if (
        isinstance(error, dict)
        and (error.get("code") or error.get("message"))
        and not _usable(items)
    ):
        failures.insert(0, error)
    if failures:
        raise failure(failures[0], len(failures), provider, secrets)
    if isinstance(items, list):
        payload = {"data": [_plain(item) for item in items]}
    return openai_translate.from_vendor(payload, provider)


def failure(
    error: dict[str, Any], count: int, provider: str, secrets: list[str]
) -> ContentPolicyViolation | UpstreamError:
    """The error for a failure Ark reported inside a 200 answer."""
    code = error.get("code") if isinstance(error.get("code"), str) else None
    message = provider_message(error.get("message"), secrets)
    what = f" ({code})" if code and provider_message(code, secrets) == code else ""
    if is_moderation(code):
        return ContentPolicyViolation(
            f"{provider}'s moderation refused {count} image{'s' if count > 1 else ''}{what}"
            + (f": {message}" if message else ""),
            code="content_policy_violation",
            provider=provider,
        )
    return UpstreamError(
        f"{provider} failed to generate the image{what}" + (f": {message}" if message else ""),
        provider=provider,
    )


def _usable(items: Any) -> bool:
    return isinstance(items, list) and any(
        isinstance(i, dict) and (i.get("url") or i.get("b64_json")) for i in items
    )


def _plain(item: Any) -> Any:
    """An entry as the OpenAI translation reads it: empty `url` / `b64_json` left out."""
    if not isinstance(item, dict):
        return item
    return {k: v for k, v in item.items() if k in ("url", "b64_json") and v not in ("", None)}
