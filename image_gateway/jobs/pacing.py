"""When a client polling a job should ask again: the `Retry-After` of a queued or running job's
answers (the `202` that created it and `GET /v1/jobs/{id}`), as RFC 9110 lets a `202`'s
status monitor say, and as HTTP clients that poll a long-running operation honour.

A poll sooner than that learns nothing new often enough to pay for itself: the job only changes
as its worker hears from the provider, and a job that has run for a while will likely run a while
more. So the wait is half the job's age (since it was submitted), between
`RETRY_AFTER_MIN_SECONDS` and `RETRY_AFTER_MAX_SECONDS`: a client sees a job end at most half its
run time (and never more than the maximum) after it ended, and the polls of a job grow with the
logarithm of its run time rather than in proportion to it. A client that must know at once
watches the job's events (`GET /v1/jobs/{id}/events`) or gives it a `webhook_url`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from image_gateway.jobs.rows import JobRow

RETRY_AFTER_MIN_SECONDS = 1
RETRY_AFTER_MAX_SECONDS = 10
SHARE_OF_AGE = 0.5
# The header in the OpenAPI document, where a job is answered.
RETRY_AFTER_HEADER: dict[str, Any] = {
    "schema": {"type": "integer"},
    "description": "While the job is queued or running: seconds until a poll is worth making "
    f"(half the job's age, {RETRY_AFTER_MIN_SECONDS}-{RETRY_AFTER_MAX_SECONDS})",
}


def retry_after(job: JobRow, now: float) -> int | None:
    """Whole seconds (`RETRY_AFTER_MIN_SECONDS`..`RETRY_AFTER_MAX_SECONDS`) until a useful
    re-poll of `job` at `now` (Unix seconds); None for a job that ended (nothing left to wait
    for). `created_at` is the row's naive UTC datetime."""
    if job.terminal:
        return None
    created: datetime = job["created_at"]
    age = now - created.replace(tzinfo=UTC).timestamp()
    wait = math.ceil(max(0.0, age) * SHARE_OF_AGE)
    return min(RETRY_AFTER_MAX_SECONDS, max(RETRY_AFTER_MIN_SECONDS, wait))


def retry_after_header(job: JobRow, now: float) -> dict[str, str]:
    """`{"Retry-After": seconds}` for a job still queued or running, else `{}`."""
    seconds = retry_after(job, now)
    return {} if seconds is None else {"Retry-After": str(seconds)}


# `Prefer: wait=N` on `GET /v1/jobs/{id}` (RFC 7240 section 4.3): the answer comes when the job
# ends, or after N seconds, at most this many (a proxy between client and gateway may close a
# request idle for a minute).
WAIT_MAX_SECONDS = 30
# One preference of the comma-separated list (`;` starts parameters, which `wait` has none of).
_WAIT_RE = re.compile(r"(?:^|,)\s*wait\s*=\s*\"?(\d+)\"?\s*(?=[,;]|$)", re.IGNORECASE)


def preferred_wait(prefer: str) -> int | None:
    """The seconds a `Prefer` header's `wait` preference asks for (the first one), capped at
    `WAIT_MAX_SECONDS`; None without one (or a value that is not whole seconds, which RFC 7240
    lets a server ignore)."""
    found = _WAIT_RE.search(prefer)
    if found is None:
        return None
    digits = found.group(1)  # any number of them: more than fit an int's text are still long
    return WAIT_MAX_SECONDS if len(digits) > 9 else min(int(digits), WAIT_MAX_SECONDS)
