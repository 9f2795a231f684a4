"""Run the emulators on their own:

    python -m emulators openai --port 9101
    python -m emulators bfl --port 9201 --poll-port 9202
    python -m emulators all      # both in one process (make emulators)
    python -m emulators demo     # both, plus a gateway wired to them (make demo)

`--help` on each lists its switches. Ctrl+C stops them (exit 0); an address in use is a
one-line error (exit 1).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

EMULATORS = {
    "openai": ("emulators.openai_images", "emulate the OpenAI Images API"),
    "bfl": ("emulators.bfl", "emulate the Black Forest Labs FLUX API"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulators",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="emulator", required=True)
    modules: dict[str, ModuleType] = {}
    for name, (module_name, title) in EMULATORS.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_cli_arguments(sub.add_parser(name, help=title))
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
            modules[args.emulator].run_cli(args)
    except KeyboardInterrupt:
        pass  # Ctrl+C: the servers have shut down; nothing to report
    except OSError as exc:
        print(f"error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
