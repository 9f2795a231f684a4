"""`dashscope` settings: `DASHSCOPE_API_KEY` (the variable dashscope-sdk-python reads),
`DASHSCOPE_BASE_URL` (also `DASHSCOPE_HTTP_BASE_URL`, the SDK's), `DASHSCOPE_DEFAULT_MODEL`,
`DASHSCOPE_TIMEOUT_SECONDS`, the polling settings of `kit/config.PollingConfig`, plus:

- `DASHSCOPE_BASE_URL`: the region's host. International (Singapore) `https://dashscope-intl.
  aliyuncs.com`, the default; China (Beijing) `https://dashscope.aliyuncs.com` (REFERENCE-MORE
  §8; alibabacloud.com Model Studio "text-to-image V2 API reference": "the Beijing and
  Singapore regions have separate API keys and request endpoints"). The SDK's form ending in
  `/api/v1` is accepted too: the path is added only when it is not there.
- `DASHSCOPE_WORKSPACE`: a Model Studio workspace id, sent as `X-DashScope-WorkSpace` (the
  SDK's header, `client/base_api.py`) when set; empty: the key's default workspace.
- `DASHSCOPE_TRUSTED_HOSTS`: origins besides the base URL's that serve result images
  (downloaded at once, without the key; DashScope's links last 24 hours). Results are on
  Alibaba Cloud OSS, `dashscope-result-*.oss-*.aliyuncs.com` [3P examples]: default
  `aliyuncs.com` (https, it and its subdomains).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from image_gateway.providers.kit.config import BaseUrl, PollingConfig, TrustedOrigins, empty_is_none


class DashScopeConfig(PollingConfig):
    base_url: BaseUrl = "https://dashscope-intl.aliyuncs.com"
    default_model: str = "wan2.2-t2i-flash"
    workspace: Annotated[str | None, BeforeValidator(empty_is_none)] = None
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: ["aliyuncs.com"])
