"""Azure OpenAI's error answers. Validation errors of the image models keep OpenAI's envelope
(`openai_images/errors.py`: Azure passes them on, as its `Unrecognized request argument`
shows); the service's own answers have Azure's `{"error": {"code", "message"}}`:

- 401 `code: "401"` "Access denied due to invalid subscription key or wrong API endpoint..."
  (a bad key; many public issue threads: Semantic Kernel, Azure AI Vision docs); "Unauthorized.
  Access token is missing, invalid, audience is incorrect..." (a bad Entra token, [3P]);
- 404 `code: "404"` "Resource not found": no api-version, an unknown path
  (MicrosoftDocs/azure-docs #114602);
- 400 "API version not supported": a version not served, a dated one on v1 ([3P] opencode
  #12186, goai PR #54);
- 404 `DeploymentNotFound` "The API deployment for this resource does not exist..." ([3P]);
- 403 `Forbidden` "Your resource has been temporarily blocked..." (REFERENCE-MORE §5, [3P]);
- 400 `content_policy_violation` with `inner_error` (`ResponsibleAIPolicyViolation`,
  `content_filter_results`, `revised_prompt`): REFERENCE §3.7, AZ-SPEC `dalleErrorResponse`;
- 400 `moderation_blocked` (GPT image models, REFERENCE §1.8 [3P]); 400 `content_filter` "The
  response was filtered..." (REFERENCE-MORE §5 [3P]);
- `{"created", "error": {"code": "contentFilter", ...}}` (AZ-DOCS how-to, which does not say
  the status [UNVERIFIED]), played with HTTP 200;
- 429 "Requests to the ... Operation ... have exceeded call rate limit..." ([3P]) with
  `retry-after` and `retry-after-ms`, the hints openai-python reads.
"""

from __future__ import annotations

import time
from typing import Any

from ..openai_images import errors as E

SAFE = {"filtered": False, "severity": "safe"}
CATEGORIES = ("hate", "self_harm", "sexual", "violence")


class AzureError(E.APIError):
    """An answer in Azure's own shape: `{"error": {"code", "message", **extra}, **top}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        extra: dict[str, Any] | None = None,
        top: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, code=code, headers=headers)
        self.extra = extra or {}
        self.top = top or {}

    def body(self) -> dict[str, Any]:
        return {**self.top, "error": {"code": self.code, "message": self.message, **self.extra}}


def bad_key() -> AzureError:
    return AzureError(
        401,
        "401",
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
        "provide a valid key for an active subscription and use a correct regional API "
        "endpoint for your resource.",
    )


def bad_token() -> AzureError:
    return AzureError(
        401,
        "401",
        "Unauthorized. Access token is missing, invalid, audience is incorrect "
        "(https://cognitiveservices.azure.com), or have expired.",
    )


def resource_not_found() -> AzureError:
    return AzureError(404, "404", "Resource not found")


def api_version_not_supported() -> AzureError:
    return AzureError(400, "BadRequest", "API version not supported")


def deployment_not_found() -> AzureError:
    return AzureError(
        404,
        "DeploymentNotFound",
        "The API deployment for this resource does not exist. If you created the deployment "
        "within the last 5 minutes, please wait a moment and try again.",
    )


def resource_blocked() -> AzureError:
    return AzureError(
        403,
        "Forbidden",
        "Your resource has been temporarily blocked because we detected behavior that may "
        "violate our content policy. See https://aka.ms/aoaicodeofconduct",
    )


def filter_results(filtered: str | None = None) -> dict[str, Any]:
    """Per-category results, every one safe but `filtered` (then high and filtered)."""
    return {
        name: {"filtered": True, "severity": "high"} if name == filtered else dict(SAFE)
        for name in CATEGORIES
    }


def content_policy(revised_prompt: str) -> AzureError:
    return AzureError(
        400,
        "content_policy_violation",
        "Your request was rejected as a result of our safety system. Your prompt may contain "
        "text that is not allowed by our safety system.",
        extra={
            "param": "prompt",
            "type": "invalid_request_error",
            "inner_error": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_results": {
                    **filter_results("violence"),
                    "jailbreak": {"detected": False, "filtered": False},
                },
                "revised_prompt": revised_prompt,
            },
        },
    )


def moderation_blocked(request_id: str) -> E.APIError:
    return E.content_policy(request_id, gpt_image=True)


def response_filtered() -> AzureError:
    return AzureError(
        400,
        "content_filter",
        "The response was filtered due to the prompt triggering Azure OpenAI's content "
        "management policy. Please modify your prompt and retry.",
    )


def filtered_200() -> AzureError:
    return AzureError(
        200,
        "contentFilter",
        "Your task failed as a result of our safety system.",
        top={"created": int(time.time())},
    )


def rate_limited(wait: float, operation: str = "ImageGenerations_Create") -> AzureError:
    seconds = max(1, round(wait))
    return AzureError(
        429,
        "429",
        f"Requests to the {operation} Operation under Azure OpenAI API version "
        "2025-04-01-preview have exceeded call rate limit of your current pricing tier. "
        f"Please retry after {seconds} second{'s' if seconds != 1 else ''}.",
        headers={"retry-after": str(seconds), "retry-after-ms": str(round(wait * 1000))},
    )


def fault_body(status: int) -> dict[str, Any]:
    """The body of a fault that sets only a status, in Azure's shape."""
    if status < 400:
        return {}
    if status == 429:
        return rate_limited(1).body()
    if status >= 500:
        return AzureError(
            status,
            "InternalServerError",
            "The server had an error while processing your request. Sorry about that!",
        ).body()
    return AzureError(status, str(status), f"Emulated fault (HTTP {status}).").body()
