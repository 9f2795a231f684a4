"""Emulator of Amazon Bedrock Runtime's InvokeModel for image models (REFERENCE-MORE §6), on
the emulator kit (`emulators/kit`).

- `POST /model/{modelId}/invoke`: Nova Canvas, Titan Image Generator v2 and the Stability
  models, each body validated as the documentation says (`bodies.py`), answered with real
  images of the asked size and format (`images.py`), or with Bedrock's refusals.
- Credentials (`sigv4.py`): SigV4 recomputed with botocore from the emulator's access key and
  secret (a wrong signature, a stale `X-Amz-Date`, another region or service are 403s in AWS's
  shapes), or the secret as a Bedrock API key.
- Errors (`errors.py`): `{"message"}` with the exception's name in `x-amzn-ErrorType`.

moto (a dev dependency) has a bedrock-runtime InvokeModel, but it answers `{}` for every model
and checks neither bodies nor signatures (moto 5.2.5 `bedrockruntime/models.py`), so it cannot
stand in here.

Request kind for faults: `invoke` (paid). The control surface (`/_emulator/*`) and the
scenarios are the kit's (emulators/README.md); `stats()` adds `auth_failures`, and
`app.last_body` keeps the last body whole (a test reading a mask it sent).

Run it: `BedrockEmulator().start()` (tests), or `python -m emulators bedrock --port 9701`.
"""

from .app import BedrockApp
from .server import ACCESS_KEY_ID, BedrockEmulator

__all__ = ["ACCESS_KEY_ID", "BedrockApp", "BedrockEmulator"]
