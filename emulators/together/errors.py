"""Together's error answers, in its own shape: `{"error": {"message", "type", "param", "code"}}`
(Together's OpenAPI `ErrorData`; together-python `types/error.py` `TogetherErrorResponse`).

Statuses (together-python `abstract/api_requestor.py`): 401 authentication; 400, 403, 404, 415,
422 invalid request; 429 rate limit ("previously coded as 400's with code 'rate_limit'"); others
server errors. The wording of each message, a moderation refusal's form (422 naming NSFW
content) and the 402 of an exhausted credit are [UNVERIFIED]: no stored source quotes them.
"""

from __future__ import annotations

from typing import Any

from ..kit.asgi import Send, send_json

INVALID = "invalid_request_error"


class TogetherError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = INVALID,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind
        self.param, self.code = param, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return body(self.message, self.kind, self.param, self.code)

    async def send(self, send: Send) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        await send_json(send, self.status, self.body(), headers)


def body(
    message: str, kind: str = INVALID, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def invalid(message: str, param: str | None = None) -> TogetherError:
    return TogetherError(400, message, param=param)


def bad_key() -> TogetherError:
    return TogetherError(
        401,
        "Invalid API key provided. You can find your API key at "
        "https://api.together.xyz/settings/api-keys.",
        code="invalid_api_key",
    )


def model_not_found(model: str) -> TogetherError:
    return TogetherError(
        404,
        f"Unable to access model {model[:80]}. Please visit https://api.together.ai/models to "
        "view the list of supported models.",
        param="model",
        code="model_not_available",
    )


def moderated() -> TogetherError:
    return TogetherError(
        422,
        "NSFW content detected: the prompt was flagged by the safety checker",
        param="prompt",
    )


QUOTA_MESSAGE = (
    "Credit limit exceeded. Please navigate to https://api.together.xyz/settings/billing to add "
    "credit or upgrade your plan."
)
RATE_MESSAGE = "You have exceeded the rate limit for this model. Please try again later."


def quota() -> TogetherError:
    return TogetherError(402, QUOTA_MESSAGE, kind="credit_limit", code="credit_limit")


def rate_limited(wait: float) -> TogetherError:
    return TogetherError(
        429,
        RATE_MESSAGE,
        kind="rate_limit_exceeded",
        code="rate_limit_exceeded",
        headers={"retry-after": str(max(1, round(wait)))},
    )


def fault_body(status: int) -> dict[str, Any]:
    if status == 429:
        return body(RATE_MESSAGE, "rate_limit_exceeded", code="rate_limit_exceeded")
    if status >= 500:
        return body("Internal server error", "server_error")
    return body(f"HTTP {status}")
