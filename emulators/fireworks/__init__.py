"""Emulator of Fireworks AI's FLUX image workflows (REFERENCE-MORE §8; FW-DOCS), on the
emulator kit: FLUX.1 [schnell] synchronous (the image's bytes or JSON with base64), FLUX.1
Kontext [pro]/[max] as BFL's tasks re-hosted (submit, then POST `get_result` with the id),
samples on a second listener as signed, expiring URLs. `Authorization: Bearer <key>`.

Markers: `[filtered]` (schnell, `finishReason: CONTENT_FILTERED`), and BFL's for Kontext
(`[moderate-request]`, `[moderate-content]`, `[error]`, `[never-ready]`). Request kinds for
faults: `generate`, `submit` (paid), `poll`, `result`.

Run it: `FireworksEmulator().start()` (tests), or `python -m emulators fireworks --port 10601`.
"""

from .app import FireworksApp
from .server import FireworksEmulator

__all__ = ["FireworksApp", "FireworksEmulator"]
