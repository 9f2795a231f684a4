"""Emulator of Replicate's predictions API (REFERENCE-MORE §4; replicate/replicate-python-beta),
on the emulator kit.

Endpoints (Bearer auth; none or a wrong token is a 401 problem JSON):
- `POST /v1/models/{owner}/{name}/predictions` (official models) and `POST /v1/predictions`
  (`version`: `owner/name:<id>`, the bare id, or an official `owner/name`); `input` checked
  against the model's schema (`catalog.py`: a 422 `invalid_fields` naming the field; an unknown
  version a 422 "Invalid version or not permitted"); `Prefer: wait[=N]` holds the answer,
  `Cancel-After` sets a deadline (`app.py`). Answers 201 with the prediction.
- `GET /v1/predictions/{id}`, `POST /v1/predictions/{id}/cancel`: the prediction (the URLs in
  its `urls`; a client never needs to build them).
- Output files on the second listener (the file host), signed, expiring with the prediction's
  data (an hour by default); `file_auth=True` makes them need the key.
- Statuses `starting`, `processing`, `succeeded`, `failed` (markers `[nsfw]`, `[sensitive]`,
  `[fail]`), `canceled`, `aborted`; `[never]` never ends by itself (`predictions.py`).

Request kinds for faults: `create` (paid), `get`, `cancel`, `file`; its own switch `data_uri`.
`stats()` adds `auth_failures`, `files_served`, `file_requests_with_key`, `file_refusals`,
`cancels`, `held_answers` and `create_headers` (the `Prefer` and `Cancel-After` of the last 50
creations).

Run it: `ReplicateEmulator().start()` (tests), or `python -m emulators replicate --port 10001`.
"""

from .app import ReplicateApp
from .server import ReplicateEmulator

__all__ = ["ReplicateApp", "ReplicateEmulator"]
