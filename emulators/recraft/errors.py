"""Recraft's error answers, as the emulator gives them.

Recraft's errors page (recraft.ai `docs/api-reference/error-handling`) documents two: a
missing or wrong token is a 401 `text/plain` "request unauthorized", an unknown path a 404
`text/plain` "404 page not found"; other bodies "vary: some errors return plain text, others
JSON". For the rest the emulator answers `{"code": <token>, "message": <text>}` [UNVERIFIED],
one of the JSON readings the adapter accepts (the other, OpenAI's `{"error": {...}}` that
Portkey's transform reads [3P], and plain text, are tested with fault bodies). Codes and
wording are the emulator's own [UNVERIFIED]: a bad field 400 naming it, moderation 400
`inappropriate_content`, no API units left 402 `not_enough_credits`, the rate limit 429 with
`Retry-After`.
"""

from __future__ import annotations

from typing import Any

from ..kit.asgi import Send, send_bytes, send_json

UNAUTHORIZED = "request unauthorized"  # Recraft's errors page, as text/plain
NOT_FOUND = "404 page not found"


class RecraftError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        plain: bool = False,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.plain = plain  # the message alone, as `text/plain`

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}

    async def send(self, send: Send) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        if self.plain:
            plain = [(b"content-type", b"text/plain; charset=utf-8"), *headers]
            await send_bytes(send, self.status, self.message.encode(), plain)
        else:
            await send_json(send, self.status, self.body(), headers)


def invalid(message: str, code: str = "invalid_request") -> RecraftError:
    return RecraftError(400, code, message)


def unauthenticated() -> RecraftError:
    return RecraftError(401, "not_authenticated", UNAUTHORIZED, plain=True)


def not_found() -> RecraftError:
    return RecraftError(404, "not_found", NOT_FOUND, plain=True)


def moderated() -> RecraftError:
    return RecraftError(400, "inappropriate_content", "The prompt was flagged as inappropriate")


def no_credits() -> RecraftError:
    return RecraftError(402, "not_enough_credits", "Not enough API units to run this request")


def rate_limited(wait: float) -> RecraftError:
    seconds = str(max(1, round(wait)))
    return RecraftError(
        429, "rate_limit_exceeded", "Too many requests", headers={"retry-after": seconds}
    )


FAULT_CODES = {
    400: "invalid_request",
    401: "not_authenticated",
    402: "not_enough_credits",
    403: "forbidden",
    404: "not_found",
    429: "rate_limit_exceeded",
}


def fault_body(status: int) -> dict[str, Any]:
    code = FAULT_CODES.get(status, "internal_error" if status >= 500 else "error")
    return {"code": code, "message": f"Emulated error {status}"}
