"""Run an emulator on its own: `python -m emulators openai --port 9101`,
`python -m emulators bfl --port 9201 --poll-port 9202`. `--help` on each lists its switches."""

from __future__ import annotations

import argparse
import importlib
from types import ModuleType

EMULATORS = {
    "openai": ("emulators.openai_images", "OpenAI Images API"),
    "bfl": ("emulators.bfl", "Black Forest Labs FLUX API"),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulators", description=__doc__)
    sub = parser.add_subparsers(dest="emulator", required=True)
    modules: dict[str, ModuleType] = {}
    for name, (module_name, title) in EMULATORS.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_cli_arguments(sub.add_parser(name, help=f"emulate the {title}"))
    args = parser.parse_args(argv)
    modules[args.emulator].run_cli(args)


if __name__ == "__main__":
    main()
