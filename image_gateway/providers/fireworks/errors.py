"""Fireworks' error answers that the kit's status table (`kit/errors.py`) would get wrong, for
both parts (schnell and Kontext): Fireworks' inference error table (FW-DOCS
`guides/inference-error-codes`) gives two statuses a meaning of their own.

| answer                                                   | gateway error                  |
|----------------------------------------------------------|--------------------------------|
| 412 Precondition Failed ("account is suspended or there's | 402 `provider_quota_exhausted`: |
| an issue with account status")                           | the operator's, not retried    |
| 413 Payload Too Large ("input data exceeds the allowed   | 413 `payload_too_large`, not   |
| size limit")                                             | retried                        |

The rest is the table's: 400 (and 422) a 400 with Fireworks' message, 401/403
`provider_auth_failed`, 402 Payment Required ("not on a paid plan or has exceeded usage
limits") `provider_quota_exhausted`, 404 `model_not_found`, 408 and 429 (rate limit, or a
deployment's capacity) retried after `Retry-After`, 5xx retried (FW-DOCS `guides/reliability`:
500, 502, 503 "Service Overloaded", 504 are transient).
"""

from __future__ import annotations

from image_gateway.errors import GatewayError, PayloadTooLarge, ProviderQuotaExhausted
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.upstream.client import UpstreamResponse


def refusal(resp: UpstreamResponse, detail: ErrorDetail, provider: str) -> GatewayError | None:
    """The gateway error for a 412 or 413 (module docstring); None for any other answer."""
    said = f": {detail.message}" if detail.message else ""
    if resp.status == 412:
        return ProviderQuotaExhausted(
            f"{provider} refused the account (HTTP 412: suspended, or its status or billing "
            f"needs attention){said}",
            provider=provider,
        )
    if resp.status == 413:
        return PayloadTooLarge(
            f"{provider} refused the request as too large (HTTP 413: the prompt or the input "
            f"images){said}",
            code="payload_too_large",
            provider=provider,
        )
    return None
