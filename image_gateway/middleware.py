"""Pure-ASGI middleware: request context (id, timing, access log) and the request body limit."""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import PayloadTooLarge, error_body

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
access_log = logging.getLogger("image_gateway.access")


class RequestContextMiddleware:
    """Gives every request an id (the client's `X-Request-ID` when it is sane), returns it as a
    response header, and writes one access-log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _client_request_id(scope) or f"req_{secrets.token_hex(12)}"
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                state = scope.get("state", {})
                access_log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": request_id,
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                            "client": state.get("client_name"),
                            "provider": state.get("provider"),
                            "model": state.get("model"),
                        }
                    },
                )


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if REQUEST_ID_RE.match(text) else None
    return None


class BodyLimitMiddleware:
    """Refuses bodies over `max_bytes` with 413: at once from `Content-Length`, or as soon as a
    chunked body crosses the limit — never after reading the whole thing."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _send_413(scope, send, self.max_bytes)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(_too_large_message(self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large_message(limit: int) -> str:
    return f"request body is larger than {limit} bytes"


async def _send_413(scope: Scope, send: Send, limit: int) -> None:
    request_id = scope.get("state", {}).get("request_id")
    body = orjson.dumps(error_body(PayloadTooLarge(_too_large_message(limit)), request_id))
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
