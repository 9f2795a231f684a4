"""Emulator of ByteDance Seedream on BytePlus ModelArk's Images API (REFERENCE-MORE §8;
volcengine-python-sdk `volcenginesdkarkruntime`), on the emulator kit.

Endpoint (Bearer auth: a missing or wrong key is a 401 `AuthenticationError`):
- `POST /api/v3/images/generations`, JSON: generations and reference-image edits alike
  (`image`: one data URI or URL, or a list of up to 14), validated per model the way Ark does
  (`params.py`: `InvalidParameter` / `MissingParameter` naming the field, an unknown model a
  404; lenient where Ark is, strict on request). Models: seedream-5-0-260128 (5.0 lite),
  -4-5-251128, -4-0-250828, seedream-3-0-t2i-250415, seededit-3-0-i2i-250628, and each as
  Volcengine's `doubao-<id>`.
- Answers `{"model", "created", "data": [{"url" | "b64_json", "size"}], "usage":
  {"input_images", "generated_images", "output_tokens", "total_tokens"}}`: `url` (Ark's
  default) on the result host, signed and expiring (`results.py`); JPEG, or PNG on 5.0 lite
  with `output_format: "png"`. One image a call (group generation is not emulated).
- Errors in Ark's `{"error": {"code", "message", "param", "type"}}` (`errors.py`); moderation:
  `[moderate]` (400 input text), `[moderate-image]` (400 output image), `[moderate-200]`
  (200, a failed `data` entry), `[fail-200]` (200, a top-level `error`); the kit's scenarios
  in Ark's forms (`server.py`).

Request kinds for faults: `generate` (paid) and `result`; its own switch `created_at`.
`stats()` adds `auth_failures`, `ignored`, `results_served` and `result_requests_with_key`.

Run it: `SeedreamEmulator().start()` (tests), or `python -m emulators seedream --port 10801`.
"""

from .app import SeedreamApp
from .server import SeedreamEmulator

__all__ = ["SeedreamApp", "SeedreamEmulator"]
