"""Emulator of the Black Forest Labs (BFL) FLUX API, built from REFERENCE.md §2 and BFL's OpenAPI,
on the emulator kit (`emulators/kit`).

    with BFLEmulator(generation_seconds=0.2) as bfl:
        # POST f"{bfl.base_url}/v1/flux-pro-1.1" with header x-key: bfl-emulator
        # then GET the returned polling_url verbatim (another port), then GET result.sample
        ...

Public API: `BFLEmulator`, `add_cli_arguments`, `run_cli`, `ENDPOINTS`, `MARKERS`.
"""

from .catalog import ENDPOINTS
from .server import BFLEmulator, add_cli_arguments, run_cli
from .tasks import MARKERS

__all__ = ["ENDPOINTS", "MARKERS", "BFLEmulator", "add_cli_arguments", "run_cli"]
