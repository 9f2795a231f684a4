"""DashScope's error answers: `{"request_id", "code", "message"}` with the HTTP status, codes and
messages as Model Studio's error-code page gives them [3P copies; wording marked where no
source quotes it]."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from ..kit.asgi import Send, send_bytes


def request_id() -> str:
    return str(uuid.uuid4())


def body(code: str, message: str) -> dict[str, Any]:
    return {"request_id": request_id(), "code": code, "message": message}


class DashScopeError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    async def send(self, send: Send) -> None:
        extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        raw = orjson.dumps(body(self.code, self.message))
        await send_bytes(send, self.status, raw, [(b"content-type", b"application/json"), *extra])


def invalid(message: str) -> DashScopeError:
    return DashScopeError(400, "InvalidParameter", message)


def invalid_key() -> DashScopeError:
    return DashScopeError(401, "InvalidApiKey", "Invalid API-key provided.")


def no_sync() -> DashScopeError:
    return DashScopeError(
        403, "AccessDenied", "current user api does not support synchronous calls"
    )


def wrong_url() -> DashScopeError:
    return DashScopeError(400, "InvalidParameter", "url error, please check url!")


def rate_limited(wait: float) -> DashScopeError:
    # Whether DashScope sends Retry-After is [UNVERIFIED]; the gateway honours one when present.
    return DashScopeError(
        429,
        "Throttling.RateQuota",
        "Requests rate limit exceeded, please try again later.",
        headers={"retry-after": str(max(1, round(wait)))},
    )


INPUT_INSPECTION = "Input data may contain inappropriate content."
OUTPUT_INSPECTION = "Output data may contain inappropriate content."


def inspection_failed() -> DashScopeError:
    return DashScopeError(400, "DataInspectionFailed", INPUT_INSPECTION)


def cannot_cancel() -> DashScopeError:
    # [wording UNVERIFIED]
    return DashScopeError(
        400,
        "UnsupportedOperation",
        "Failed to cancel the task, please confirm if the task is in PENDING status.",
    )


ARREARAGE = body("Arrearage", "Access denied, please make sure your account is in good standing.")


def fault_body(status: int) -> dict[str, Any]:
    """The body of a fault that sets only a status."""
    if status < 400:
        return {}
    code = {
        400: "InvalidParameter",
        401: "InvalidApiKey",
        403: "AccessDenied",
        404: "NotFound",
        429: "Throttling.RateQuota",
    }.get(status, "InternalError")
    return body(code, f"Emulated fault (HTTP {status}).")
