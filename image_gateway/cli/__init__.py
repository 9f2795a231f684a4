"""`image-gateway` (also `python -m image_gateway`): use a gateway, and manage one, from a shell.

Client commands, talking to a gateway over HTTP (`--url` or IMAGE_GATEWAY_URL, default
http://127.0.0.1:8000; the key from `--api-key` or IMAGE_GATEWAY_API_KEY):

    image-gateway generate PROMPT [-m MODEL ...] [-n N] [--size WxH] [-o DIR] [--json]
    image-gateway edit IMAGE PROMPT [--mask MASK] [-m MODEL ...] [-o DIR] [--json]
    image-gateway models [--configured] [--json]
    image-gateway jobs [list | show ID | cancel ID | wait ID [-o DIR]] [--json]

(generate.py: generate and edit; models.py; jobs.py; client.py: the HTTP; watch.py: one job
followed to its images; display.py: what is printed.)

Admin commands, on the gateway's own database and settings (admin.py):

    image-gateway keys create|list|revoke ...
    image-gateway db upgrade
    image-gateway worker [--concurrency N]

Exit status: 0 done; 1 a request or job failed (the API's message on stderr), or, for the
admin commands, not found or the database unreachable; 2 bad arguments or configuration (an
unreachable gateway, a refused key, a malformed URL, an unreadable input file); 130 interrupted
(jobs already submitted go on; each is named with the `jobs cancel` command that stops it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from image_gateway.cli import admin, generate, jobs, models
from image_gateway.cli.client import KEY_VARIABLE, URL_VARIABLE, CliError

# The client commands' own options, set on each of them, so they can come after the command
# as well as after its action (`jobs show ID --json`).
CLIENT_DEFAULTS = {"url": None, "api_key": None, "json": False, "quiet": False}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for name, value in CLIENT_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    command: Callable[[argparse.Namespace], int] = args.run
    try:
        status = command(args)
        sys.stdout.flush()  # a full disk or closed pipe shows here, not at interpreter exit
        return status
    except CliError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # stdout closed early (`| head`): stop quietly, as a pipe's reader expects.
        _drop_stdout()
        return 1
    except OSError as exc:
        # stdout cannot be written (`> /dev/full`); every file the commands read or write
        # turns its own OSError into a CliError, so this is the output.
        _drop_stdout()
        print(f"error: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so what is left in its buffer is dropped at exit quietly."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="image-gateway",
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "Exit status: 0 done, 1 a request or job failed, 2 bad arguments or configuration, "
            "130 interrupted (Ctrl+C; submitted jobs go on, each named with its cancel command)."
        ),
    )
    groups = top.add_subparsers(dest="group", required=True, metavar="COMMAND")
    common = _client_options()
    generate.add_commands(groups, common)
    models.add_commands(groups, common)
    jobs.add_commands(groups, common)
    admin.add_commands(groups)
    return top


def _client_options() -> argparse.ArgumentParser:
    """--url, --api-key, --json, --quiet: defaults suppressed, so a value given after the
    command survives its action's parser (and `main` fills in what none gave)."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--url", help=f"the gateway (default: ${URL_VARIABLE} or 127.0.0.1:8000)")
    common.add_argument(
        "--api-key", help=f"the gateway key (default: ${KEY_VARIABLE}; prefer the variable)"
    )
    common.add_argument("--json", action="store_true", help="one JSON document on stdout")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return common
