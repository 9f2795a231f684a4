"""`fal` settings: `FAL_API_KEY`, or `FAL_KEY` (what fal's own clients read), `FAL_BASE_URL`
(default `https://queue.fal.run`, the queue host: REFERENCE-MORE §3.1), `FAL_DEFAULT_MODEL`, the
polling settings of `kit/config.PollingConfig`, plus:

- `FAL_TRUSTED_HOSTS`: origins besides the base URL's that serve result images (downloaded at
  once, without the key). fal's outputs are on its CDN, `v3.fal.media` and other `fal.media`
  subdomains ([3P]: every public example of a fal result; REFERENCE-MORE names no host), so the
  default is `fal.media` (it and its subdomains, https). The status, result and cancel URLs
  fal returns are on the queue host (the base URL's origin); they are called, with the key,
  only when their origin is the base URL's or one of these (the polling kit trusts both alike:
  README "Provider outputs and the URLs they come from"), so list here only fal's own hosts.
"""

from __future__ import annotations

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, PollingConfig, TrustedOrigins


class FalConfig(PollingConfig):
    base_url: BaseUrl = "https://queue.fal.run"
    default_model: str = "fal-ai/flux/schnell"
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: ["fal.media"])
