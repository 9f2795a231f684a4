"""Emulator of Recraft's image API (REFERENCE-MORE §8, RECRAFT-DOCS; recraft-ai/
mcp-recraft-server's generated client), on the emulator kit.

- `POST /v1/images/generations` (JSON), `/v1/images/imageToImage` and `/v1/images/inpaint`
  (multipart), Bearer auth; validated per model (`params.py`, models in `catalog.py`): sizes
  from each family's list (`WxH` or `w:h`), prompt limits (10000 / 1000 characters), `n` 1-6,
  styles and negative prompts on V2/V3 only, `controls`, `strength` for image to image, a
  black-and-white mask of the image's size for inpainting; lenient or strict.
- Answers `{"created", "credits", "data": [{"image_id", "url" | "b64_json"}]}`; `url` results
  on the image host (the second listener), signed and expiring; vector models answer SVG.
- Errors `{"code", "message"}` (`errors.py`); `[moderate]` a 400 `inappropriate_content`.

Request kinds for faults: `generate`, `edit` (paid) and `result`. `stats()` adds
`auth_failures`, `silently_ignored`, `units_spent`, `results_served` and
`result_requests_with_key`.

Run it: `RecraftEmulator().start()` (tests), or `python -m emulators recraft --port 10301`.
"""

from .app import RecraftApp
from .server import RecraftEmulator

__all__ = ["RecraftApp", "RecraftEmulator"]
