"""Whether a request reached the app through the gateway's own HTTP protocols (`server.py`),
and the warning when it did not; the lifespan-state keys they share with the app (`SERVED_BY`,
`METRICS`, `HEADER_TIMEOUT`).

Apart from `server.py` so that building the app loads no uvicorn: `import main` in a process
that is not uvicorn's (Vercel's runtime, the CLI, a test) would otherwise import uvicorn's
protocols, its CLI (click) and its config (issue 16: ~0.05 s of a cold `import main` under load,
bench/RESULTS.md).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send

SERVED_BY = "image_gateway.server"  # key in the lifespan state, copied into every request scope
METRICS = "image_gateway.metrics"  # key in the lifespan state: the app's `Metrics` (server.py)
# Key in the lifespan state: the app's CLIENT_HEADER_TIMEOUT_SECONDS (server.py), so the first
# connection does not load the settings a second time (issue 16: ~0.05 s of a cold start).
HEADER_TIMEOUT = "image_gateway.header_timeout"
log = logging.getLogger("image_gateway.server")


class ServedByCheck:
    """Pure-ASGI middleware: on the app's first HTTP request, a warning when the server is not
    one of these protocols (uvicorn started without `--http image_gateway.server:HttpProtocol`),
    so nothing bounds the time a client takes to send request headers. After that request it
    only passes requests on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.checked = False

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine: it returns the next app's, so no frame of its own stays alive for
        # the request's whole life (as `middleware.BodyLimitMiddleware`).
        if not self.checked and scope["type"] == "http":
            self.checked = True
            if SERVED_BY not in scope.get("state", ()):
                log.warning(
                    "the server does not bound the time a client takes to send request "
                    "headers (slow clients can hold connections); start uvicorn with "
                    "--http image_gateway.server:HttpProtocol (see README, Running)"
                )
        return self.app(scope, receive, send)
