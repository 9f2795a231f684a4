"""`x-should-retry` and the unknown-outcome message, per error type (`errors.py`).

The end-to-end view — the official SDK against faults — is tests/resilience/test_client_retries.py;
this is the whole table, so a new error type or flag cannot slip through unnoticed.
"""

from __future__ import annotations

import pytest

from image_gateway.errors import (
    UNKNOWN_OUTCOME,
    AuthenticationFailed,
    BudgetExceeded,
    Conflict,
    ContentPolicyViolation,
    GatewayError,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ProviderNotConfigured,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderUnavailable,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
    UpstreamError,
    UpstreamTimeout,
    error_body,
)

CASES: dict[str, tuple[GatewayError, str]] = {
    "internal error": (GatewayError("internal error"), "false"),
    "invalid request": (InvalidRequest("bad"), "false"),
    "moderation": (ContentPolicyViolation("no"), "false"),
    "401": (AuthenticationFailed("who"), "false"),
    "402 budget": (BudgetExceeded("spent"), "false"),
    "403": (PermissionDenied("no"), "false"),
    "404": (NotFound("none"), "false"),
    "408 slow client": (RequestTimeout("late", headers={"Connection": "close"}), "true"),
    "409 idempotency": (Conflict("reused"), "false"),
    "413": (PayloadTooLarge("big"), "false"),
    "429 key limit": (RateLimited("slow down", headers={"Retry-After": "3"}), "true"),
    "503 store": (ServiceUnavailable("store down"), "true"),
    "503 not configured": (ProviderNotConfigured("no key"), "false"),
    "402 provider quota": (ProviderQuotaExhausted("out"), "false"),
    "429 provider": (ProviderRateLimited("later", retryable=True, retry_after=2.0), "true"),
    "429 queue full": (ProviderRateLimited("full", code="provider_queue_full"), "true"),
    "503 circuit open": (ProviderUnavailable("open", code="circuit_open"), "true"),
    "502 5xx, not accepted": (UpstreamError("5xx", retryable=True), "true"),
    "502 bad credentials": (UpstreamError("creds", code="provider_auth_failed"), "false"),
    "502 reset after sending": (UpstreamError("reset", billed_unknown=True), "false"),
    "504 connect timeout": (UpstreamTimeout("connect", retryable=True), "true"),
    "504 read timeout": (UpstreamTimeout("silent", billed_unknown=True), "false"),
    "504 accepted, then lost": (UpstreamTimeout("poll").after_acceptance(), "false"),
    "502 retryable, then marked": (UpstreamError("x", retryable=True).after_acceptance(), "false"),
}


@pytest.mark.parametrize(("err", "header"), list(CASES.values()), ids=list(CASES))
def test_x_should_retry_by_error(err: GatewayError, header: str) -> None:
    headers = err.response_headers()
    assert headers["x-should-retry"] == header
    assert headers.items() >= err.headers.items()  # Retry-After and the like are kept
    message = error_body(err, "req_1")["error"]["message"]
    assert (UNKNOWN_OUTCOME in message) is err.billed_unknown
    assert message.startswith(err.message)


@pytest.mark.parametrize("ending", ["", ".", ". "])
def test_the_unknown_outcome_follows_one_period(ending: str) -> None:
    """A provider message that already ends its sentence (Gemini's own text quoted: "... it
    was withheld.") is not followed by a second period."""
    err = UpstreamError(f"gemini returned no image: it was withheld{ending}")
    message = error_body(err.after_acceptance(), "req_1")["error"]["message"]
    assert message == f"gemini returned no image: it was withheld. {UNKNOWN_OUTCOME}"
