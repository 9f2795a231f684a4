"""`jobs/pacing.py`: a job's Retry-After is half its age in whole seconds, 1 to 10, and none
once it ended; the `wait` preference of a poll, in whole seconds up to a cap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from image_gateway.jobs.pacing import (
    WAIT_MAX_SECONDS,
    preferred_wait,
    retry_after,
    retry_after_header,
)
from image_gateway.jobs.rows import JobRow

CREATED = datetime(2026, 1, 1, 12, 0, 0)  # naive UTC, as the store gives it back
T0 = CREATED.replace(tzinfo=UTC).timestamp()


def job(status: str) -> JobRow:
    return JobRow({"id": "job_1", "status": status, "created_at": CREATED})


@pytest.mark.parametrize(
    ("age", "seconds"),
    [(-5.0, 1), (0.0, 1), (1.0, 1), (2.1, 2), (7.0, 4), (19.0, 10), (3600.0, 10)],
)
def test_half_the_age_of_a_running_or_queued_job_between_1_and_10(age: float, seconds: int) -> None:
    for status in ("queued", "running"):
        assert retry_after(job(status), T0 + age) == seconds
        assert retry_after_header(job(status), T0 + age) == {"Retry-After": str(seconds)}


@pytest.mark.parametrize("status", ["succeeded", "failed", "canceled"])
def test_an_ended_job_has_none(status: str) -> None:
    assert retry_after(job(status), T0 + 30) is None
    assert retry_after_header(job(status), T0 + 30) == {}


@pytest.mark.parametrize(
    ("prefer", "seconds"),
    [
        ("wait=10", 10),
        ("respond-async, wait=5", 5),
        ('Wait = "7"', 7),
        ("return=minimal,wait=0", 0),
        ("wait=600", WAIT_MAX_SECONDS),
        ("handling=lenient; wait=3", None),  # a parameter of `handling`, not a preference
        ("nowait=3", None),
        ("wait=soon", None),
        ("wait=-1", None),
        ("", None),
    ],
)
def test_the_wait_preference_in_whole_seconds_capped(prefer: str, seconds: int | None) -> None:
    assert preferred_wait(prefer) == seconds
