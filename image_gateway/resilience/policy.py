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
  the time left is not waited out: the request fails at once, carrying a Retry-After
  (`upstream/retry_after.py` reads and writes the header).
- Without a hint: exponential backoff `base * 2**(attempt-1)` capped at `max_backoff`, with
  jitter drawn from [75 %, 100 %] of it.
- Never more than `max_attempts` tries per candidate, never past the deadline.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from image_gateway.errors import ProviderError

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
