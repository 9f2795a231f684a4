"""`seedream` settings: `SEEDREAM_API_KEY` (also `ARK_API_KEY`, the variable
volcengine-python-sdk's `Ark` client reads), `SEEDREAM_BASE_URL` (also `ARK_BASE_URL`),
`SEEDREAM_DEFAULT_MODEL`, `SEEDREAM_TIMEOUT_SECONDS` (`kit/config.py`), plus:

- `SEEDREAM_BASE_URL`: the region's Ark host. BytePlus ModelArk `https://ark.ap-southeast.
  bytepluses.com` (the default) or `https://ark.eu-west.bytepluses.com` (docs.byteplus.com
  ModelArk 1544106, "Base URL by region"); Volcengine Ark (China) `https://ark.cn-beijing.
  volces.com` [UNVERIFIED: third-party clients only], whose model ids carry `doubao-`
  (`models.py`). The SDK's form with `/api/v3` at the end is accepted as well: the path is
  added only when it is not there.
- `SEEDREAM_TRUSTED_HOSTS`: origins besides the base URL's whose result images are downloaded
  like an API call (never with the key). Ark answers `url` results on its object storage
  (TOS) hosts, under `bytepluses.com` or `volces.com` [UNVERIFIED: third-party examples], the
  default entries; any other origin is fetched only from a public address, through the
  input-image guard.
- `SEEDREAM_RESPONSE_FORMAT`: how the gateway asks Ark for images, `url` (Ark's default: a
  link valid 24 hours [UNVERIFIED], downloaded at once) or `b64_json`. Clients choose their own
  `response_format` from the gateway either way.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, ProviderConfig, TrustedOrigins


class SeedreamConfig(ProviderConfig):
    base_url: BaseUrl = "https://ark.ap-southeast.bytepluses.com"
    default_model: str = "seedream-4-0-250828"
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: ["bytepluses.com", "volces.com"])
    response_format: Literal["url", "b64_json"] = "url"
