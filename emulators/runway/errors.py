"""Runway's error answers: `{"error": <human-readable explanation>}` with the status
(docs.dev.runwayml.com errors/errors: 400 a bad input, 401 a bad key, 404 an unknown resource,
405 a wrong method, 429 too many requests, 502/503 shedding load, 504 overloaded). The wording
is the emulator's own [UNVERIFIED], as is the 400 for a missing `X-Runway-Version` (Runway
refuses such a request: REFERENCE-MORE §8) and the out-of-credits 400.
"""

from __future__ import annotations

from typing import Any

from ..kit.asgi import Send, send_json

MESSAGES = {
    400: "Bad request",
    401: "Invalid API key",
    404: "Not found",
    405: "Method not allowed",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
NO_CREDITS = "You do not have enough credits to run this task."
VERSION_HEADER = "X-Runway-Version"


class RunwayError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}

    async def send(self, send: Send) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        await send_json(send, self.status, {"error": self.message}, headers)


def body_for(status: int) -> dict[str, Any]:
    return {"error": MESSAGES.get(status, f"Emulated error {status}")}


def missing_version() -> RunwayError:
    return RunwayError(
        400, f"The {VERSION_HEADER} header is required; use {VERSION_HEADER}: 2024-11-06"
    )
