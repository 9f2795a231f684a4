"""The HTTP server seam: uvicorn's protocols with the one bound uvicorn lacks, on the time a
client takes to send a request's line and headers.

uvicorn 0.54 times out only idle kept-alive connections (`timeout_keep_alive`, and every byte
received cancels that timer); nothing bounds a connection that sends nothing, or a request
whose head arrives one byte every few seconds, and ASGI middleware only runs once the head is
complete (uvicorn's `--timeout-request-start` proposal, PR #1685, was closed unmerged). These
subclasses of uvicorn's httptools and h11 protocols close a connection whose request head is not
complete CLIENT_HEADER_TIMEOUT_SECONDS after it opened or, on a kept-alive connection, after
the next request's first byte: with a 408 JSON error (`Connection: close`) when part of a
request arrived, silently when nothing did. The body is bounded in the ASGI layer
(`middleware.BodyLimitMiddleware`, CLIENT_BODY_TIMEOUT_SECONDS).

A bound that runs out gets HEAD_GRACE_SECONDS more, once, before it closes. The event loop
(libuv's, under uvloop) runs due timers before it reads sockets, so after one turn of the loop
longer than the bound (a read of thousands of sockets on a loaded machine: 10,000 connections
opened in 2 s) a head that arrived in time can still be unread in the kernel, and closing then
resets the connection (a socket closed with unread data sends RST; the client sees "Connection
reset by peer"). The loop reads sockets before it runs timers again, so a short grace is enough.

They also answer a request uvicorn cannot parse (a malformed request line or header, a NUL or
a space in the URL, a header without a colon) with our JSON error, 400 `invalid_http_request`
with `x-should-retry: false`, where uvicorn answers `text/plain` "Invalid HTTP request
received.". Both answers, made before the app sees a request, carry a request id of their own
(`X-Request-ID` and the body's `request_id`; the request's own headers were not read).

They are uvicorn's `--http` (`make run`, the Dockerfile and the tests use them):

    uvicorn main:app --http image_gateway.server:HttpProtocol

`HttpProtocol` is the httptools one when httptools is installed, else the h11 one (as uvicorn's
`auto`); `HttpToolsProtocol` and `H11Protocol` name one. Named that way, the timeout is the
app's CLIENT_HEADER_TIMEOUT_SECONDS, which its lifespan puts in the server's lifespan state
under `served_by.HEADER_TIMEOUT` (read from the settings again only when the app ran no
lifespan); `protocol_class()` binds a value for in-process servers.
Each connection marks the server's lifespan state with `SERVED_BY`, so the app can warn when it
is served without them (`served_by.ServedByCheck`, a pure-ASGI middleware), and counts the
connections it closes in the app's metrics (`igw_connections_closed_total{reason}`), which the
app's lifespan puts in that state under `served_by.METRICS`.
"""

from __future__ import annotations

import asyncio
import http
import logging
from functools import cache
from typing import Any, ClassVar, cast

from uvicorn.protocols.http import h11_impl, httptools_impl

from image_gateway.api.error_responses import error_response
from image_gateway.errors import GatewayError, InvalidRequest, RequestTimeout
from image_gateway.ids import REQUEST_ID_PREFIX, unique_id
from image_gateway.observability.metrics import Metrics
from image_gateway.served_by import HEADER_TIMEOUT, METRICS, SERVED_BY

log = logging.getLogger("image_gateway.server")
HEAD_GRACE_SECONDS = 0.05  # once per bound: lets the loop read what the kernel holds (> 0: a timer)


