"""Fireworks' error answers: OpenAI's shape, `{"error": {"object": "error", "type", "code",
"message"}}` (Fireworks' inference API is OpenAI-compatible; for the image workflows the body
is not documented [UNVERIFIED]; the adapter reads this and BFL's `{"detail"}` alike)."""

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
        404: ("not_found", "Model not found"),
        429: ("rate_limit_exceeded", "Request rate limit exceeded, please try again later"),
    }
    kind, text = texts.get(status, ("internal_server_error", "Internal server error"))
    return body(text, kind)
