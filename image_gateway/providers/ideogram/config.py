"""`ideogram` settings: `IDEOGRAM_API_KEY` (sent as `Api-Key`, REFERENCE §3.5),
`IDEOGRAM_BASE_URL` (default `https://api.ideogram.ai`), `IDEOGRAM_DEFAULT_MODEL`,
`IDEOGRAM_TIMEOUT_SECONDS` (`kit/config.py`), plus:

- `IDEOGRAM_TRUSTED_HOSTS`: origins besides `IDEOGRAM_BASE_URL`'s that serve result images
  (`upstream/origins.py` syntax). Ideogram answers each image as a temporary link ("available
  for a limited period of time", IDEO-DOCS; 1 h or 24 h, [UNVERIFIED]) on its own site
  (`https://ideogram.ai/api/images/ephemeral/...`, [3P] callers' logs); it is downloaded at
  once, never with the key. Default `ideogram.ai`: https on 443 for it and its subdomains.
"""

from __future__ import annotations

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, ProviderConfig, TrustedOrigins


class IdeogramConfig(ProviderConfig):
    base_url: BaseUrl = "https://api.ideogram.ai"
    default_model: str = "ideogram-3-turbo"
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: ["ideogram.ai"])
