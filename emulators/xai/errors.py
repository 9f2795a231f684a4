"""xAI's error answers, in its own shapes.

- JSON `{"code": <gRPC status description>, "error": <text>}` for what the API itself refuses
  (vercel/ai `xai-error.ts` at 3e947e6; bodies quoted in openclaw `extensions/xai/index.test.ts`,
  beeai-framework #447, inspect_ai #2267 [3P]);
- plain text for what its HTTP framework refuses before that: a body that is not JSON (400
  "Failed to parse the request body as JSON"), one that does not fit the request type (422
  "Failed to deserialize the JSON body into the target type: missing field `prompt` ...",
  CherryHQ/cherry-studio #4732 [3P]), no JSON content type (415; docs.x.ai "Debugging Errors").

Statuses (docs.x.ai "Debugging Errors"): an incorrect key is a 400, a missing one a 401; a
model the team cannot use a 404; the rate limit and an exhausted team balance both 429
(continuedev #10373 [3P]); a moderated prompt a 403 "Content violates usage guidelines".
Wording xAI's answers were not seen with is marked so below.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..kit.asgi import Send, send_bytes

INVALID_ARGUMENT = "Client specified an invalid argument"
UNAUTHENTICATED = "The request does not have valid authentication credentials"
PERMISSION_DENIED = "The caller does not have permission to execute the specified operation"
NOT_FOUND = "Some requested entity was not found"
RESOURCE_EXHAUSTED = "Some resource has been exhausted"
INTERNAL = "Internal error"
UNAVAILABLE = "The service is currently unavailable"
TEAM = "team-emulator"

QUOTA_MESSAGE = (
    f"Your team {TEAM} has either used all available credits or reached its monthly spending "
    "limit. To continue making API requests, please purchase more credits or raise your "
    "spending limit."
)


class XAIError(Exception):
    """An error answer: JSON `{"code", "error"}`, or plain text (`text=True`)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        text: bool = False,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.text = text

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "error": self.message}

    async def send(self, send: Send) -> None:
        if self.text:
            raw, content_type = self.message.encode(), b"text/plain; charset=utf-8"
        else:
            raw, content_type = orjson.dumps(self.body()), b"application/json"
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        await send_bytes(send, self.status, raw, [(b"content-type", content_type), *headers])


def invalid(message: str) -> XAIError:
    return XAIError(400, INVALID_ARGUMENT, message)


def not_json(detail: str) -> XAIError:
    return XAIError(400, "", f"Failed to parse the request body as JSON: {detail}", text=True)


def deserialize(detail: str) -> XAIError:
    return XAIError(
        422, "", f"Failed to deserialize the JSON body into the target type: {detail}", text=True
    )


def not_json_content_type() -> XAIError:
    return XAIError(415, "", "Expected request with `Content-Type: application/json`", text=True)


def missing_key() -> XAIError:
    # [wording UNVERIFIED]
    return XAIError(
        401,
        UNAUTHENTICATED,
        "No API key provided. Supply an Authorization: Bearer <XAI_API_KEY> header; "
        "you can obtain an API key from https://console.x.ai.",
    )


def incorrect_key(presented: str) -> XAIError:
    """xAI masks the key it quotes to its first and last two characters."""
    shown = f"{presented[:2]}***{presented[-2:]}" if len(presented) >= 8 else "***"
    return XAIError(
        400,
        INVALID_ARGUMENT,
        f"Incorrect API key provided: {shown}. You can obtain an API key from "
        "https://console.x.ai.",
    )


def model_not_found(model: str) -> XAIError:
    # [wording UNVERIFIED]
    return XAIError(
        404,
        NOT_FOUND,
        f"The model {model} does not exist or your team {TEAM} does not have access to it.",
    )


def rate_limited(wait: float) -> XAIError:
    # Retry-After [UNVERIFIED for xAI]: the gateway honours it when present.
    return XAIError(
        429,
        RESOURCE_EXHAUSTED,
        "Rate limit exceeded",
        headers={"retry-after": str(max(1, round(wait)))},
    )


def moderated(model: str) -> XAIError:
    return XAIError(
        403,
        PERMISSION_DENIED,
        f"Content violates usage guidelines. Team: {TEAM}, Model: {model}, "
        "Failed check: SAFETY_CHECK_TYPE_IMAGE",
    )


def no_4k() -> XAIError:
    """`resolution: "4k"` (REFERENCE-MORE §7 [3P])."""
    return XAIError(503, UNAVAILABLE, "model_service_unavailable")


def fault_body(status: int) -> dict[str, Any]:
    """The body of a fault that sets only a status."""
    if status < 400:
        return {}
    code = {
        400: INVALID_ARGUMENT,
        401: UNAUTHENTICATED,
        403: PERMISSION_DENIED,
        404: NOT_FOUND,
        429: RESOURCE_EXHAUSTED,
        503: UNAVAILABLE,
    }.get(status, INTERNAL)
    message = "Rate limit exceeded" if status == 429 else f"Emulated fault (HTTP {status})"
    return {"code": code, "error": message}