class HeaderTimeout(asyncio.Protocol):
    """The bound, over either uvicorn protocol (`cycle` is the request in progress, created
    when a head is complete; its `response_complete` ends it)."""

    header_timeout: ClassVar[float | None] = None  # None: CLIENT_HEADER_TIMEOUT_SECONDS

    # uvicorn's protocol attributes this class relies on.
    loop: asyncio.AbstractEventLoop
    cycle: Any
    app_state: dict[str, Any]
    server_state: Any  # uvicorn's ServerState: `default_headers` (Server, Date)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.app_state[SERVED_BY] = True
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        # A TCP transport (uvloop's does not register as an asyncio.WriteTransport).
        self._head_transport = cast(asyncio.Transport, transport)
        super().connection_made(transport)
        self._arm()  # from the connection's first moment: sending nothing is no way to wait

    def data_received(self, data: bytes) -> None:
        if self._head_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first byte of the next request on a kept-alive connection
        self._head_bytes += len(data)
        cycle = self.cycle
        super().data_received(data)
        if self.cycle is not cycle:  # a head was complete: its request is the app's now
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        seconds = self.header_timeout
        if seconds is None:
            seconds = self.app_state.get(HEADER_TIMEOUT) or _settings_header_timeout()
        self._head_bytes = 0
        self._head_graced = False
        self._head_timer = self.loop.call_later(seconds, self._head_expired, seconds)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self, seconds: float) -> None:
        self._head_timer = None
        transport = self._head_transport
        if transport.is_closing():
            return
        if not self._head_graced:  # bytes may be waiting unread: see the module docstring
            self._head_graced = True
            self._head_timer = self.loop.call_later(HEAD_GRACE_SECONDS, self._head_expired, seconds)
            return
        request_id = None
        if self._head_bytes:
            err = RequestTimeout(
                f"the request line and headers did not arrive within {seconds:g} seconds",
                headers={"Connection": "close"},
            )
            request_id, answer = _raw_answer(err, self.server_state.default_headers)
            transport.write(answer)
        self._count_closed("head_timeout")
        log.info(
            "request head not received in time; connection closed",
            extra={
                "fields": {
                    "request_id": request_id,
                    "received_bytes": self._head_bytes,
                    "timeout_s": seconds,
                }
            },
        )
        transport.close()

    def _count_closed(self, reason: str) -> None:
        metrics: Metrics | None = self.app_state.get(METRICS)  # None: served without lifespan
        if metrics is not None:
            metrics.connection_closed(reason)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request its parser refused (both protocols call it, then
        stop reading): ours instead, then the connection is closed."""
        self._disarm()
        err = InvalidRequest(
            "the request is not valid HTTP/1.1 (a malformed request line or header, or a "
            "character a URL or header may not contain); it was not processed",
            code="invalid_http_request",
            headers={"Connection": "close"},
        )
        request_id, answer = _raw_answer(err, self.server_state.default_headers)
        self._head_transport.write(answer)
        self._head_transport.close()
        self._count_closed("invalid_http")
        log.info(
            "malformed request refused; connection closed",
            extra={"fields": {"request_id": request_id, "status": err.status_code}},
        )


class HttpToolsProtocol(HeaderTimeout, httptools_impl.HttpToolsProtocol):
    """uvicorn's httptools protocol with the header timeout."""


class H11Protocol(HeaderTimeout, h11_impl.H11Protocol):
    """uvicorn's h11 protocol with the header timeout."""


HttpProtocol: type[HeaderTimeout]
try:
    import httptools  # noqa: F401 - only whether it is there
except ImportError:  # pragma: no cover - the requirements include it
    HttpProtocol = H11Protocol
else:
    HttpProtocol = HttpToolsProtocol


def protocol_class(
    header_timeout: float, base: type[HeaderTimeout] = HttpProtocol
) -> type[HeaderTimeout]:
    """`base` with this header timeout (seconds), for a server in this process (uvicorn's
    `Config(http=...)`); a server in a new process names `HttpProtocol` instead."""
    return type(base.__name__, (base,), {"header_timeout": header_timeout})


@cache
def _settings_header_timeout() -> float:
    """The settings' bound, for an app served without its lifespan (`--lifespan off`)."""
    from image_gateway.settings import load_settings

    return load_settings().client_header_timeout_seconds


def _raw_answer(err: GatewayError, default_headers: list[tuple[bytes, bytes]]) -> tuple[str, bytes]:
    """A new request id, and `err` as bytes on the wire with it, rendered like every other
    error (`error_responses`), after the server's default headers (Server, Date)."""
    request_id = unique_id(REQUEST_ID_PREFIX)
    response = error_response(err, request_id, None)
    status = response.status_code
    headers = [*default_headers, *response.raw_headers, (b"x-request-id", request_id.encode())]
    lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n".encode()]
    lines += [name + b": " + value + b"\r\n" for name, value in headers]
    return request_id, b"".join([*lines, b"\r\n", response.body])
