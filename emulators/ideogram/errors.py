"""Ideogram's error answers. Its docs give the statuses (400 invalid input, 401 not authorized,
422 "Prompt failed the safety check", 429 too many requests: IDEO-DOCS generate-v3; 402 "with a
`reject_reason` such as `insufficient_funds` or `daily_limit`", not billed: developer.ideogram.ai
`ideogram-api/errors`) but not the bodies: `{"detail": <message>}` here, FastAPI's shape
[UNVERIFIED] (the adapter reads it, and `message` / `error` too), with `reject_reason` on a
402."""

from __future__ import annotations

from typing import Any

from ..kit.asgi import Send, send_json

SAFETY = "Prompt failed the safety check."
RATE_LIMIT = "Too many requests: at most {limit} requests may be in flight"


class IdeogramError(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.headers = headers or {}

    async def send(self, send: Send) -> None:
        headers = [(k.encode(), v.encode()) for k, v in self.headers.items()]
        await send_json(send, self.status, {"detail": self.detail}, headers)


def bad_request(detail: str) -> IdeogramError:
    return IdeogramError(400, detail)


def unauthorized() -> IdeogramError:
    return IdeogramError(401, "Not authorized to generate an image.")


def unsafe_prompt() -> IdeogramError:
    return IdeogramError(422, SAFETY)


def too_many(limit: int, wait: int) -> IdeogramError:
    return IdeogramError(429, RATE_LIMIT.format(limit=limit), {"retry-after": str(wait)})


def no_funds() -> dict[str, Any]:
    """The body of a 402: the balance is spent (`reject_reason` as Ideogram's errors page)."""
    return {"detail": "Insufficient funds.", "reject_reason": "insufficient_funds"}


def fault_body(status: int) -> dict[str, Any]:
    texts = {
        400: "Invalid input provided.",
        401: "Not authorized to generate an image.",
        402: "Insufficient funds.",
        404: "Not Found",
        422: SAFETY,
        429: "Too many requests.",
    }
    return {"detail": texts.get(status, "Internal Server Error")}
