"""Run an ASGI app under uvicorn on pre-bound sockets: in a background thread (tests, the demo)
or in the foreground until Ctrl+C (the command line).

Binding the socket first gives the caller the real port (port 0 = ephemeral) before the server
starts, which is what tests and the benchmark need to wire base URLs together.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn

# Seconds an emulator keeps an idle kept-alive connection open: longer than the gateway's own
# 30 s (`image_gateway.upstream.client.IDLE_TIMEOUT`), as providers' front ends are (nginx's
# default `keepalive_timeout` is 75 s, an AWS Application Load Balancer's idle timeout 60 s,
# Google's external Application Load Balancer's 610 s). uvicorn's 5 s default closed
# connections the gateway was about to reuse: on a loaded machine a request sent just as the
# server closed its connection was reset, a 502 a real provider would not have caused.
KEEP_ALIVE_SECONDS = 75


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        # The OS says only "Address already in use"; say which address.
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class BackgroundServer:
    """One uvicorn server in a daemon thread, listening on one or more pre-bound sockets;
    `options` go to `uvicorn.Config` (the gateway's tests pass its `http` protocol)."""

    def __init__(
        self,
        app: Any,
        sockets: list[socket.socket],
        log_level: str = "warning",
        **options: Any,
    ) -> None:
        self.sockets = sockets
        config = uvicorn.Config(
            app, log_level=log_level, lifespan="on", access_log=False, **options
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.server.run(sockets=self.sockets)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("emulator server failed to start")
            time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)
        for sock in self.sockets:
            sock.close()


def serve_until_stopped(config: uvicorn.Config, sockets: list[socket.socket], ready: str) -> None:
    """Serve in the foreground until Ctrl+C or SIGTERM, printing `ready` once the server
    accepts connections (not before: a Ctrl+C that came before uvicorn had installed its signal
    handlers would end with a traceback and a "never awaited" warning instead of quietly)."""
    server = uvicorn.Server(config)

    async def serve() -> None:
        serving = asyncio.create_task(server.serve(sockets=sockets))
        # uvicorn shows being ready only as a flag (`Server.started`), no event to await.
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if server.started:
            print(ready, flush=True)
        await serving

    asyncio.run(serve())


def url_of(sock: socket.socket, host: str = "127.0.0.1") -> str:
    return f"http://{client_host(host)}:{sock.getsockname()[1]}"


def client_host(host: str) -> str:
    """The address a client reaches a server bound to `host` at (`0.0.0.0`: loopback)."""
    return "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 - not a bind
