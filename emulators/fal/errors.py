"""fal's error answers (REFERENCE-MORE §3.5): `{"detail": [{loc, msg, type}]}` for input and
content checks (422), `{"detail": "text", "error_type"}` with `X-Fal-Error-Type` for the
platform's own failures, and a 401/403/404 `{"detail": "text"}`."""

from __future__ import annotations

from typing import Any

from ..kit.asgi import Send, encode_headers, send_json

POLICY_MESSAGE = "The content was flagged by a content checker."  # [3P] wording, §3.5
# [UNVERIFIED]: no stored source quotes fal's locked-account body.
NO_BALANCE = "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard."


class FalError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers or {}

    async def send(self, send: Send) -> None:
        await send_json(send, self.status, self.body, encode_headers(self.headers))


def validation(field: str, msg: str, kind: str) -> FalError:
    return FalError(
        422,
        {"detail": [{"loc": ["body", field], "msg": msg, "type": kind}]},
        {"x-fal-retryable": "false"},
    )


def content_policy() -> dict[str, Any]:
    return {
        "detail": [
            {
                "loc": ["body", "prompt"],
                "msg": POLICY_MESSAGE,
                "type": "content_policy_violation",
                "ctx": {"categories": ["sexual"]},
            }
        ]
    }


def platform(status: int, error_type: str, detail: str) -> FalError:
    return FalError(
        status, {"detail": detail, "error_type": error_type}, {"x-fal-error-type": error_type}
    )


def body_for(status: int) -> dict[str, Any]:
    """The body of a fault that sets only a status."""
    texts = {
        401: "Unauthorized: No valid credentials were provided",  # [UNVERIFIED] wording
        403: NO_BALANCE,
        404: "Not Found",
        429: "Too many requests",
        503: "Runner scheduling failure",
        504: "Request timed out",
    }
    types = {503: "runner_scheduling_failure", 504: "request_timeout"}
    body: dict[str, Any] = {"detail": texts.get(status, "Internal Server Error")}
    if status in types:
        body["error_type"] = types[status]
    return body
