"""google-auth's side of Vertex AI's tokens (`auth.AccessTokens` imports this module with the
first token it needs, so a gateway without Vertex AI does without google-auth and the
`cryptography` it loads: tests/test_startup.py): its HTTP transport over the gateway's
`UpstreamClient` and the reading of its refusals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import google.auth
import google.auth.credentials
import google.auth.exceptions
import google.auth.transport
from google.oauth2 import service_account

from image_gateway.errors import GatewayError
from image_gateway.upstream.client import UpstreamClient

__all__ = ["GatewayTransport", "google", "refusal", "service_account"]

TOKEN_DEADLINE_SECONDS = 30.0  # one token-endpoint exchange, whole


class _Response(google.auth.transport.Response):
    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self._status, self._headers, self._data = status, dict(headers), data

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    @property
    def data(self) -> bytes:
        return self._data


class GatewayTransport(google.auth.transport.Request):
    """google-auth's transport interface over the gateway's `UpstreamClient`, for google-auth
    code running in a worker thread: each request runs on the event loop (`loop`) and the
    thread waits for it. A failure to get an answer is google-auth's `TransportError`, whose
    `__cause__` is the gateway's error."""

    def __init__(
        self, http: UpstreamClient, loop: asyncio.AbstractEventLoop, provider: str
    ) -> None:
        self.http, self.loop, self.provider = http, loop, provider

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        content = body.encode() if isinstance(body, str) else body
        call = self.http.request(
            method,
            url,
            provider=self.provider,
            headers=headers,
            content=content,
            deadline=min(timeout or TOKEN_DEADLINE_SECONDS, TOKEN_DEADLINE_SECONDS),
        )
        try:
            resp = asyncio.run_coroutine_threadsafe(call, self.loop).result()
        except GatewayError as exc:
            raise google.auth.exceptions.TransportError(exc.message) from exc  # type: ignore[no-untyped-call]
        return _Response(resp.status, resp.headers, resp.body)


def refusal(exc: google.auth.exceptions.RefreshError) -> str:
    """What the token endpoint said, as a sentence: OAuth's `error` and `error_description`
    (RFC 6749 §5.2), or a Google envelope's `error.message`/`error.status`; google-auth's
    `RefreshError` carries the parsed body as its second argument (`oauth2/_client.py`
    `_handle_error_response`), its text as the first."""
    body = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):  # {"error": {"code": 401, "message": ..., "status": ...}}
            parts = [error.get("status"), error.get("message")]
        else:
            parts = [error, body.get("error_description")]
        text = ": ".join(str(p) for p in parts if isinstance(p, str | int) and str(p))
        if text:
            return text
    first = exc.args[0] if exc.args else ""
    return first if isinstance(first, str) and "{" not in first else ""
