"""`xai` settings: `XAI_API_KEY` (the variable xAI's own SDK reads), `XAI_BASE_URL`,
`XAI_DEFAULT_MODEL`, `XAI_TIMEOUT_SECONDS` (`kit/config.py`), plus:

- `XAI_TRUSTED_HOSTS`: origins besides `XAI_BASE_URL`'s that serve result images
  (`upstream/origins.py` syntax). xAI answers `url` results on another host than its API
  (`https://imgen.x.ai/xai-imgen/...jpeg`, REFERENCE-MORE §7 [3P example]); they are downloaded
  at once, never with the key. Default `x.ai`: https on 443 for x.ai and its subdomains.
- `XAI_RESPONSE_FORMAT`: how the gateway asks xAI for images, `url` (xAI's default; downloaded
  at once) or `b64_json` (the bytes in the answer). Clients choose their own `response_format`
  from the gateway either way.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, ProviderConfig, TrustedOrigins


class XAIConfig(ProviderConfig):
    base_url: BaseUrl = "https://api.x.ai/v1"
    default_model: str = "grok-imagine-image"
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: ["x.ai"])
    response_format: Literal["url", "b64_json"] = "url"
