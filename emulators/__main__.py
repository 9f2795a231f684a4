"""Run the emulators on their own:

    python -m emulators openai --port 9101 --api-key K
    python -m emulators bfl --port 9201 --poll-port 9202 --api-key K
    python -m emulators bfl-flux ...   # the same: a provider's gateway name names its emulator
    python -m emulators all      # every registered emulator in one process (make emulators)
    python -m emulators demo     # all of them, plus a gateway wired to them (make demo)

Every emulator takes `--host`, `--port`, `--api-key`, `--strict` and `--log-level` (plus
`--poll-port`/`--poll-host` where polling is on another listener) and its own switches;
`--help` on each lists them. A bad value (a port outside 0-65535, an empty key, a negative
duration, the same port for two listeners) is a one-line usage error (exit 2). Ctrl+C stops
them (exit 0); an address in use is a one-line error (exit 1).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from . import demo, fleet
from .registry import EMULATORS

# Faults are switched on while an emulator runs, not with its arguments: said under each
# emulator's own --help, where a newcomer looked for them.
FAULTS_EPILOG = (
    "Faults (errors, rate limits, moderation, hanging or cut answers) are switched on while it "
    "runs: POST /_emulator/faults on its port (no key), and prompt markers such as "
    "[moderate]; both are listed in emulators/README.md."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulators",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="emulator", required=True)
    for cls in fleet.registered():
        aliases = [cls.provider()] if cls.provider() != cls.NAME else []
        command = sub.add_parser(
            cls.NAME, aliases=aliases, help=EMULATORS[cls.NAME][1], epilog=FAULTS_EPILOG
        )
        cls.add_cli_arguments(command)
        command.set_defaults(run=cls.run_cli, problem=cls.cli_problem, parser=command)
    every = sub.add_parser("all", help="every registered emulator in one process")
    fleet.add_all_arguments(every)
    every.set_defaults(run=fleet.run_all, problem=fleet.problem, parser=every)
    demo_command = sub.add_parser("demo", help="every emulator and a gateway wired to them")
    demo.add_demo_arguments(demo_command)
    demo_command.set_defaults(run=demo.run_demo, problem=demo.problem, parser=demo_command)

    args = parser.parse_args(argv)
    problem: Callable[[argparse.Namespace], str | None] = args.problem
    message = problem(args)
    if message:
        args.parser.error(message)  # the subcommand's usage line, exit 2
    try:
        args.run(args)
    except KeyboardInterrupt:
        pass  # Ctrl+C: the servers have shut down; nothing to report
    except OSError as exc:
        print(f"error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
