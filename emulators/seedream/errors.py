"""Ark's error answers: `{"error": {"code", "message", "param", "type"}}` with the HTTP status of
docs.byteplus.com ModelArk 1299023 ("Common Error Codes"), whose messages end in "Request
id: <id>". `type` is the status's name there (`BadRequest`, `Unauthorized`, ...).
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from ..kit.asgi import Send, send_bytes

TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def request_id() -> str:
    return f"0217{uuid.uuid4().hex}"


class ArkError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return body(self.status, self.code, self.message, self.param)

    async def send(self, send: Send) -> None:
        extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        raw = orjson.dumps(self.body())
        await send_bytes(send, self.status, raw, [(b"content-type", b"application/json"), *extra])


def body(status: int, code: str, message: str, param: str = "") -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": f"{message} Request id: {request_id()}",
            "param": param,
            "type": TYPES.get(status, "InternalServerError"),
        }
    }


def invalid(param: str, why: str) -> ArkError:
    return ArkError(
        400,
        "InvalidParameter",
        f"The parameter `{param}` specified in the request is not valid: {why}.",
        param,
    )


def missing(param: str) -> ArkError:
    return ArkError(
        400,
        "MissingParameter",
        f"The request failed because it is missing one or multiple required parameters: {param}.",
        param,
    )


def unauthenticated() -> ArkError:
    return ArkError(
        401, "AuthenticationError", "The API key or AK/SK in the request is missing or invalid."
    )


def model_not_found(model: str) -> ArkError:
    return ArkError(
        404,
        "InvalidEndpointOrModel.NotFound",
        f"The model or endpoint {model} does not exist or you do not have access to it.",
    )


def rate_limited(wait: float) -> ArkError:
    # Whether Ark sends Retry-After is [UNVERIFIED]; the gateway honours one when present.
    return ArkError(
        429,
        "RateLimitExceeded.EndpointRPMExceeded",
        "The Requests Per Minute (RPM) limit of the associated endpoint for your account has "
        "been exceeded.",
        headers={"retry-after": str(max(1, round(wait)))},
    )


SENSITIVE = {
    "InputTextSensitiveContentDetected": "The request failed because the input text may "
    "contain sensitive information.",
    "InputImageSensitiveContentDetected": "The request failed because the input image may "
    "contain sensitive information.",
    "OutputImageSensitiveContentDetected": "The request failed because the output image may "
    "contain sensitive information.",
}


def sensitive(code: str) -> ArkError:
    return ArkError(400, code, SENSITIVE[code])


QUOTA = body(
    403,
    "AccountOverdueError",
    "The request failed because your account has an overdue balance.",
)


def fault_body(status: int) -> dict[str, Any]:
    """The body of a fault that sets only a status."""
    if status < 400:
        return {}
    code = {
        400: "InvalidParameter",
        401: "AuthenticationError",
        403: "AccessDenied",
        404: "InvalidEndpoint.NotFound",
        429: "RateLimitExceeded.EndpointRPMExceeded",
        503: "ServiceUnavailable",
    }.get(status, "InternalServiceError")
    return body(status, code, f"Emulated fault (HTTP {status}).")
