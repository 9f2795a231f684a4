"""Emulator of Ideogram's API (REFERENCE §3.5, REFERENCE-MORE §8; IDEO-DOCS), on the emulator
kit.

Endpoints (`Api-Key: <key>`; a bad key is a 401):
- `POST /v1/ideogram-v3/{generate,remix,edit,inpaint}` and `POST /v1/ideogram-v4/{generate,
  remix}`, multipart only, validated per endpoint (`params.py`: 400 `{"detail"}` naming the
  field);
- answers `{"created", "data": [{"url", "is_image_safe", "prompt", "resolution", "seed",
  "style_type"}]}`, each URL a signed, expiring link on the second listener (`results.py`);
- at most 10 requests in flight (`--max-in-flight`), beyond which a 429 with `retry-after`.

Markers: `[moderate]` (422), `[unsafe]` (200, every image unsafe), `[unsafe-one]` (200, the
first image unsafe). Request kinds for faults: `generate`, `edit` (paid), `result`.

Run it: `IdeogramEmulator().start()` (tests), or `python -m emulators ideogram --port 10401`.
"""

from .app import IdeogramApp
from .server import IdeogramEmulator

__all__ = ["IdeogramApp", "IdeogramEmulator"]
