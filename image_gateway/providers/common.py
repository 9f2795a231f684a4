"""Helpers every adapter uses to read an upstream answer safely."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from ..errors import UpstreamError

_KEYLIKE = re.compile(r"(sk-|bfl_|Bearer\s+)[A-Za-z0-9_\-\.]{3,}", re.IGNORECASE)
_MAX_MESSAGE = 300


def provider_message(text: object, secrets: list[str]) -> str:
    """A provider's error text made safe to show: secrets and key-like tokens removed, trimmed."""
    message = str(text) if text is not None else ""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    message = _KEYLIKE.sub(r"\1[redacted]", message)
    message = " ".join(message.split())  # no CR/LF: one log line, one header-safe string
    return message[:_MAX_MESSAGE]


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms`, then `retry-after` (seconds or HTTP date); None when absent or garbage."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retry_after_header(seconds: float | None) -> dict[str, str]:
    return {} if seconds is None else {"Retry-After": str(max(1, round(seconds)))}


def decode_b64_image(value: object, provider: str) -> bytes:
    if not isinstance(value, str):
        raise UpstreamError(f"{provider} returned an image without data", provider=provider)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamError(
            f"{provider} returned invalid base64 image data", provider=provider
        ) from None


def sniff_image_type(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
