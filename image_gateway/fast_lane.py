"""The fast lane: `POST /v1/images/generations`, the route every generation takes, straight from
the ASGI server to its handler.

Starlette's middleware stack, routing and FastAPI's dependency solving took about 40 % of a
proxied request's CPU (py-spy, bench/RESULTS.md). The lane skips that machinery, not what it
does: in the same order as the routed request, it gives the request its id (echoed as
`X-Request-ID`), refuses a body over MAX_REQUEST_BYTES or not received within
CLIENT_BODY_TIMEOUT_SECONDS, authenticates, reads and validates the body, answers through the
routed handler's own `generate()`, renders errors through `error_responses`, and counts and
logs the request as the middleware does (a client that left before its answer as 499).
Everything else (other routes and methods, an app mounted under a `root_path`) goes through
FastAPI as usual. The route stays registered there too, so it is documented and served the
same way.
"""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from .api.deps import authenticate, public_base_url
from .api.images import generate
from .dispatch import Dispatcher
from .error_responses import gateway_error_response, unexpected_error_response
from .errors import GatewayError
from .metrics import Metrics
from .middleware import (
    CLIENT_CLOSED,
    Answer,
    assign_request_id,
    declared_too_large,
    finished,
    read_body,
    send_413,
)
from .server import SERVED_BY

ROUTE = "/v1/images/generations"
log = logging.getLogger("image_gateway")


class FastLane:
    def __init__(
        self,
        dispatcher: Dispatcher,
        metrics: Metrics,
        *,
        max_bytes: int,
        body_timeout: float,
        count: bool,
    ) -> None:
        self.dispatcher = dispatcher
        self.metrics = metrics
        self.max_bytes = max_bytes
        self.body_timeout = body_timeout
        self.count = count  # METRICS_ENABLED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        answer = Answer(send, assign_request_id(scope))
        status: int | None = None  # None: the one the answer started with
        try:
            if declared_too_large(scope, self.max_bytes):
                await send_413(scope, answer, self.max_bytes)
                return
            try:
                response = await self._answer(scope, receive)
            except GatewayError as err:
                response = gateway_error_response(err, answer.request_id, self.metrics)
            except ClientDisconnect:
                status = CLIENT_CLOSED
                return
            except Exception as exc:
                response = unexpected_error_response(exc, answer.request_id, self.metrics)
            await response(scope, receive, answer)
        finally:
            metrics = self.metrics if self.count else None
            finished(scope, status or answer.status, started, metrics, ROUTE)

    async def _answer(self, scope: Scope, receive: Receive) -> Response:
        deadline = asyncio.get_running_loop().time() + self.body_timeout
        request = Request(scope, receive)
        client = await authenticate(request)
        raw_body = await read_body(scope, receive, self.max_bytes, deadline, self.body_timeout)
        return await generate(
            request,
            raw_body,
            client=client,
            dispatcher=self.dispatcher,
            base_url=await public_base_url(request),
        )


class Gateway(FastAPI):
    """FastAPI with the fast lane in front of its own stack (`lane` is set by `create_app`).
    Its first request says, with a warning, when the server does not bound the time to receive
    request headers (uvicorn started without `--http image_gateway.server:HttpProtocol`)."""

    lane: FastLane | None = None
    server_checked = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.server_checked and scope["type"] == "http":
            self.server_checked = True
            if SERVED_BY not in scope.get("state", ()):
                log.warning(
                    "the server does not bound the time a client takes to send request "
                    "headers (slow clients can hold connections); start uvicorn with "
                    "--http image_gateway.server:HttpProtocol (see README, Running)"
                )
        lane = self.lane
        if (
            lane is not None
            and scope["type"] == "http"
            and scope["path"] == ROUTE
            and scope["method"] == "POST"
            and not scope.get("root_path")
        ):
            scope["app"] = self
            await lane(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
