"""`BFLEmulator` (in-process, background thread) and the CLI entry points."""

from __future__ import annotations

import argparse
import socket
from typing import Any

import uvicorn

from .._server import BackgroundServer, bind_socket, serve_until_stopped, url_of
from .app import BFLApp
from .faults import parse_faults
from .tasks import EmulatorState


class BFLEmulator:
    """Black Forest Labs API emulator on two loopback listeners.

    `base_url` (submit API, no `/v1` suffix, like `https://api.bfl.ai`) and `poll_base_url`
    (where `polling_url` and the signed `result.sample` URLs point; a different port and,
    with `poll_host="localhost"`, a different host name). A limit of None disables it.
    `report_cost=False` answers submissions without `cost` (BFL's answers of 2024-25).
    """

    def __init__(
        self,
        api_key: str = "bfl-emulator",
        generation_seconds: float = 1.0,
        sample_ttl: float = 600.0,
        concurrency_limit: int | None = 24,
        kontext_max_limit: int | None = 6,
        credits: float = 1e9,
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        task_retention: float = 3600.0,
        max_tasks: int = 20000,
        report_cost: bool = True,
    ) -> None:
        self.host, self.port = host, port
        self.poll_port, self.poll_host = poll_port, poll_host or host
        self.state = EmulatorState(
            api_key,
            generation_seconds,
            sample_ttl,
            concurrency_limit,
            kontext_max_limit,
            credits,
            task_retention=task_retention,
            max_tasks=max_tasks,
            report_cost=report_cost,
        )
        self._server: BackgroundServer | None = None
        self.base_url = ""
        self.poll_base_url = ""

    def bind(self) -> tuple[socket.socket, socket.socket, BFLApp]:
        submit_sock = bind_socket(self.host, self.port)
        poll_sock = bind_socket(self.host, self.poll_port)
        self.base_url = url_of(submit_sock, self.host)
        self.poll_base_url = url_of(poll_sock, self.poll_host)
        self.state.poll_base_url = self.poll_base_url
        return submit_sock, poll_sock, BFLApp(self.state, poll_sock.getsockname()[1])

    def start(self) -> BFLEmulator:
        submit_sock, poll_sock, app = self.bind()
        self.state.stopping.clear()
        self._server = BackgroundServer(app, [submit_sock, poll_sock])
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.state.stopping.set()
            self._server.stop()
            self._server = None

    def __enter__(self) -> BFLEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def reset(self) -> None:
        self.state.reset()

    def add_faults(self, faults: list[dict[str, Any]]) -> None:
        self.state.faults.add(parse_faults({"faults": faults}))

    def clear_faults(self) -> None:
        self.state.faults.clear()


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9201, help="submit API port (default 9201)")
    parser.add_argument(
        "--poll-port", type=int, default=9202, help="polling/delivery port (default 9202)"
    )
    parser.add_argument("--poll-host", default=None, help="host name used in polling/sample URLs")
    parser.add_argument("--api-key", default="bfl-emulator", help="accepted x-key value")
    parser.add_argument("--generation-seconds", type=float, default=1.0)
    parser.add_argument("--sample-ttl", type=float, default=600.0, help="sample URL lifetime (s)")
    parser.add_argument(
        "--concurrency-limit", type=int, default=24, help="active tasks per key; 0 = unlimited"
    )
    parser.add_argument(
        "--kontext-max-limit",
        type=int,
        default=None,
        help="active flux-kontext-max tasks; 0 = unlimited "
        "(default 6, or unlimited when --concurrency-limit is 0)",
    )
    parser.add_argument("--credits", type=float, default=1e9)


def run_cli(args: argparse.Namespace) -> None:
    """Serve both listeners in the foreground until interrupted."""
    limit = args.concurrency_limit or None
    kontext = args.kontext_max_limit if args.kontext_max_limit is not None else (6 if limit else 0)
    emu = BFLEmulator(
        api_key=args.api_key,
        generation_seconds=args.generation_seconds,
        sample_ttl=args.sample_ttl,
        concurrency_limit=limit,
        kontext_max_limit=kontext or None,
        credits=args.credits,
        host=args.host,
        port=args.port,
        poll_port=args.poll_port,
        poll_host=args.poll_host,
    )
    submit_sock, poll_sock, app = emu.bind()
    ready = f"BFL emulator: submit {emu.base_url}  poll {emu.poll_base_url}"
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=2
    )
    try:
        serve_until_stopped(config, [submit_sock, poll_sock], ready)
    finally:
        emu.state.stopping.set()
        submit_sock.close()
        poll_sock.close()
