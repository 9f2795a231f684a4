"""`fireworks` settings: `FIREWORKS_API_KEY` (sent as `Authorization: Bearer`),
`FIREWORKS_BASE_URL` (default `https://api.fireworks.ai/inference/v1`, REFERENCE-MORE §8),
`FIREWORKS_DEFAULT_MODEL`, `FIREWORKS_TIMEOUT_SECONDS`, the Kontext tasks' polling
(`FIREWORKS_POLL_*`, `kit/config.PollingConfig`), plus:

- `FIREWORKS_TRUSTED_HOSTS`: origins besides the base URL's that serve Kontext results
  (`result.sample`, downloaded at once, never with the key). Where Fireworks' samples live is
  not documented ([UNVERIFIED]): by default `fireworks.ai` and BFL's delivery hosts (`bfl.ai`,
  `bfldeliveryprod.blob.core.windows.net`), since the protocol is BFL's.
- `FIREWORKS_ACCEPT`: the `Accept` header of a FLUX.1 [schnell] call, `application/json` (the
  default: `{id, base64: [data URI], finishReason, seed}`, which says why an image is missing)
  or `image/png` (the image's bytes). Either answer is read; `output_format: "jpeg"` asks for
  `image/jpeg` bytes whatever this says.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, PollingConfig, TrustedOrigins


class FireworksConfig(PollingConfig):
    base_url: BaseUrl = "https://api.fireworks.ai/inference/v1"
    default_model: str = "flux-1-schnell-fp8"
    trusted_hosts: TrustedOrigins = Field(
        default_factory=lambda: ["fireworks.ai", "bfl.ai", "bfldeliveryprod.blob.core.windows.net"]
    )
    accept: Literal["application/json", "image/png"] = "application/json"
