"""Emulator of Stability AI's REST v2beta Stable Image API (REFERENCE-MORE §2; STAB-OAS), on the
emulator kit.

Endpoints (`authorization: Bearer <key>`; a bad key is a 401 `unauthorized`):
- `POST /v2beta/stable-image/generate/{ultra,core,sd3}` and
  `POST /v2beta/stable-image/edit/{inpaint,erase,outpaint,search-and-replace}`, multipart only
  (anything else: 400 "content-type: must be multipart/form-data"), validated per endpoint the
  way Stability does (`params.py`: 400 `bad_request`, the message naming the field);
- answers by `accept`: `image/*` (the default) the image's bytes with `finish-reason` and
  `seed` headers; `application/json` `{"image", "finish_reason", "seed"}`;
- errors `{"id", "name", "errors": [...]}` (`errors.py`); 150 requests in 10 s, then every
  request a 429 `rate_limit_exceeded` for 60 s.

Markers: `[moderate]` (403), `[filtered]` (200 CONTENT_FILTERED, a blurred image, charged),
`[public-figure]` (422). Request kinds for faults: `generate`, `edit` (both paid); switches
`as_image`, `v1_401`. `stats()` adds `auth_failures`, `credits_spent`, `filtered`,
`rate_limited`, `silent_reroutes`.

Run it: `StabilityEmulator().start()` (tests), or `python -m emulators stability --port 10201`.
"""

from .app import StabilityApp
from .server import StabilityEmulator

__all__ = ["StabilityApp", "StabilityEmulator"]
