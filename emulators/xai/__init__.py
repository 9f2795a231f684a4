"""Emulator of xAI's Images API (REFERENCE-MORE §7; xai-org/xai-sdk-python), on the emulator kit.

Endpoints (Bearer auth: none is a 401, a wrong key a 400 "Incorrect API key provided"):
- `POST /v1/images/generations` and `POST /v1/images/edits`, JSON only (an edit's input images
  as `image: {"url": <data URI or URL>}` or `images: [...]`, 1-3; a multipart form is a 415),
  validated per model the way xAI does (`params.py`: unknown fields and wrong types a plain-text
  422, `size`/`style` "Argument not supported", an unknown model a 404; lenient where xAI is,
  strict on request). Models: grok-imagine-image, -quality, -2.0 (`quality` low | medium | high),
  grok-2-image-1212 (no aspect ratio, resolution or edits); `-pro`, `-beta` ids and
  `grok-2-image` as aliases.
- Answers `{"data": [{"url" | "b64_json", "mime_type": "image/jpeg", "revised_prompt",
  "respect_moderation"}], "usage": {"cost_in_usd_ticks"}}`: `url` (the default) on the result
  host, signed and expiring (`results.py`); `b64_json` as a data URI. Up to 10 images a call.
- Moderation: `[moderate]` (403), `[moderate-image]` (200, images withheld), `[block]` (200,
  `block_reason`); the kit's scenarios in xAI's forms (`server.py`).

Request kinds for faults: `generate`, `edit` (paid) and `result`; its own switch `plain_b64`.
`stats()` adds `auth_failures`, `silent_fallbacks`, `dropped_inputs`, `results_served` and
`result_requests_with_key`.

Run it: `XAIEmulator().start()` (tests), or `python -m emulators xai --port 9801`.
"""

from .app import XAIApp
from .server import XAIEmulator

__all__ = ["XAIApp", "XAIEmulator"]
