"""The pure retry policy: hints, backoff, caps, deadline — fixed clocks and seeded randomness."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from image_gateway.errors import (
    ProviderQuotaExhausted,
    ProviderRateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from image_gateway.resilience.policy import RetryPolicy, backoff, decide
from image_gateway.upstream.retry_after import parse_retry_after, retry_after_header

NOW = 1_800_000_000.0
POLICY = RetryPolicy(max_attempts=3, base=0.5, max_backoff=8.0, max_wait=20.0)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after": "99999"}, 99999.0),
        ({"retry-after": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"retry-after": formatdate(NOW - 30, usegmt=True)}, 0.0),  # already past
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 -0000"}, 0.0),  # naive date: GMT
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # ms wins
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),  # garbage ms: the other
        ({"retry-after": "soon"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "1e400"}, None),
        ({"retry-after": ""}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, NOW) == expected


def test_backoff_is_exponential_capped_and_jittered_within_bounds() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        draws = [backoff(POLICY, attempt, rng) for _ in range(200)]
        assert all(0.75 * ceiling <= d <= ceiling for d in draws)
        assert max(draws) - min(draws) > 0.1 * ceiling  # really jittered


def rate_limited(hint: float | None) -> ProviderRateLimited:
    return ProviderRateLimited("slow down", retryable=True, retry_after=hint)


def test_a_fitting_hint_is_waited_at_least_in_full() -> None:
    decision = decide(POLICY, rate_limited(2.0), attempt=1, remaining=60, rng=random.Random(0))
    assert decision.retry and decision.delay >= 2.0


def test_a_hint_over_the_cap_fails_fast_with_advice() -> None:
    decision = decide(POLICY, rate_limited(99999), attempt=1, remaining=600, rng=random.Random(0))
    assert not decision.retry and decision.reason == "hint_too_long"
    assert decision.advise_after == 99999
    assert retry_after_header(decision.advise_after) == {"Retry-After": "3600"}


def test_a_wait_past_the_deadline_is_not_taken() -> None:
    decision = decide(POLICY, rate_limited(5.0), attempt=1, remaining=4.0, rng=random.Random(0))
    assert not decision.retry and decision.reason == "deadline" and decision.advise_after == 5.0
    backoff_only = UpstreamError("500", retryable=True)
    late = decide(POLICY, backoff_only, attempt=1, remaining=0.1, rng=random.Random(0))
    assert not late.retry and late.reason == "deadline"


def test_attempts_are_capped() -> None:
    error = UpstreamError("500", retryable=True)
    assert decide(POLICY, error, attempt=2, remaining=60, rng=random.Random(0)).retry
    last = decide(POLICY, error, attempt=3, remaining=60, rng=random.Random(0))
    assert not last.retry and last.reason == "attempts_exhausted"


@pytest.mark.parametrize(
    "error",
    [
        UpstreamError("reset after send", billed_unknown=True),
        UpstreamTimeout("read timeout", billed_unknown=True),
        ProviderQuotaExhausted("no credits"),
        UpstreamError("bad credentials", outage=False),
    ],
)
def test_what_is_not_retryable_is_never_retried(error: UpstreamError) -> None:
    decision = decide(POLICY, error, attempt=1, remaining=60, rng=random.Random(0))
    assert not decision.retry and decision.reason == "not_retryable"


def test_retry_after_header_is_whole_seconds_between_1_and_3600() -> None:
    assert retry_after_header(None) == {}
    assert retry_after_header(0.2) == {"Retry-After": "1"}
    assert retry_after_header(2.1) == {"Retry-After": "3"}
    assert retry_after_header(1e9) == {"Retry-After": "3600"}
    assert retry_after_header(float("nan")) == {}


def test_retry_budget_is_a_share_of_requests_in_flight_with_a_floor() -> None:
    from image_gateway.resilience.runner import RetryBudget

    budget = RetryBudget(ratio=0.2, minimum=3)
    budget.retrying = 2
    assert budget.allow()
    budget.retrying = 3
    assert not budget.allow()  # the floor: 3 retries in flight
    budget.active = 20
    assert budget.allow()  # 20 % of 20 requests = 4
    budget.retrying = 4
    assert not budget.allow()
