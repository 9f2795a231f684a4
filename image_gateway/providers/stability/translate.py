"""Stability translations, pure: a task to the form of one call, its answer to images, its
error bodies to details (REFERENCE-MORE §2; STAB-OAS).

Request: `multipart/form-data` even without a file (a JSON body is a 400 "content-type: must
be multipart/form-data", §2.1), numbers as text; the fields of each endpoint are in
`models.py`. The input image goes as the file part `image`, a mask as `mask` (white = edit).

Answer (§2.3), read whichever `accept` was sent:
- `application/json`: `{"image": <base64>, "finish_reason": "SUCCESS" | "CONTENT_FILTERED",
  "seed": <int>}`;
- `image/*`: the image's bytes, with `finish-reason` and `seed` headers.
`CONTENT_FILTERED` is an HTTP 200 whose image Stability blurred: `ContentPolicyViolation`
(the blurred image is not returned). Stability charges for it ([UNVERIFIED], §2.3), which the
message says; any other finish reason (v1's `ERROR`) is an `UpstreamError`.

Errors (§2.4): `{"id", "name", "errors": ["<field>: <message>", ...]}`, or for a 401 v1's
`{"id", "name", "message"}` (which of the two v2beta sends is [UNVERIFIED]: both are read).
`name` is passed on as the code; a message starting `<field>:` names that field.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

import pybase64

from image_gateway.errors import ContentPolicyViolation, UpstreamError
from image_gateway.providers.kit.errors import ErrorDetail, safe_token
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sizing import aspect_of, ratio_value
from image_gateway.providers.kit.sync import Answer
from image_gateway.providers.stability.models import StabilityModel
from image_gateway.schemas import GeneratedImage, ImageTask, ProviderResult
from image_gateway.upstream.client import FormPart

PROVIDER = "stability"
SUCCESS, FILTERED = "SUCCESS", "CONTENT_FILTERED"
MODERATION_NAMES = ("content_moderation", "public_figure")
# Stability's 429 (§2.4): 150 requests in 10 s, then "timed out for 60 seconds".
LOCKOUT_SECONDS = 60.0
_TIMED_OUT = re.compile(r"timed out for (\d+) seconds", re.IGNORECASE)
# Stability's field names that are the gateway's under another name.
_GATEWAY_FIELDS = {"image": "image", "mask": "mask", "prompt": "prompt"}
_FIELD = re.compile(r"^([a-z_\[\]0-9-]{1,40}):\s")


# --- requests --------------------------------------------------------------------------------


def size_ratio(size: tuple[int, int], ratios: tuple[str, ...]) -> str | None:
    """The listed aspect ratio a size has (within 1%), else None."""
    ratio = aspect_of(size)
    if ratio in ratios and abs(ratio_value(ratio) - size[0] / size[1]) <= 0.01 * ratio_value(ratio):
        return ratio
    return None


def wire_ratio(task: ImageTask, ratios: tuple[str, ...]) -> str | None:
    """The `aspect_ratio` sent: the task's, else its size's (already checked by the adapter)."""
    if task.aspect_ratio is not None:
        return task.aspect_ratio
    return None if task.size is None else size_ratio(task.size, ratios)


def to_vendor(task: ImageTask, model: StabilityModel, ratios: tuple[str, ...]) -> dict[str, Any]:
    """The text fields of one call (the files are `form_files`'s)."""
    fields: dict[str, Any] = {}
    if model.takes_prompt:
        fields["prompt"] = task.prompt
    if model.kind == "generate":
        if model.sd3_model is not None:
            fields["model"] = model.sd3_model
            if task.is_edit:
                fields["mode"] = "image-to-image"
        if not (task.is_edit and model.sd3_model is not None):  # sd3 i2i follows the image
            fields["aspect_ratio"] = wire_ratio(task, ratios)
    fields["negative_prompt"] = task.negative_prompt
    fields["seed"] = task.seed
    fields["output_format"] = task.output_format
    for name in model.params:  # Stability's own fields, under its names
        fields[name] = task.params.get(name)
    return fields


def form_files(task: ImageTask, mask: bytes | None) -> list[FormPart]:
    """The input image as `image`, and the mask (already Stability's) as `mask`."""
    parts = [FormPart("image", img.data, img.filename, img.content_type) for img in task.images]
    if mask is not None:
        parts.append(FormPart("mask", mask, "mask.png", "image/png"))
    return parts


# --- answers ---------------------------------------------------------------------------------


def from_json(payload: Any, secrets: list[str]) -> Answer:
    """An `accept: application/json` answer (module docstring)."""
    if not isinstance(payload, dict):
        raise UpstreamError(f"{PROVIDER} returned a malformed answer", provider=PROVIDER)
    check_finish(payload.get("finish_reason"), secrets)
    data = _b64(payload.get("image"))
    return _answer(data, payload.get("seed"), payload["image"])


def from_image(body: bytes, headers: Any, secrets: list[str]) -> Answer:
    """An `accept: image/*` answer: the bytes, `finish-reason` and `seed` from the headers."""
    check_finish(headers.get("finish-reason"), secrets)
    if not body:
        raise UpstreamError(f"{PROVIDER} returned an empty image", provider=PROVIDER)
    return _answer(body, headers.get("seed"), None)


def check_finish(reason: Any, secrets: list[str]) -> None:
    """A finish reason other than SUCCESS: `ContentPolicyViolation` for CONTENT_FILTERED (a
    blurred image, charged [UNVERIFIED]), `UpstreamError` for anything else. A missing one is
    taken as SUCCESS (the image is still checked by the dispatcher)."""
    if reason is None or reason == SUCCESS:
        return
    if reason == FILTERED:
        raise ContentPolicyViolation(
            f"{PROVIDER}'s content moderation filtered the image it made (finish_reason "
            "CONTENT_FILTERED: Stability returns it blurred, and may have charged for it); "
            "nothing was returned",
            code="content_policy_violation",
            provider=PROVIDER,
        )
    raise UpstreamError(
        f"{PROVIDER} finished without an image (finish_reason "
        f"{provider_message(reason, secrets)[:40]})",
        provider=PROVIDER,
    )


def _b64(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise UpstreamError(f"{PROVIDER} returned an answer without an image", provider=PROVIDER)
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        return pybase64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamError(
            f"{PROVIDER} returned invalid base64 image data", provider=PROVIDER
        ) from None


def _answer(data: bytes, seed: Any, b64: str | None) -> Answer:
    image = GeneratedImage(data, "image/png", seed=_seed(seed))
    if b64 is not None and not b64.startswith("data:"):
        image.b64 = b64
    return Answer(ProviderResult(images=[image]))


def _seed(value: Any) -> int | None:
    """The seed: a number in JSON, a string in the `seed` header."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# --- errors ----------------------------------------------------------------------------------


def error_detail(payload: Any, secrets: list[str]) -> ErrorDetail | None:
    """What `{id, name, errors}` (or v1's `{id, name, message}`) says; None for another shape."""
    if not isinstance(payload, dict) or not isinstance(payload.get("name"), str):
        return None
    errors = payload.get("errors")
    texts = [e for e in errors if isinstance(e, str)] if isinstance(errors, list) else []
    if not texts and isinstance(payload.get("message"), str):
        texts = [payload["message"]]
    message = provider_message("; ".join(texts), secrets)
    return ErrorDetail(message, safe_token(payload["name"], secrets), field_named(texts))


def field_named(texts: list[str]) -> str | None:
    """The request field the first message names (`"aspect_ratio: must be one of ..."`), in the
    gateway's terms: a common field as is, Stability's own fields as `provider_params.<name>`;
    None when it names none (`body: payloads cannot be larger than 10MiB`)."""
    for text in texts:
        found = _FIELD.match(text)
        if found is None:
            continue
        name = found[1]
        if name in ("aspect_ratio", "seed", "negative_prompt", "output_format", *_GATEWAY_FIELDS):
            return name
        if name in ("content-type", "body", "authorization", "accept"):
            return None
        return f"provider_params.{name}"
    return None


def lockout_seconds(detail: ErrorDetail) -> float:
    """The wait a 429 asks for: "timed out for N seconds" in its text, else Stability's 60."""
    found = _TIMED_OUT.search(detail.message)
    return float(found[1]) if found else LOCKOUT_SECONDS
