"""Helpers every adapter uses to read an upstream answer safely."""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Mapping

from image_gateway.errors import UpstreamError
from image_gateway.image_format import describe, what_it_looks_like
from image_gateway.schemas import GeneratedImage
from image_gateway.upstream.retry_after import parse_retry_after
from image_gateway.upstream.retry_after import retry_after_header as http_retry_after_header

_KEYLIKE = re.compile(r"(sk-|bfl_|Bearer\s+)[A-Za-z0-9_\-\.]{3,}", re.IGNORECASE)
# `x-key: ...`, `api_key=...`, `"authorization": "..."`: whatever follows a credential's name.
_NAMED_SECRET = re.compile(
    r"((?:x-key|api[_-]?key|authorization|token|secret|password)[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"',;}]{3,}",
    re.IGNORECASE,
)
_MAX_MESSAGE = 300
_FRAGMENT = 8  # no run of this many characters of a secret may survive


def provider_message(text: object, secrets: list[str]) -> str:
    """A provider's error text made safe to show: secrets (whole, or any 8-character piece of
    one, e.g. a provider echoing a truncated key) and key-like tokens removed, then trimmed."""
    message = str(text) if text is not None else ""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    message = _KEYLIKE.sub(r"\1[redacted]", message)
    message = _NAMED_SECRET.sub(r"\1[redacted]", message)
    for secret in secrets:
        if secret:
            message = _scrub_fragments(message, secret)
    message = " ".join(message.split())  # no CR/LF: one log line, one header-safe string
    return message[:_MAX_MESSAGE]


def rejected(provider: str, status: int, message: str) -> str:
    """The message of a provider's refusal (a 400), with its own (safe) text when it gave one;
    an answer that is no error JSON (an HTML page from a proxy, say) still says what happened."""
    if message:
        return f"{provider} rejected the request: {message}"
    return f"{provider} rejected the request (HTTP {status}) without saying why"


def _scrub_fragments(message: str, secret: str) -> str:
    if len(secret) < _FRAGMENT or len(message) < _FRAGMENT:
        return message
    pieces = {secret[i : i + _FRAGMENT] for i in range(len(secret) - _FRAGMENT + 1)}
    if not any(piece in message for piece in pieces):
        return message
    for piece in sorted(pieces, key=len, reverse=True):
        message = message.replace(piece, "[redacted]")
    return message


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms`, then `retry-after` (seconds or HTTP date); None when absent or garbage."""
    return parse_retry_after(headers, time.time())


def retry_after_header(seconds: float | None) -> dict[str, str]:
    return http_retry_after_header(seconds)


def decode_b64_image(value: object, provider: str) -> bytes:
    if not isinstance(value, str):
        raise UpstreamError(f"{provider} returned an image without data", provider=provider)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamError(
            f"{provider} returned invalid base64 image data", provider=provider
        ) from None


def check_images(images: list[GeneratedImage], provider: str) -> None:
    """Vouch for a provider's output before it is answered or stored: each image must be a PNG,
    JPEG or WebP whose header gives its dimensions (its first bytes; nothing is decoded). Sets
    each image's `content_type` (from its magic, whatever the provider claimed) and `size`.

    Anything else — an HTML error page, SVG, JSON, a file cut short — is an `UpstreamError`
    (502, `invalid_image_output`) that says the provider has probably charged for it: the call
    succeeded as far as the provider is concerned, so it is never re-sent (`billed_unknown`)."""
    for index, image in enumerate(images):
        info = describe(image.data)
        if info is None:
            raise UpstreamError(
                f"{provider} answered with something that is not an image "
                f"(image {index}: {what_it_looks_like(image.data)}); nothing was kept or "
                "returned, but the provider has probably charged for it",
                code="invalid_image_output",
                provider=provider,
                billed_unknown=True,
            )
        image.content_type, image.size = info.mime, info.size
