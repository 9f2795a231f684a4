"""Stability's error answers (REFERENCE-MORE §2.4; STAB-OAS): `{"id": <32 hex>, "name",
"errors": [...]}`, the 429's id being its name; the 401 in v1's `{"id", "name", "message"}`
when the emulator is asked to (`v1_401`), since which one v2beta sends is [UNVERIFIED]."""

from __future__ import annotations

import secrets
from typing import Any

from ..kit.asgi import Send, send_json

MODERATION = (
    "Your request was flagged by our content moderation system, as a result your request was "
    "denied and you were not charged."
)
PUBLIC_FIGURE = (
    "Our system detected the likeness of a public figure in your image. To comply with our "
    "guidelines, this request cannot be processed. Please upload a different image."
)
INTERNAL = "An unexpected server error has occurred, please try again later."
RATE_LIMIT = (
    "You have exceeded the rate limit of 150 requests within a 10 second period, and have "
    "been timed out for 60 seconds."
)


def request_id() -> str:
    return secrets.token_hex(16)


class StabilityError(Exception):
    def __init__(
        self, status: int, name: str, errors: list[str], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(errors[0] if errors else name)
        self.status, self.name, self.errors = status, name, errors
        self.headers = headers or {}
        self.id = request_id()

    def body(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "errors": self.errors}

    async def send(self, send: Send) -> None:
        headers = [(k.encode(), v.encode()) for k, v in self.headers.items()]
        await send_json(send, self.status, self.body(), headers)


def bad_request(message: str) -> StabilityError:
    return StabilityError(400, "bad_request", [message])


def unauthorized(v1: bool) -> StabilityError:
    error = StabilityError(401, "unauthorized", ["authorization: invalid or missing API key"])
    if v1:
        error.body = lambda: {  # type: ignore[method-assign]
            "id": error.id,
            "name": "unauthorized",
            "message": "missing authorization header",
        }
    return error


def moderated() -> StabilityError:
    return StabilityError(403, "content_moderation", [MODERATION])


def public_figure() -> StabilityError:
    return StabilityError(422, "public_figure", [PUBLIC_FIGURE])


def rate_limited() -> StabilityError:
    error = StabilityError(429, "rate_limit_exceeded", [RATE_LIMIT])
    error.id = "rate_limit_exceeded"
    return error


def fault_body(status: int) -> dict[str, Any]:
    names = {
        400: ("bad_request", "bad request"),
        401: ("unauthorized", "authorization: invalid or missing API key"),
        402: ("payment_required", "You lack sufficient credits to make this request."),
        403: ("content_moderation", MODERATION),
        404: ("not_found", "not found"),
        413: ("payload_too_large", "body: payloads cannot be larger than 10MiB in size"),
        429: ("rate_limit_exceeded", RATE_LIMIT),
    }
    name, text = names.get(status, ("internal_error", INTERNAL))
    return {"id": request_id(), "name": name, "errors": [text]}
