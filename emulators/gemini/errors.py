"""Google's error answers as the Gemini API writes them (`google.rpc.Status` in JSON,
REFERENCE-MORE §1.5): `{"error": {"code", "message", "status", "details": [...]}}`, with the
status names of Google's table (400 `INVALID_ARGUMENT` / `FAILED_PRECONDITION`, 403
`PERMISSION_DENIED`, 404 `NOT_FOUND`, 429 `RESOURCE_EXHAUSTED`, 500 `INTERNAL`, 503
`UNAVAILABLE`, 504 `DEADLINE_EXCEEDED`). Messages are the ones quoted in the reference where
it quotes one, else written for the emulator.
"""

from __future__ import annotations

import math
from typing import Any

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    402: "RESOURCE_EXHAUSTED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_MESSAGES = {
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "The request timed out. Please try again.",
}
RATE_LIMITS_URL = "https://ai.google.dev/gemini-api/docs/rate-limits"
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    f"information on this error, head to: {RATE_LIMITS_URL}."
)
PER_MINUTE = "GenerateRequestsPerMinutePerProjectPerModel"
PER_DAY = "GenerateRequestsPerDayPerProjectPerModel"


class GoogleError(Exception):
    """An error answer: HTTP status, its Google status name, message, `details`."""

    def __init__(
        self,
        code: int,
        message: str,
        details: list[dict[str, Any]] | None = None,
        status: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = details or []

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def fault_body(status: int) -> dict[str, Any]:
    """The body of a fault that sets a status and no body."""
    if status == 429:
        return rate_limited(1.0, "gemini-2.5-flash-image").body()
    message = _MESSAGES.get(status, f"Emulated error (HTTP {status}).")
    return GoogleError(status, message).body()


def invalid(message: str) -> GoogleError:
    return GoogleError(400, message)


def unknown_name(name: str, where: str) -> GoogleError:
    """Protobuf JSON parsing's refusal of a field the message does not have."""
    at = f" at '{where}'" if where else ""
    return invalid(f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.')


def bad_key() -> GoogleError:
    """A key Google does not know (REFERENCE-MORE §1.5, [3P] quoting Google's docs)."""
    return GoogleError(
        400,
        "API key not valid. Please pass a valid API key.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ],
    )


def no_key() -> GoogleError:
    return GoogleError(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
    )


def model_not_found(model: str) -> GoogleError:
    return GoogleError(
        404,
        f"models/{model} is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their "
        "supported methods.",
    )


def _quota(quota_id: str, model: str, limit: int, delay: float) -> GoogleError:
    """A 429 with `QuotaFailure`, `Help` and `RetryInfo` (the shape of REFERENCE-MORE §1.5's
    gemini-cli #8437 body)."""
    return GoogleError(
        429,
        QUOTA_MESSAGE,
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/"
                        "generate_content_paid_tier_requests",
                        "quotaId": quota_id,
                        "quotaDimensions": {"location": "global", "model": model},
                        "quotaValue": str(limit),
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {"description": "Learn more about Gemini API quotas", "url": RATE_LIMITS_URL}
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{max(1, math.ceil(delay))}s",
            },
        ],
    )


def rate_limited(delay: float, model: str, limit: int = 10) -> GoogleError:
    """The per-minute quota: retry after `delay` seconds (`RetryInfo.retryDelay`)."""
    return _quota(PER_MINUTE, model, limit, delay)


def daily_quota(model: str, limit: int = 250) -> GoogleError:
    """The per-day quota, sticky until the day ends; its `RetryInfo` says a few seconds all
    the same (as real answers do), so a client that trusts it retries in vain."""
    return _quota(PER_DAY, model, limit, 2.0)
