"""`bfl-flux` settings: `BFL_FLUX_API_KEY` or BFL's own `BFL_API_KEY` (every variable here is
also read with the `BFL_` prefix), base URL, default model, the polling settings of
`kit/config.PollingConfig`, and the origins trusted with the key and the results."""

from __future__ import annotations

from pydantic import Field

from image_gateway.providers.kit.config import BaseUrl, PollingConfig, TrustedOrigins


class BFLConfig(PollingConfig):
    base_url: BaseUrl = "https://api.bfl.ai"
    default_model: str = "flux-pro-1.1"
    # Where BFL's answers point: polling URLs on its regional API hosts, samples on its
    # delivery hosts (docs.bfl.ai, "Regional endpoints" and "Result delivery").
    trusted_hosts: TrustedOrigins = Field(
        default_factory=lambda: ["bfl.ai", "bfl.ml", "bfldeliveryprod.blob.core.windows.net"]
    )
