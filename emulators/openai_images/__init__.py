"""Emulator of the OpenAI Images API (REFERENCE §1), on the emulator kit (`emulators/kit`).

Endpoints (Bearer auth with the configured key):
- `POST /v1/images/generations` (JSON), `POST /v1/images/edits` and `POST /v1/images/variations`
  (multipart; `image` or repeated `image[]` parts, `mask`), validated per model (`params.py`,
  `models.py`). GPT image models answer `b64_json` + `background/output_format/quality/size/usage`,
  or SSE events with `stream: true` (`partial_images` 0-3 partials per image, paced by
  `partial_interval`, then one completed event per image); DALL·E answers signed, expiring
  `url`s or `b64_json`, and refuses `stream`.
- `GET /_files/<id>.png?se=&sig=`: DALL·E result files (no auth, like blob SAS URLs).
- A prompt containing `[moderate]` is refused as the safety system would.
- Every response carries `x-request-id: req_<hex>`.

Request kinds for faults: `generate`, `edit`, `variation` (paid: `submit` matches them) and
`file`; its own fault switch `as_url`, and for streams `stream_interval`, `stream_fail_after`,
`stream_reset` (answers.py). The control surface (`/_emulator/*`) and the scenarios
are the kit's (emulators/README.md); `stats()` adds `auth_failures` and `last_request` (the
auth header redacted to whether it matched, the JSON body or the form's names and values).

Run it: `OpenAIEmulator().start()` (tests), or `python -m emulators openai --port 9101`.
"""

from .app import OpenAIApp
from .params import MODERATION_MARKER
from .server import OpenAIEmulator, add_cli_arguments, run_cli

__all__ = ["MODERATION_MARKER", "OpenAIApp", "OpenAIEmulator", "add_cli_arguments", "run_cli"]
