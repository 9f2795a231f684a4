"""Both emulators in one process (`python -m emulators all`, what `make emulators` runs), and
the one-command demo (`python -m emulators demo`, `make demo`): the emulators plus a gateway
wired to them, with the keys and URLs it uses printed.

The demo starts the gateway the way `make run` does — `uvicorn main:app` with the gateway's
HTTP protocol (`--http image_gateway.server:HttpProtocol`) in a child process, configured only
through environment variables (printed, so the wiring can be copied) — and does not import it:
the emulators stay independent of the gateway's code. The gateway's database and images go to
a temporary folder that is removed at the end.

Ctrl+C (or SIGTERM) stops everything and exits 0; a port in use is a one-line error, exit 1.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .bfl import BFLEmulator
from .openai_images import OpenAIEmulator

REPO = Path(__file__).resolve().parent.parent
OPENAI_KEY = "sk-emulator"
BFL_KEY = "bfl-emulator"
READY_TIMEOUT = 60.0


def add_port_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--openai-port", type=int, default=9101, help="OpenAI emulator (9101)")
    parser.add_argument("--bfl-port", type=int, default=9201, help="BFL submit API (9201)")
    parser.add_argument(
        "--bfl-poll-port", type=int, default=9202, help="BFL polling and downloads (9202)"
    )


def add_all_arguments(parser: argparse.ArgumentParser) -> None:
    add_port_arguments(parser)


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="the gateway's address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="the gateway's port (8000)")
    parser.add_argument("--gateway-key", default=None, help="client key (default: a random one)")
    add_port_arguments(parser)


@contextmanager
def emulators(args: argparse.Namespace) -> Iterator[tuple[OpenAIEmulator, BFLEmulator]]:
    """Both emulators on loopback, in background threads, stopped on exit."""
    openai = OpenAIEmulator(api_key=OPENAI_KEY, port=args.openai_port).start()
    try:
        bfl = BFLEmulator(api_key=BFL_KEY, port=args.bfl_port, poll_port=args.bfl_poll_port)
        bfl.start()
        try:
            yield openai, bfl
        finally:
            bfl.stop()
    finally:
        openai.stop()


def run_all(args: argparse.Namespace) -> None:
    with emulators(args) as (openai, bfl):
        print(f"OpenAI Images emulator: {openai.base_url}  (key {OPENAI_KEY})", flush=True)
        print(
            f"BFL emulator: {bfl.base_url}, polling {bfl.poll_base_url}  (key {BFL_KEY})",
            flush=True,
        )
        print("Ctrl+C stops both.", flush=True)
        _wait_for_a_stop_signal()


def gateway_environment(
    openai: OpenAIEmulator, bfl: BFLEmulator, gateway_key: str, data: Path
) -> dict[str, str]:
    """The settings that wire a gateway to the emulators (README "Emulators")."""
    return {
        "GATEWAY_API_KEYS": gateway_key,
        "OPENAI_BASE_URL": openai.base_url,
        "OPENAI_API_KEY": OPENAI_KEY,
        "BFL_BASE_URL": bfl.base_url,
        # Polling and result downloads come from another port: an origin trusted explicitly.
        "BFL_TRUSTED_HOSTS": bfl.poll_base_url,
        "BFL_API_KEY": BFL_KEY,
        "DATABASE_URL": f"sqlite+aiosqlite:///{data / 'gateway.db'}",
        "IMAGE_STORE_DIR": str(data / "images"),
    }


def run_demo(args: argparse.Namespace) -> None:
    if not (REPO / "main.py").is_file():
        raise SystemExit("error: the demo runs from a checkout of image-gateway (main.py)")
    _check_free(args.host, args.port)
    key = args.gateway_key or "demo-" + secrets.token_urlsafe(18)
    with emulators(args) as (openai, bfl), tempfile.TemporaryDirectory() as data:
        wiring = gateway_environment(openai, bfl, key, Path(data))
        command = [sys.executable, "-m", "uvicorn", "main:app", "--app-dir", str(REPO)]
        command += ["--host", args.host, "--port", str(args.port), "--no-access-log"]
        command += ["--http", "image_gateway.server:HttpProtocol"]  # as `make run` serves it
        # Its own process group: Ctrl+C reaches only us, and we pass one SIGINT on, so the
        # gateway shuts down gracefully once (a second SIGINT would make uvicorn force it).
        gateway = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=REPO, env={**os.environ, **wiring}, process_group=0
        )
        try:
            base = _base_url(args.host, args.port)
            if not _ready(base, gateway):
                if gateway.poll() is None:
                    print(f"error: the gateway did not answer within {READY_TIMEOUT:.0f} s")
                raise SystemExit(1)
            _print_demo(base, key, openai, bfl, wiring)
            _wait_for_a_stop_signal(gateway)
        finally:
            _stop(gateway)


def _base_url(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 - not a bind
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _check_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _ready(base: str, gateway: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and gateway.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310 - http URL
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _print_demo(
    base: str, key: str, openai: OpenAIEmulator, bfl: BFLEmulator, wiring: dict[str, str]
) -> None:
    shown = " ".join(f"{name}={value}" for name, value in wiring.items())
    print(
        f"""
image-gateway demo: a gateway wired to the provider emulators (nothing leaves this machine)

  gateway          {base}/v1    docs {base}/docs
  gateway key      {key}    (X-API-Key: <key>, or Authorization: Bearer <key>)
  OpenAI emulator  {openai.base_url}    key {OPENAI_KEY}
  BFL emulator     {bfl.base_url}    polling {bfl.poll_base_url}    key {BFL_KEY}

The gateway runs as: {shown} uvicorn main:app --http image_gateway.server:HttpProtocol

Try it:
  export KEY={key}
  curl {base}/v1/images/generations -H "X-API-Key: $KEY" -H 'content-type: application/json' \\
    -d '{{"model": "bfl-flux/flux-pro-1.1", "prompt": "a lighthouse at dusk"}}'
  curl {base}/v1/images/generations -H "X-API-Key: $KEY" -H 'content-type: application/json' \\
    -d '{{"model": "gpt-image-1", "prompt": "a red fox", "size": "1024x1024"}}'

Ctrl+C stops the gateway and the emulators.
""",
        flush=True,
    )


def _wait_for_a_stop_signal(child: subprocess.Popen[bytes] | None = None) -> None:
    """Block until Ctrl+C or SIGTERM (or the child gateway ends by itself)."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set() and (child is None or child.poll() is None):
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop(gateway: subprocess.Popen[bytes]) -> None:
    if gateway.poll() is None:
        gateway.send_signal(signal.SIGINT)
        try:
            gateway.wait(timeout=30)
        except subprocess.TimeoutExpired:
            gateway.kill()
            gateway.wait()
