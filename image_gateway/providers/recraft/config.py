"""`recraft` settings: `RECRAFT_API_KEY` (also read as `RECRAFT_API_TOKEN`, the variable
Recraft's docs use), `RECRAFT_BASE_URL`, `RECRAFT_DEFAULT_MODEL`, `RECRAFT_TIMEOUT_SECONDS`
(`kit/config.py`), plus:

- `RECRAFT_TRUSTED_HOSTS`: origins besides `RECRAFT_BASE_URL`'s that serve result images
  (`upstream/origins.py` syntax). Recraft answers `url` results on its image host, kept "about
  24 hours" (RECRAFT-DOCS agents page); they are downloaded at once, never with the key.
  Default `recraft.ai`: https on 443 for recraft.ai and its subdomains (the image host's name
  is not documented: `images.recraft.ai` in api-evangelist's example [3P]).
- `RECRAFT_RESPONSE_FORMAT`: how the gateway asks Recraft for images, `url` (Recraft's
  default; downloaded at once) or `b64_json` (the bytes in the answer). Clients choose their
  own `response_format` from the gateway either way.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, ProviderConfig, TrustedOrigins


class RecraftConfig(ProviderConfig):
    base_url: BaseUrl = "https://external.api.recraft.ai/v1"
    default_model: str = "recraftv4_1"
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: ["recraft.ai"])
    response_format: Literal["url", "b64_json"] = "url"
