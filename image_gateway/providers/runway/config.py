"""`runway` settings: `RUNWAY_API_KEY` (also `RUNWAYML_API_SECRET`, what Runway's SDK reads),
`RUNWAY_BASE_URL` (also `RUNWAYML_BASE_URL`; default `https://api.dev.runwayml.com`: runwayml/
sdk-python `_client.py`), `RUNWAY_DEFAULT_MODEL`, the polling settings of
`kit/config.PollingConfig`, plus:

- `RUNWAY_API_VERSION`: the `X-Runway-Version` header sent with every call (Runway refuses a
  request without it); default `2024-11-06`, the SDK's.
- `RUNWAY_TRUSTED_HOSTS`: origins besides the base URL's that serve task outputs (downloaded at
  once, without the key; Runway's output URLs "expire within 24-48 hours", sdk-python
  `task_retrieve_response.py`). Default: the CloudFront hosts Runway's outputs are seen on
  (`dnznrvs05pmza.cloudfront.net`, `d2jqrm6oza8nb6.cloudfront.net`) [3P: public code and notes
  that download Runway outputs; Runway documents no host].
"""

from __future__ import annotations

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, PollingConfig, TrustedOrigins

OUTPUT_HOSTS = ["dnznrvs05pmza.cloudfront.net", "d2jqrm6oza8nb6.cloudfront.net"]


class RunwayConfig(PollingConfig):
    base_url: BaseUrl = "https://api.dev.runwayml.com"
    default_model: str = "gen4_image"
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: list(OUTPUT_HOSTS))
    api_version: str = Field("2024-11-06", min_length=1, pattern=r"^[0-9A-Za-z.-]+$")
