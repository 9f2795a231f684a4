"""`together` settings: `TOGETHER_API_KEY` (the variable Together's SDKs read, together-python
`constants.py`), `TOGETHER_BASE_URL` (default `https://api.together.xyz/v1`, the SDK's
`BASE_URL`), `TOGETHER_DEFAULT_MODEL`, `TOGETHER_TIMEOUT_SECONDS` (`kit/config.py`), plus:

- `TOGETHER_RESPONSE_FORMAT`: how the gateway asks Together for images, `base64` (default: the
  bytes in the answer, `b64_json`) or `url` (downloaded at once, never with the key). Together's
  request enum is `base64` | `url` (Together's OpenAPI `/images/generations`); clients choose
  their own `response_format` from the gateway either way.
- `TOGETHER_TRUSTED_HOSTS`: origins besides `TOGETHER_BASE_URL`'s that serve result images
  (`upstream/origins.py` syntax). Where Together hosts `url` results is [UNVERIFIED] (no stored
  source names the host); the default `together.ai,together.xyz` trusts https on 443 for those
  domains and their subdomains. A URL anywhere else goes through the SSRF-guarded fetcher.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, ProviderConfig, TrustedOrigins


class TogetherConfig(ProviderConfig):
    base_url: BaseUrl = "https://api.together.xyz/v1"
    default_model: str = "black-forest-labs/FLUX.1-schnell"
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: ["together.ai", "together.xyz"])
    response_format: Literal["base64", "url"] = "base64"
