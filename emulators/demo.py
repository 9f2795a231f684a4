"""The one-command demo (`python -m emulators demo`, what `make demo` runs): every registered
emulator (`fleet.py`) plus a gateway wired to them, with the keys and URLs it uses printed.

The demo starts the gateway the way `make run` does — `uvicorn main:app` with the gateway's
HTTP protocol (`--http image_gateway.server:HttpProtocol`) in a child process, configured only
through environment variables (printed, so the wiring can be copied) — and does not import it:
the emulators stay independent of the gateway's code. The gateway's database and images go to
a temporary folder that is removed at the end.

Each provider is wired under its canonical variables (`BFL_FLUX_BASE_URL`, from the emulator's
`gateway_environment()`), which the gateway reads before its aliases, and the aliases
(`BFL_BASE_URL`: the emulator's `PROVIDER_ENV_ALIASES`) are removed from the environment the
gateway inherits: a provider URL or key exported in the user's shell never points the demo at
the real provider.

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
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from . import fleet
from .kit import cli
from .kit.emulator import Emulator

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="the gateway's address (127.0.0.1)")
    parser.add_argument("--port", type=cli.port, default=8000, help="the gateway's port (8000)")
    parser.add_argument(
        "--gateway-key", type=cli.api_key, default=None, help="client key (default: a random one)"
    )
    fleet.add_emulator_arguments(parser)
    fleet.add_strict_argument(parser)


def problem(args: argparse.Namespace) -> str | None:
    """A usage error in the parsed arguments (the same port twice), else None."""
    return cli.same_port_twice({"--port": args.port, **fleet.ports(args)})


def gateway_environment(emulators: list[Emulator], gateway_key: str, data: Path) -> dict[str, str]:
    """The settings that wire a gateway to the emulators (README "Emulators")."""
    env = {"GATEWAY_API_KEYS": gateway_key}
    for emulator in emulators:
        env |= emulator.gateway_environment()
    return env | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{data / 'gateway.db'}",
        "IMAGE_STORE_DIR": str(data / "images"),
    }


def inherited(environ: Mapping[str, str], emulators: list[Emulator]) -> dict[str, str]:
    """The user's environment without the aliases of the variables the demo sets
    (`BFL_BASE_URL` beside `BFL_FLUX_BASE_URL`), so no exported value competes with them."""
    shadowed = {
        alias
        for emulator in emulators
        for setting in emulator.gateway_settings()
        for alias in emulator.alias_variables(setting)
    }
    return {name: value for name, value in environ.items() if name.upper() not in shadowed}


def run_demo(args: argparse.Namespace) -> None:
    if not (REPO / "main.py").is_file():
        raise SystemExit("error: the demo runs from a checkout of image-gateway (main.py)")
    _check_free(args.host, args.port)
    key = args.gateway_key or "demo-" + secrets.token_urlsafe(18)
    with fleet.started(args, "127.0.0.1") as emulators, tempfile.TemporaryDirectory() as data:
        wiring = gateway_environment(emulators, key, Path(data))
        command = [sys.executable, "-m", "uvicorn", "main:app", "--app-dir", str(REPO)]
        command += ["--host", args.host, "--port", str(args.port), "--no-access-log"]
        command += ["--http", "image_gateway.server:HttpProtocol"]  # as `make run` serves it
        env = inherited(os.environ, emulators) | wiring
        # Its own process group: Ctrl+C reaches only us, and we pass one SIGINT on, so the
        # gateway shuts down gracefully once (a second SIGINT would make uvicorn force it).
        gateway = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=REPO, env=env, process_group=0
        )
        try:
            base = _base_url(args.host, args.port)
            if not _ready(base, gateway):
                if gateway.poll() is None:
                    print(f"error: the gateway did not answer within {READY_TIMEOUT:.0f} s")
                raise SystemExit(1)
            _print_demo(base, key, emulators, wiring)
            fleet.wait_for_a_stop_signal(gateway)
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


def _print_demo(base: str, key: str, emulators: list[Emulator], wiring: dict[str, str]) -> None:
    shown = " ".join(f"{name}={value}" for name, value in wiring.items())
    listed = "\n".join(
        f"  {emulator.TITLE:<24} {emulator.base_url}"
        + (f"    {emulator.POLL_ROLE} {emulator.poll_url}" if emulator.poll_url else "")
        + f"    key {emulator.api_key}"
        for emulator in emulators
    )
    # A provider's name as `model` means its default model (README "Using it").
    tries = "\n".join(
        f'  curl {base}/v1/images/generations -H "X-API-Key: $KEY" '
        f"-H 'content-type: application/json' \\\n"
        f'    -d \'{{"model": "{emulator.provider()}", "prompt": "a lighthouse at dusk"}}\''
        for emulator in emulators
    )
    print(
        f"""
image-gateway demo: a gateway wired to the provider emulators (nothing leaves this machine)

  gateway                  {base}/v1    docs {base}/docs
  playground               {base}/playground    (in a browser: type the key below)
  gateway key              {key}    (X-API-Key: <key>, or Authorization: Bearer <key>)
{listed}

The gateway runs as: {shown} uvicorn main:app --http image_gateway.server:HttpProtocol

Try it:
  export KEY={key}
{tries}

Ctrl+C stops the gateway and the emulators.
""",
        flush=True,
    )


def _stop(gateway: subprocess.Popen[bytes]) -> None:
    if gateway.poll() is None:
        gateway.send_signal(signal.SIGINT)
        try:
            gateway.wait(timeout=30)
        except subprocess.TimeoutExpired:
            gateway.kill()
            gateway.wait()
