"""`Retry-After`, as providers send it and as the gateway sends it: HTTP's header semantics,
pure, shared by the adapters (reading a provider's hint) and resilience (deciding, and telling
a client how long to wait).

`parse_retry_after()` reads OpenAI's `retry-after-ms` first, then `Retry-After` in seconds or
as an HTTP date (RFC 9110 §10.2.3); `retry_after_header()` writes whole seconds, at least 1 and
at most `MAX_ADVERTISED_RETRY_AFTER`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

MAX_ADVERTISED_RETRY_AFTER = 3600  # seconds: the most the gateway ever tells a client to wait


def retry_after_header(seconds: float | None) -> dict[str, str]:
    """A `Retry-After` header in whole seconds (at least 1, at most an hour), or none."""
    if seconds is None or not math.isfinite(seconds):
        return {}
    value = min(MAX_ADVERTISED_RETRY_AFTER, max(1, math.ceil(seconds)))
    return {"Retry-After": str(value)}


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from `retry-after-ms`, else `retry-after` (seconds or an HTTP date,
    relative to `now`, a Unix time). None when absent, garbage, NaN or infinite."""
    value = headers.get("retry-after-ms")
    if value:
        seconds = _number(value)
        if seconds is not None:
            return seconds / 1000
    value = headers.get("retry-after")
    if not value:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT ("-0000" parses as naive)
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return max(0.0, value)
