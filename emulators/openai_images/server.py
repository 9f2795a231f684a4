"""Running the emulator: in a background thread for tests, or blocking from the command line."""

from __future__ import annotations

import argparse
from types import TracebackType

import uvicorn

from .._server import BackgroundServer, bind_socket, serve_until_stopped, url_of
from .app import EmulatorApp

DEFAULT_PORT = 9101


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 - not a bind


class OpenAIEmulator:
    """An OpenAI Images API emulator on a real loopback socket.

    `base_url` ends in `/v1`, like OpenAI's, so it can be handed to `openai.OpenAI(base_url=...)`.
    """

    def __init__(
        self,
        api_key: str = "sk-emulator",
        latency: float = 0.0,
        url_ttl: float = 3600,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app = EmulatorApp(api_key=api_key, latency=latency, url_ttl=url_ttl)
        self.host = host
        self.port = port
        self.url: str | None = None  # scheme://host:port, set by start()
        self._server: BackgroundServer | None = None

    @property
    def base_url(self) -> str:
        if self.url is None:
            raise RuntimeError("emulator not started")
        return self.url + "/v1"

    def start(self) -> OpenAIEmulator:
        if self._server is not None:
            return self
        sock = bind_socket(self.host, self.port)
        server = BackgroundServer(self.app, [sock])
        try:
            server.start()
        except BaseException:
            sock.close()
            raise
        self._server = server
        self.port = sock.getsockname()[1]
        self.url = url_of(sock, _client_host(self.host))
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.app.release_stalled()
        self._server.stop()
        self._server = None

    def __enter__(self) -> OpenAIEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any)"
    )
    parser.add_argument("--api-key", default="sk-emulator", help="the one accepted Bearer key")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added before each image answer"
    )
    parser.add_argument(
        "--url-ttl", type=float, default=3600.0, help="lifetime of DALL-E result URLs, seconds"
    )
    parser.add_argument(
        "--log-level", default="warning", help="uvicorn log level (default warning)"
    )


def run_cli(args: argparse.Namespace) -> None:
    """Serve until interrupted; print one line with the base URL once it serves."""
    app = EmulatorApp(api_key=args.api_key, latency=args.latency, url_ttl=args.url_ttl)
    sock = bind_socket(args.host, args.port)
    ready = f"OpenAI Images emulator: {url_of(sock, _client_host(args.host))}/v1"
    config = uvicorn.Config(app, log_level=args.log_level, lifespan="on", access_log=False)
    try:
        serve_until_stopped(config, [sock], ready)
    finally:
        sock.close()
