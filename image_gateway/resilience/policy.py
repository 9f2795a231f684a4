"""The retry policy, pure: which failures are retried, after how long, and when to give up.

Nothing here sleeps, reads the clock or draws random numbers on its own: callers pass `now`,
the time left before the request's deadline, and a `random.Random`, so every rule is testable
with fixed values. The runner (`runner.py`) is the only caller.

Rules (after openai-python's `_base_client` and Envoy's router):
- Only errors marked `retryable` are retried: connection failures before anything was sent,
  408/409/429/5xx answers that say the request was not taken. An answer after the provider
  accepted a paid job (a BFL task id, an OpenAI 200) is never re-sent.
- A provider's hint (`retry-after-ms`, then `Retry-After` in seconds or as an HTTP date) is
  honoured when it fits: the wait is at least the hint. A hint longer than `max_wait` or than
  the time left is not waited out: the request fails at once, carrying a Retry-After.
- Without a hint: exponential backoff `base * 2**(attempt-1)` capped at `max_backoff`, with
  jitter drawn from [75 %, 100 %] of it.
- Never more than `max_attempts` tries per candidate, never past the deadline.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from image_gateway.errors import ProviderError

MAX_ADVERTISED_RETRY_AFTER = 3600  # seconds: the most the gateway ever tells a client to wait
JITTER_LOW = 0.75


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 3  # tries per candidate, the first included
    base: float = 0.5  # seconds before the first retry (before jitter)
    max_backoff: float = 8.0
    max_wait: float = 20.0  # the longest provider hint worth waiting for


@dataclass(frozen=True, slots=True)
class Decision:
    retry: bool
    delay: float = 0.0
    reason: str = ""
    # When giving up on a rate limit: how long the client should wait (the gateway's own value).
    advise_after: float | None = None


def backoff(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Jittered exponential delay before try `attempt + 1` (attempt counts from 1)."""
    ceiling = min(policy.max_backoff, policy.base * 2 ** max(0, attempt - 1))
    return float(ceiling * rng.uniform(JITTER_LOW, 1.0))


def decide(
    policy: RetryPolicy,
    error: ProviderError,
    attempt: int,
    remaining: float,
    rng: random.Random,
) -> Decision:
    """Whether to try the same candidate again after `error` on try number `attempt`."""
    hint = error.retry_after
    if not error.retryable:
        return Decision(False, reason="not_retryable", advise_after=hint)
    if attempt >= policy.max_attempts:
        return Decision(False, reason="attempts_exhausted", advise_after=_advice(hint, policy))
    if hint is not None and hint > policy.max_wait:
        return Decision(False, reason="hint_too_long", advise_after=hint)
    delay = backoff(policy, attempt, rng)
    if hint is not None:
        delay = max(delay, hint)
    if delay >= remaining:
        return Decision(False, reason="deadline", advise_after=hint if hint is not None else delay)
    return Decision(True, delay=delay, reason=error.code or "retryable")


def _advice(hint: float | None, policy: RetryPolicy) -> float:
    return hint if hint is not None else max(1.0, policy.base)


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
