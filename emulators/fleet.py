"""Every registered emulator in one process: `python -m emulators all` (what `make emulators`
runs), and the emulators behind `python -m emulators demo`.

The switches come from the registry (`registry.py`), so a newly registered emulator is in
`all` without a line here: per emulator `--<name>-port` (its `DEFAULT_PORT`), with a second
listener `--<name>-poll-port` (its `DEFAULT_POLL_PORT`, or any when its port is 0), and
`--<name>-api-key` (its `DEFAULT_API_KEY`); for all of them `--host` and `--strict`. Two
listeners asked for the same port are a usage error before anything binds.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from .kit import cli
from .kit.emulator import Emulator
from .registry import EMULATORS, load


def registered() -> list[type[Emulator]]:
    """The registered emulator classes, in the registry's order."""
    return [load(name) for name in EMULATORS]


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    """The per-emulator switches: ports and keys."""
    for cls in registered():
        parser.add_argument(
            f"--{cls.NAME}-port",
            type=cli.port,
            default=cls.DEFAULT_PORT,
            metavar="PORT",
            help=f"the {cls.TITLE} ({cls.DEFAULT_PORT}; 0 = any)",
        )
        if cls.DEFAULT_POLL_PORT is not None:
            parser.add_argument(
                f"--{cls.NAME}-poll-port",
                type=cli.port,
                default=None,
                metavar="PORT",
                help=f"the {cls.TITLE}'s {cls.POLL_ROLE_HELP} ({cls.DEFAULT_POLL_PORT}, or any "
                f"when --{cls.NAME}-port is 0)",
            )
        parser.add_argument(
            f"--{cls.NAME}-api-key",
            type=cli.api_key,
            default=cls.DEFAULT_API_KEY,
            metavar="KEY",
            help=f"the key the {cls.TITLE} accepts ({cls.DEFAULT_API_KEY})",
        )


def add_all_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface they listen on (default 127.0.0.1)"
    )
    add_emulator_arguments(parser)
    add_strict_argument(parser)


def add_strict_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse unknown fields where a real API silently ignores them",
    )


def ports(args: argparse.Namespace) -> dict[str, int]:
    """Every listener's port (option name -> port), as each emulator will bind it."""
    out: dict[str, int] = {}
    for cls in registered():
        port = getattr(args, f"{cls.NAME}_port")
        out[f"--{cls.NAME}-port"] = port
        if cls.DEFAULT_POLL_PORT is not None:
            poll = getattr(args, f"{cls.NAME}_poll_port")
            out[f"--{cls.NAME}-poll-port"] = cls.poll_port_of(
                argparse.Namespace(port=port, poll_port=poll)
            )
    return out


def problem(args: argparse.Namespace) -> str | None:
    """A usage error in the parsed arguments (the same port twice), else None."""
    return cli.same_port_twice(ports(args))


@contextmanager
def started(args: argparse.Namespace, host: str) -> Iterator[list[Emulator]]:
    """Every registered emulator on `host`, in background threads, stopped on exit (those
    already started are stopped when a later one cannot bind)."""
    with ExitStack() as stack:
        running = []
        for cls in registered():
            options = {
                "host": host,
                "port": getattr(args, f"{cls.NAME}_port"),
                "api_key": getattr(args, f"{cls.NAME}_api_key"),
                "strict": args.strict,
            }
            if cls.DEFAULT_POLL_PORT is not None:
                options["poll_port"] = getattr(args, f"{cls.NAME}_poll_port")
            running.append(stack.enter_context(cls.from_options(**options)))
        yield running


def run_all(args: argparse.Namespace) -> None:
    """Serve every emulator until Ctrl+C or SIGTERM, after printing each one's ready text."""
    with started(args, args.host) as running:
        for emulator in running:
            print(emulator.ready_text(), flush=True)
        print("Ctrl+C stops them.", flush=True)
        wait_for_a_stop_signal()


def wait_for_a_stop_signal(child: subprocess.Popen[bytes] | None = None) -> None:
    """Block until Ctrl+C or SIGTERM (or the child, the demo's gateway, ends by itself)."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set() and (child is None or child.poll() is None):
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
