"""Emulator of Together AI's Images API (REFERENCE-MORE §8; Together's OpenAPI; together-python),
on the emulator kit.

- `POST /v1/images/generations`, JSON, `Authorization: Bearer` (a missing or wrong key a 401
  `invalid_api_key`), validated the way `params.py` reads Together (a field out of range a 400
  naming it in `param`, an unknown model a 404 `model_not_available`); FLUX ids, the Kontext ones
  taking `image_url`.
- Answers `{"id", "model", "object": "list", "data": [{"index", "b64_json" | "url", "type"}]}`:
  `url` (when `response_format` is left out) on the result host, signed and expiring
  (`results.py`), or `base64`. Up to 4 images a call.
- Moderation `[moderate]` (422 naming NSFW content); the kit's scenarios in Together's forms
  (`server.py`): 429 with `retry-after`, 402 `credit_limit`, 500. No HTTP-200 refusal.

Request kinds for faults: `generate` (paid) and `result`. `stats()` adds `auth_failures`,
`results_served` and `result_requests_with_key`.

Run it: `TogetherEmulator().start()` (tests), or `python -m emulators together --port 10501`.
"""

from .app import TogetherApp
from .server import TogetherEmulator

__all__ = ["TogetherApp", "TogetherEmulator"]
