"""Emulator of fal.ai's queue API (REFERENCE-MORE §3; fal-ai/fal-js `queue.ts`), on the
emulator kit.

Endpoints (`Authorization: Key <key>`; none or a wrong one is a 401):
- `POST /{endpoint id}` (`/fal-ai/flux/dev`): the input checked against the endpoint's schema
  (`catalog.py`: a 422 `detail: [{loc, msg, type}]` naming the field); answers `request_id`,
  `status_url`, `response_url`, `cancel_url` (owner/app only: the sub-path dropped),
  `status: IN_QUEUE`, `queue_position`.
- `GET .../requests/{id}/status`: 202 IN_QUEUE (with `queue_position`) / IN_PROGRESS, 200
  COMPLETED (with `error`/`error_type` when it failed or was cancelled).
- `GET .../requests/{id}`: the result (the model's status and body), kept an hour after
  completion, 6 minutes when 10 KB or more (then 404).
- `PUT .../requests/{id}/cancel`: `OK` (queued), 202 `CANCELLATION_REQUESTED` (running), 400
  `ALREADY_COMPLETED`.
- Result images on the second listener, signed and expiring with the result, no key needed.

Markers (`queue.py`): `[nsfw]`, `[nsfw-first]`, `[policy]`, `[fail]`, `[never]`. `stats()` adds
`auth_failures`, `hand_built_urls`, `files_served`, `file_requests_with_key`, `cancels`,
`result_reads`, `expired_results`.

Run it: `FalEmulator().start()` (tests), or `python -m emulators fal --port 10101`.
"""

from .app import FalApp
from .server import FalEmulator

__all__ = ["FalApp", "FalEmulator"]
