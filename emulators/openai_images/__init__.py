"""Emulator of the OpenAI Images API (REFERENCE §1): a real HTTP server for adapter tests.

Endpoints (Bearer auth with the configured key):
- `POST /v1/images/generations` (JSON), `POST /v1/images/edits` and `POST /v1/images/variations`
  (multipart; `image` or repeated `image[]` parts, `mask`), validated per model (`params.py`,
  `models.py`). GPT image models answer `b64_json` + `background/output_format/quality/size/usage`,
  or SSE events with `stream: true`; DALL·E answers signed, expiring `url`s or `b64_json`.
- `GET /_files/<id>.png?se=&sig=`: DALL·E result files (no auth, like blob SAS URLs).
- A prompt containing `[moderate]` is refused as the safety system would.
- Every response carries `x-request-id: req_<hex>`.

Control surface, WITHOUT auth (a loopback test tool — never expose it):
- `POST /_emulator/faults` `{"faults": [...]}` queues faults (see `faults.py`);
  `GET` lists them, `DELETE` clears them.
- `GET /_emulator/stats`: request counters per endpoint, auth failures, the last request (auth
  header redacted to whether it matched), in-flight and max in-flight requests.
- `POST /_emulator/reset`: zero the counters and drop all faults.

Run it: `OpenAIEmulator().start()` (tests), or `python -m emulators openai --port 9101`.
"""

from .app import EmulatorApp
from .params import MODERATION_MARKER
from .server import OpenAIEmulator, add_cli_arguments, run_cli

__all__ = ["MODERATION_MARKER", "EmulatorApp", "OpenAIEmulator", "add_cli_arguments", "run_cli"]
