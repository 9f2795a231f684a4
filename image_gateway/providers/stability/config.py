"""`stability` settings: `STABILITY_API_KEY` (the variable Stability's own samples read),
`STABILITY_BASE_URL` (default `https://api.stability.ai`, REFERENCE-MORE §2.1),
`STABILITY_DEFAULT_MODEL`, `STABILITY_TIMEOUT_SECONDS`, plus:

- `STABILITY_ACCEPT`: the `accept` header of each call, `application/json` (the default: base64
  `image`, `finish_reason` and `seed` in the body) or `image/*` (the image's bytes, with
  `finish-reason` and `seed` headers; about a quarter smaller). Either answer is read whatever
  was asked (STAB-OAS: these two are the only values).
"""

from __future__ import annotations

from typing import Literal

from image_gateway.providers.kit.config import BaseUrl, ProviderConfig


class StabilityConfig(ProviderConfig):
    base_url: BaseUrl = "https://api.stability.ai"
    default_model: str = "stable-image-core"
    accept: Literal["application/json", "image/*"] = "application/json"
