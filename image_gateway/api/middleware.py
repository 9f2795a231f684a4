"""Pure-ASGI middleware: request context (id, metrics, timing, access log) and the body limits
(size and time)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from image_gateway.api.error_responses import gateway_error_response, unexpected_error_response
from image_gateway.errors import GatewayError, PayloadTooLarge, RequestTimeout
from image_gateway.ids import REQUEST_ID_PREFIX, unique_id
from image_gateway.observability.logs import redact_query
from image_gateway.observability.metrics import UNMATCHED, Metrics, route_label

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
CLIENT_CLOSED = 499  # recorded when the client left before its answer (nginx's code)
access_log = logging.getLogger("image_gateway.access")


class RequestContextMiddleware:
    """Gives every request an id (the client's `X-Request-ID` when it is sane), returns it as a
    response header, answers a `GatewayError` raised outside the routes (the body limit's 413 of
    a declared size) as the app's exception handler does and an unexpected exception with a
    clean 500 (both carry the id as well, and are counted in `igw_errors_total`), counts and
    times the request by route template (with `count`, METRICS_ENABLED), and writes one
    access-log line per request. A client that left before its answer (`ClientDisconnect`,
    from reading the body or from `api/answer.py`) is recorded as 499, without an answer or
    a traceback."""

    def __init__(self, app: ASGIApp, metrics: Metrics, count: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.count = count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = Answer(send, assign_request_id(scope))
        status: int | None = None  # None: the one the answer started with
        try:
            await self.app(scope, receive, answer)
        except ClientDisconnect:
            status = CLIENT_CLOSED  # nobody to answer; not a fault of ours
        except Exception as exc:
            if answer.started:  # too late for an error answer: the server closes the connection
                raise
            if isinstance(exc, GatewayError):  # from a middleware: the routes' handler missed it
                response = gateway_error_response(exc, answer.request_id, self.metrics)
            else:
                response = unexpected_error_response(exc, answer.request_id, self.metrics)
            await response(scope, receive, answer)
        finally:
            failure = scope.get("state", {}).get("stream_error")
            if isinstance(failure, GatewayError):  # a stream that failed after it began
                self.metrics.error(failure)
            metrics = self.metrics if self.count else None
            finished(scope, status or answer.status, started, metrics)


class Answer:
    """The `send` a request's handler gets: echoes the request id on `http.response.start` and
    remembers the status (500 until an answer starts: a request that ends without one is
    recorded as a 500)."""

    __slots__ = ("request_id", "send", "started", "status")

    def __init__(self, send: Send, request_id: str) -> None:
        self.send = send
        self.request_id = request_id
        self.status = 500
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status, self.started = message["status"], True
            add_request_id(message, self.request_id)
        await self.send(message)


def finished(scope: Scope, status: int, started: float, metrics: Metrics | None) -> None:
    """A request is over: count and time it by the route template the router matched when
    `metrics` is given, and write its access-log line."""
    if metrics is not None:
        metrics.observe_request(route_label(scope), status, time.perf_counter() - started)
    log_access(scope, status, started)


def assign_request_id(scope: Scope) -> str:
    """The request's id (the client's `X-Request-ID` when it is sane), kept in its state."""
    request_id = _client_request_id(scope) or unique_id(REQUEST_ID_PREFIX)
    scope.setdefault("state", {})["request_id"] = request_id
    return request_id


def add_request_id(start: Message, request_id: str) -> None:
    """Echo the id on an `http.response.start` message."""
    start.setdefault("headers", []).append((b"x-request-id", request_id.encode()))


def log_access(scope: Scope, status: int, started: float) -> None:
    """The request's one access-log line (at INFO). Its `path` is the request's, with every
    URL parameter value redacted (`logs.redact_query`: a key pasted as `;api_key=...` or
    `%3Fapi_key=...` arrives inside the path), for an answer below 400, whose path named a
    real route and real ids. For an error it is the matched route's template
    (`/v1/jobs/{job_id}`), or null when no route matched: such a path is whatever a client
    typed or pasted, a key included."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    state = scope.get("state", {})
    path: str | None
    if status < 400:
        path = redact_query(scope["path"])
    else:
        path = route_label(scope)
        if path == UNMATCHED:
            path = None
    fields = {
        "request_id": state.get("request_id"),
        "method": scope["method"],
        "path": path,
        "status": status,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        "client": state.get("client_name"),
        "provider": state.get("provider"),
        "model": state.get("model"),
    }
    failure = state.get("stream_error")
    if isinstance(failure, GatewayError):  # the status was 200; the stream ended in an error
        fields["stream_error"] = failure.code
    access_log.info("request", extra={"fields": fields})


