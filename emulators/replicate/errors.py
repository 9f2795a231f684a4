"""Replicate's error answers: problem JSON `{"title", "detail", "status"}` (plus `invalid_fields`
for input checks), and a 429 `{"detail": "Request was throttled. ..."}` with `Retry-After`
(REFERENCE-MORE §4.4; real bodies quoted in replicate-javascript #249/#307 [ISSUES])."""

from __future__ import annotations

from typing import Any

from ..kit.asgi import Send, encode_headers, send_json

UNAUTHENTICATED = "You did not pass a valid authentication token"
THROTTLED = "Request was throttled. Your rate limit resets in ~{seconds}s."
# [UNVERIFIED] wording: no primary source quotes Replicate's 402 body.
NO_CREDIT = (
    "You have insufficient credit to run this model. Go to "
    "https://replicate.com/account/billing#billing to purchase credit."
)


class ReplicateError(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.extra, self.headers = extra or {}, headers or {}

    def body(self) -> dict[str, Any]:
        return {"title": self.title, "detail": self.detail, "status": self.status, **self.extra}

    async def send(self, send: Send) -> None:
        await send_json(send, self.status, self.body(), encode_headers(self.headers))


def problem(status: int) -> dict[str, Any]:
    """The body of a fault that sets only a status."""
    titles = {
        401: ("Unauthenticated", UNAUTHENTICATED),
        402: ("Insufficient credit", NO_CREDIT),
        404: ("Not found", "The requested resource could not be found."),
        429: ("Too Many Requests", THROTTLED.format(seconds=1)),
    }
    title, detail = titles.get(status, ("Internal Server Error", "Internal server error"))
    return {"title": title, "detail": detail, "status": status}


def invalid_input(kind: str, field: str, description: str) -> ReplicateError:
    return ReplicateError(
        422,
        "Input validation failed",
        f"- {description}\n",
        {"invalid_fields": [{"type": kind, "field": field, "description": description}]},
    )


def unauthenticated() -> ReplicateError:
    return ReplicateError(401, "Unauthenticated", UNAUTHENTICATED)


def not_found() -> ReplicateError:
    return ReplicateError(404, "Not found", "The requested resource could not be found.")


def throttled(seconds: float) -> ReplicateError:
    wait = max(1, round(seconds))
    return ReplicateError(
        429,
        "Too Many Requests",
        THROTTLED.format(seconds=wait),
        headers={"retry-after": str(wait)},
    )


def bad_request(detail: str) -> ReplicateError:
    return ReplicateError(400, "Bad request", detail)
