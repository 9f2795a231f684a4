"""Provider error answers to gateway errors: one status table for every provider, with hooks.

`error_for_status` is the table. A provider supplies what its error body says
(`ErrorDetail`: a safe message, its code, the field it names in gateway terms) and may decide
first (`Provider.classify_error`: moderation codes, quota codes), then the table decides by
HTTP status:

| status              | error                                   | retried                    |
|---------------------|-----------------------------------------|----------------------------|
| 400, 422            | `InvalidRequest` (400, naming the field) | no                        |
| 401, 403            | `UpstreamError` `provider_auth_failed`  | no (not an outage)         |
| 402                 | `ProviderQuotaExhausted`                | no                         |
| 404                 | `NotFound` `model_not_found` (names `<NAME>_BASE_URL` too) | no        |
| 408, 409            | `UpstreamError`                         | yes: not taken             |
| 429                 | `ProviderRateLimited` (its retry hint)  | yes, after the hint        |
| 5xx                 | `UpstreamError` (an outage)             | yes, after the hint if any |
| any other           | `UpstreamError`                         | no                         |

An error answer to a submission means the provider did not take it (no task, no image), so
a retry cannot pay twice. The runner (`resilience/`) retries only what is marked retryable.
Retry hints: `retry-after-ms`, then `Retry-After` (seconds or an HTTP date).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from image_gateway.errors import (
    GatewayError,
    InvalidRequest,
    NotFound,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    UpstreamError,
)
from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.kit.redaction import provider_message, rejected
from image_gateway.upstream.client import UpstreamResponse
from image_gateway.upstream.retry_after import parse_retry_after
from image_gateway.upstream.retry_after import retry_after_header as http_retry_after_header

RETRYABLE = frozenset({408, 409, 429})  # and every 5xx


# A provider's error code or field name that may be passed on: a short identifier.
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,63}")


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """What a provider's error body says, already made safe: the message through
    `redaction.provider_message`, the code and the field through `safe_token`."""

    message: str = ""
    code: str | None = None  # the provider's own error code, passed on for 400s and 404s
    param: str | None = None  # the request field it names, in the gateway's terms


def safe_token(value: object, secrets: list[str]) -> str | None:
    """A provider's error code or field name fit to pass on (in an answer, and as a metric
    label: `igw_errors_total{code}`): a short identifier (letters, digits, `_.-[]`, at most 64
    characters) that redaction leaves as it is (no key-like token, no piece of `secrets`);
    None for anything else."""
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        return None
    return value if provider_message(value, secrets) == value else None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms`, then `retry-after` (seconds or HTTP date); None when absent or garbage."""
    return parse_retry_after(headers, time.time())


def retry_after_header(seconds: float | None) -> dict[str, str]:
    return http_retry_after_header(seconds)


def retryable(status: int) -> bool:
    """Whether an error answer to a submission may be sent again (the provider did not take it)."""
    return status in RETRYABLE or status >= 500


def error_for_status(
    definition: ProviderDefinition, status: int, headers: Mapping[str, str], detail: ErrorDetail
) -> GatewayError:
    """The gateway error for a provider's error answer (the table in the module docstring);
    messages name the variable to check where the operator's settings may be the cause."""
    provider = definition.name
    if status in (400, 422):
        return InvalidRequest(
            rejected(provider, status, detail.message),
            param=detail.param,
            code=detail.code,
            provider=provider,
        )
    if status in (401, 403):
        # 401: the key is wrong. 403: the key was read but may not do this (a model or endpoint
        # its account has no access to, a suspended account), which the provider's text says.
        said = f" ({detail.message})" if status == 403 and detail.message else ""
        return UpstreamError(
            f"{provider} rejected the gateway's credentials (check {definition.key_variable()})"
            if status == 401
            else f"{provider} refused the gateway's credentials for this request{said}: check "
            f"that the account of {definition.key_variable()} may use this model",
            code="provider_auth_failed",
            provider=provider,
            outage=False,  # a configuration problem, not the provider being down
        )
    if status == 402:
        return ProviderQuotaExhausted(
            f"the {provider} account is out of credits", provider=provider
        )
    if status == 404:
        # A model the provider does not serve, or a base URL pointing at the wrong place.
        return NotFound(
            f"{provider}: {detail.message or 'not found'} (a model it does not serve, or "
            f"{definition.variable_text('base_url')} is not its API's base URL)",
            code=detail.code or "model_not_found",
            provider=provider,
        )
    wait = retry_after_seconds(headers)
    if status == 429:
        return ProviderRateLimited(
            f"{provider} rate limit reached; retry later",
            provider=provider,
            headers=retry_after_header(wait),
            retryable=True,
            retry_after=wait,
        )
    again = retryable(status)
    return UpstreamError(
        f"{provider} failed (HTTP {status})",
        provider=provider,
        retryable=again,
        retry_after=wait if again else None,
        outage=status >= 500 or status == 408,
    )


def common_error_detail(resp: UpstreamResponse, provider: str, secrets: list[str]) -> ErrorDetail:
    """The error shapes most APIs use: OpenAI's `{"error": {"message", "code", "param"}}`,
    `{"error": "text"}`, FastAPI's `{"detail": "text"}` and `{"message": "text"}`; an answer
    that is no JSON (a proxy's HTML page) gives an empty detail."""
    try:
        payload = resp.json(provider)
    except UpstreamError:
        return ErrorDetail()
    if not isinstance(payload, dict):
        return ErrorDetail()
    error = payload.get("error")
    if isinstance(error, dict):
        return ErrorDetail(
            provider_message(error.get("message"), secrets),
            safe_token(error.get("code"), secrets),
            safe_token(error.get("param"), secrets),
        )
    for key in ("error", "detail", "message"):
        if isinstance(payload.get(key), str):
            return ErrorDetail(provider_message(payload[key], secrets))
    return ErrorDetail()