async def disconnected(receive: Receive) -> None:
    """Return once the client has gone (`http.disconnect`); for a handler that has read its
    body and waits for something else (any body left is discarded)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case, as ASGI gives names) in the request, as
    text (latin-1, as Starlette's `Headers` decodes it)."""
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def header_list(scope: Scope, name: bytes) -> str:
    """Every value of header `name` in the request, joined with ", " (a list-based field sent
    on several lines is one list, RFC 9110 section 5.3; Starlette's `Headers.get` reads only the
    first); "" when none was sent."""
    return ", ".join(v.decode("latin-1") for n, v in scope["headers"] if n == name)


def _client_request_id(scope: Scope) -> str | None:
    text = header(scope, b"x-request-id")
    return text if text is not None and REQUEST_ID_RE.match(text) else None


class BodyLimitMiddleware:
    """Bounds request bodies in size and time, and is the one producer of 413
    `payload_too_large` (`_too_large()`). Over `max_bytes`: refused at once from
    `Content-Length`, before any route, key check or byte of the body (with
    `Connection: close`; answered by `RequestContextMiddleware`), or as soon as a body without
    one crosses the limit while the handler reads it, never after reading the whole thing
    (answered by the app's exception handler). Either way the answer goes through
    `error_responses` and is counted in `igw_errors_total` like every other error. Not
    complete `timeout` seconds after the request's headers arrived (a client dripping its
    body): 408 `request_timeout` with `Connection: close`. The time is counted only while the
    handler waits for body bytes; a handler that does not read the body is not bound by it
    (the server's header timeout then covers the unread rest: `server.py`)."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine: it returns the next app's (and a 413 of a declared size is raised
        # at the call, where `await` raises it), so no frame of its own stays alive while a
        # request waits: every frame kept per request is kept once per long generation in
        # flight.
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            # Not read: the connection is closed so that its bytes are not taken for a request.
            raise _too_large(self.max_bytes, headers={"Connection": "close"})
        deadline = asyncio.get_running_loop().time() + self.timeout
        limited = LimitedReceive(receive, deadline, self.max_bytes, self.timeout)
        return self.app(scope, limited, send)


class LimitedReceive:
    """`BodyLimitMiddleware`'s `receive`: body messages counted against `max_bytes` and due
    by `deadline` (the loop's clock). Once the body is complete, a call is the server's own
    `receive()` (only `http.disconnect` is left, whenever it comes), with no frame of ours
    around it: a synchronous answer waits on it for the whole generation."""

    __slots__ = ("complete", "deadline", "max_bytes", "receive", "received", "timeout")

    def __init__(self, receive: Receive, deadline: float, max_bytes: int, timeout: float) -> None:
        self.receive = receive
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.received = 0
        self.complete = False

    def __call__(self) -> Awaitable[Message]:
        if self.complete:
            return self.receive()
        return self._body()

    async def _body(self) -> Message:
        message = await receive_by(self.receive, self.deadline, self.timeout)
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.max_bytes:
                raise _too_large(self.max_bytes)
            self.complete = not message.get("more_body", False)
        return message


async def receive_by(receive: Receive, deadline: float, seconds: float) -> Message:
    """The next request message, or `RequestTimeout` (408, `Connection: close`: the rest of
    the body must not be read as a next request) when the loop's clock passes `deadline`
    (`seconds` after the request began, for the message)."""
    try:
        async with asyncio.timeout_at(deadline):
            return await receive()
    except TimeoutError:
        raise RequestTimeout(
            f"the request body did not arrive within {seconds:g} seconds",
            headers={"Connection": "close"},
        ) from None


def _content_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def _too_large(limit: int, headers: dict[str, str] | None = None) -> PayloadTooLarge:
    """The 413 of a body over `limit` bytes (MAX_REQUEST_BYTES)."""
    return PayloadTooLarge(f"request body is larger than {limit} bytes", headers=headers)
