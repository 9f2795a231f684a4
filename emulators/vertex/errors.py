"""Vertex AI's error answers: Google's envelope (`google.rpc.Status` as JSON) with the status
names of Google APIs (REFERENCE-MORE §1.5, §1.8).

    {"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT", "details": [...]}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
# gemini-cli #14811/#14831 (REFERENCE-MORE §1.8)
RESOURCE_EXHAUSTED_TEXT = (
    "Resource exhausted. Please try again later. Please refer to "
    "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
)
# Imagen's moderation refusal on Vertex ([3P] epam/ai-dial-adapter-vertexai #48/#66, §1.8)
BLOCKED_TEXT = (
    "Image generation failed with the following error: The response is blocked, as it may "
    "violate our policies. If you believe this is an error, please send feedback to your "
    "account team. Error Code: 58061214"
)
_CREDENTIALS_HINT = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


@dataclass
class VertexError(Exception):
    status: int
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.status,
            "message": self.message,
            "status": STATUS_NAMES.get(self.status, "UNKNOWN"),
        }
        if self.details:
            error["details"] = self.details
        return {"error": error}


def error_info(reason: str, **metadata: str) -> dict[str, Any]:
    return {
        "@type": ERROR_INFO,
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "aiplatform.googleapis.com", **metadata},
    }


def invalid_argument(message: str) -> VertexError:
    return VertexError(400, message)


def missing_credentials() -> VertexError:
    return VertexError(
        401,
        f"Request is missing required authentication credential. {_CREDENTIALS_HINT}",
        [error_info("CREDENTIALS_MISSING")],
    )


def invalid_credentials() -> VertexError:
    return VertexError(
        401,
        f"Request had invalid authentication credentials. {_CREDENTIALS_HINT}",
        [error_info("ACCESS_TOKEN_EXPIRED")],
    )


def api_key_invalid() -> VertexError:
    # The Gemini API's wording (REFERENCE-MORE §1.5 [3P]); Google APIs share it.
    return VertexError(
        400, "API key not valid. Please pass a valid API key.", [error_info("API_KEY_INVALID")]
    )


def permission_denied(resource: str) -> VertexError:
    return VertexError(
        403,
        f"Permission 'aiplatform.endpoints.predict' denied on resource "
        f"'//aiplatform.googleapis.com/{resource}' (or it may not exist).",
        [error_info("IAM_PERMISSION_DENIED", permission="aiplatform.endpoints.predict")],
    )


def billing_disabled(project: str) -> VertexError:
    return VertexError(
        403,
        f"This API method requires billing to be enabled. Please enable billing on project "
        f"{project} by visiting https://console.developers.google.com/billing/enable?project="
        f"{project} then retry.",
        [error_info("BILLING_DISABLED", consumer=f"projects/{project}")],
    )


def not_found(resource: str) -> VertexError:
    return VertexError(404, f"Publisher Model `{resource}` not found.")


def resource_exhausted(retry_delay: str | None = None) -> VertexError:
    details = [] if retry_delay is None else [{"@type": RETRY_INFO, "retryDelay": retry_delay}]
    return VertexError(429, RESOURCE_EXHAUSTED_TEXT, details)


def blocked() -> VertexError:
    return VertexError(400, BLOCKED_TEXT)


def fault_body(status: int) -> dict[str, Any]:
    """The body of a fault that sets a status but no body."""
    if status == 429:
        return resource_exhausted().body()
    if status >= 500:
        return VertexError(status, "Internal error encountered.").body()
    return VertexError(status, f"HTTP {status}").body()
