"""Emulator of Runway's image API (REFERENCE-MORE §8; runwayml/sdk-python at c604e0e), on the
emulator kit.

- `POST /v1/text_to_image` (Bearer auth and the mandatory `X-Runway-Version: 2024-11-06`),
  validated per model (`catalog.py`: ratios, prompt limits in UTF-16 units for gen4,
  reference images and their uri/tag/subject, outputCount, quality, background, outputFormat);
  answers `{"id"}`.
- `GET /v1/tasks/{id}`: PENDING/THROTTLED, RUNNING with `progress`, SUCCEEDED with `output`
  URLs on the second listener (signed, expiring), FAILED with `failure`/`failureCode`, CANCELLED
  (`tasks.py`); `DELETE /v1/tasks/{id}` cancels or deletes.
- Errors `{"error": ...}` (`errors.py`); markers `[safety]`, `[safety-output]`,
  `[preprocessing-safety]`, `[preprocessing-fail]`, `[fail]`, `[cancelled]`, `[throttle]`,
  `[never]` (`tasks.py`).

Request kinds for faults: `submit` (paid), `poll`, `cancel`, `file`. `stats()` adds
`auth_failures`, `missing_version`, `ignored_fields`, `cancels`, `files_served`,
`file_requests_with_key`.

Run it: `RunwayEmulator().start()` (tests), or `python -m emulators runway --port 10901`.
"""

from .app import RunwayApp
from .server import RunwayEmulator

__all__ = ["RunwayApp", "RunwayEmulator"]
