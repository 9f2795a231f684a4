"""Fireworks' error answers: OpenAI's shape, `{"error": {"object": "error", "type", "code",
"message"}}` (Fireworks' inference API is OpenAI-compatible; for the image workflows the body
is not documented [UNVERIFIED]; the adapter reads this and BFL's `{"detail"}` alike). The
statuses and their texts are FW-DOCS `guides/inference-error-codes`' (402 out of plan or usage
limits, 412 account suspended, 413 input too large)."""

from __future__ import annotations

from typing import Any

from ..kit.asgi import Send, send_json


class FireworksError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return body(self.message, self.kind, self.code)

    async def send(self, send: Send) -> None:
        headers = [(k.encode(), v.encode()) for k, v in self.headers.items()]
        await send_json(send, self.status, self.body(), headers)


def body(
    message: str, kind: str = "invalid_request_error", code: str | None = None
) -> dict[str, Any]:
    return {"error": {"object": "error", "type": kind, "code": code, "message": message}}


PAYMENT_REQUIRED = "Account is not on a paid plan or has exceeded usage limits"


def bad_request(message: str) -> FireworksError:
    return FireworksError(400, message)


def unauthorized() -> FireworksError:
    return FireworksError(401, "The API key you provided is invalid.", "unauthorized")


def rate_limited(wait: float) -> FireworksError:
    return FireworksError(
        429,
        "Request rate limit exceeded, please try again later",
        "rate_limit_exceeded",
        headers={"retry-after": str(max(1, round(wait)))},
    )


def fault_body(status: int) -> Any:
    texts = {
        400: ("invalid_request_error", "bad request"),
        401: ("unauthorized", "The API key you provided is invalid."),
        402: ("payment_required", PAYMENT_REQUIRED),
        404: ("not_found", "Model not found"),
        412: ("precondition_failed", "Account is suspended"),
        413: ("payload_too_large", "Input data exceeds the allowed size limit"),
        429: ("rate_limit_exceeded", "Request rate limit exceeded, please try again later"),
    }
    kind, text = texts.get(status, ("internal_server_error", "Internal server error"))
    return body(text, kind)
