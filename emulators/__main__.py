"""Run the emulators on their own:

    python -m emulators openai --port 9101 --api-key K
    python -m emulators bfl --port 9201 --poll-port 9202 --api-key K
    python -m emulators all      # both in one process (make emulators)
    python -m emulators demo     # both, plus a gateway wired to them (make demo)

Every emulator takes `--host`, `--port`, `--api-key`, `--strict` and `--log-level` (plus
`--poll-port`/`--poll-host` where polling is on another listener) and its own switches;
`--help` on each lists them. Ctrl+C stops them (exit 0); an address in use is a one-line error
(exit 1).
"""

from __future__ import annotations

import argparse
import sys

from .kit.emulator import Emulator
from .registry import EMULATORS, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulators",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="emulator", required=True)
    classes: dict[str, type[Emulator]] = {}
    for name, (_, title) in EMULATORS.items():
        classes[name] = load(name)
        classes[name].add_cli_arguments(sub.add_parser(name, help=title))
    from . import demo

    demo.add_all_arguments(sub.add_parser("all", help="both emulators in one process"))
    demo.add_demo_arguments(
        sub.add_parser("demo", help="both emulators and a gateway wired to them")
    )
    args = parser.parse_args(argv)
    try:
        if args.emulator == "all":
            demo.run_all(args)
        elif args.emulator == "demo":
            demo.run_demo(args)
        else:
            classes[args.emulator].run_cli(args)
    except KeyboardInterrupt:
        pass  # Ctrl+C: the servers have shut down; nothing to report
    except OSError as exc:
        print(f"error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
