"""`luma` settings: `LUMA_API_KEY` (or `LUMAAI_API_KEY`, what Luma's SDK reads), `LUMA_BASE_URL`
(or `LUMAAI_BASE_URL`; default `https://api.lumalabs.ai/dream-machine/v1`, lumaai-python
`_client.py`), `LUMA_DEFAULT_MODEL`, the polling settings of `kit/config.PollingConfig`, plus:

- `LUMA_TRUSTED_HOSTS`: origins besides the base URL's that serve result images (downloaded at
  once, without the key). Where Luma keeps `assets.image` is [UNVERIFIED]: public examples of
  its results are on `storage.cdn-luma.com` [3P], so the default is `cdn-luma.com` (it and its
  subdomains, https). Statuses are polled at the base URL only.
"""

from __future__ import annotations

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, PollingConfig, TrustedOrigins


class LumaConfig(PollingConfig):
    base_url: BaseUrl = "https://api.lumalabs.ai/dream-machine/v1"
    default_model: str = "photon-1"
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: ["cdn-luma.com"])
