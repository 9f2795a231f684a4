"""Emulator of Luma AI's Dream Machine API for images (Photon; REFERENCE-MORE §8;
lumalabs/lumaai-python), on the emulator kit (`kit/jobs.py`).

- `POST /dream-machine/v1/generations/image` (Bearer), validated as `params.py` reads Luma
  (FastAPI-style 422 `detail` lists), answering a Generation (201, `queued`);
- `GET /dream-machine/v1/generations/{id}`: the Generation, `queued` -> `dreaming` ->
  `completed` (`assets.image`, a signed expiring file URL on the second listener) or `failed`
  (`failure_reason`); `DELETE` the same path deletes it (204; then 404);
- markers `[moderate]` (400), `[moderate-output]` (failed, moderation), `[fail]`, `[never]`;
  scenarios in Luma's forms (`server.py`); `--queue-seconds`, `--generation-seconds`,
  `--retention`, `--rate-limit` (the kit's job switches).

`stats()` adds `auth_failures`, `deletes`, `files_served` and `file_requests_with_key`.
Run it: `LumaEmulator().start()` (tests), or `python -m emulators luma --port 11001`.
"""

from .app import LumaApp
from .server import LumaEmulator

__all__ = ["LumaApp", "LumaEmulator"]
