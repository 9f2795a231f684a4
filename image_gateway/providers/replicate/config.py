"""`replicate` settings: `REPLICATE_API_KEY`, or `REPLICATE_API_TOKEN` (what Replicate's own SDK
reads, replicate-python-beta `_client.py`), `REPLICATE_BASE_URL` (the SDK's name too; default
`https://api.replicate.com/v1`), `REPLICATE_DEFAULT_MODEL`, the polling settings of
`kit/config.PollingConfig`, plus:

- `REPLICATE_TRUSTED_HOSTS`: origins besides the base URL's that may get the key and serve
  results. Output files are on `replicate.delivery` and its subdomains (REFERENCE-MORE §4.3),
  the default; a prediction's `urls.get`/`urls.cancel` are on the API host (the base URL's).
- `REPLICATE_PREFER_WAIT`: seconds a submission asks Replicate to hold its answer until the
  prediction ends (`Prefer: wait=N`, REPLICATE-PY `models/predictions.py`: "up to 60 seconds"),
  1-60; 0 sends no `Prefer` header (the prediction comes back `starting` and is polled).
  A watched call (a stream, a job: `CallJournal.watched`) sends none either, so its status
  words (`starting`, `processing`) reach the watchers.
"""

from __future__ import annotations

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, PollingConfig, TrustedOrigins


class ReplicateConfig(PollingConfig):
    base_url: BaseUrl = "https://api.replicate.com/v1"
    default_model: str = "black-forest-labs/flux-schnell"
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: ["replicate.delivery"])
    prefer_wait: int = Field(60, ge=0, le=60)
