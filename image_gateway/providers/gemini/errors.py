"""Google's error envelope (`google.rpc.Status` as JSON, REFERENCE-MORE §1.5; GENAI-PY
`errors.py` reads `error.code/message/status` and unwraps a one-element list) read into what
the gateway needs, and the answers the status table (`kit/errors.py`) would get wrong:

    {"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED",
               "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                            "violations": [{"quotaId": "...PerDay...", ...}]},
                           {"@type": "type.googleapis.com/google.rpc.RetryInfo",
                            "retryDelay": "26s"},
                           {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "API_KEY_INVALID", ...}]}}

- a key Google refuses (`ErrorInfo.reason` `API_KEY_INVALID` or another `API_KEY_*`, on a 400
  `INVALID_ARGUMENT` [3P]; or the message "API key not valid", tolerated as well): the
  gateway's own credentials, not the caller's request: 502 `provider_auth_failed`;
- a quota counted per day (a `QuotaFailure` violation whose `quotaId` says `PerDay`: "sticky
  and only resets midnight" [3P]): 402 `provider_quota_exhausted`, never retried, whatever
  `retryDelay` says;
- 400 `FAILED_PRECONDITION` (billing off, the free tier not offered in the project's
  country): the account cannot be used: 402 `provider_quota_exhausted` with Google's reason;
- otherwise the table decides, with `RetryInfo.retryDelay` as the retry hint (Google puts it
  in the body, not in `Retry-After`, §1.5): a 429 is `provider_rate_limited` after that delay.

Pure, and about the envelope only: `vertex-ai` reads the same errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from image_gateway.errors import GatewayError, ProviderQuotaExhausted, UpstreamError
from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.kit.errors import ErrorDetail, error_for_status, safe_token
from image_gateway.providers.kit.redaction import provider_message

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_TYPE = "type.googleapis.com/google.rpc."


@dataclass(frozen=True, slots=True)
class GoogleStatus:
    """What an error body says: `status` (`RESOURCE_EXHAUSTED`), the message made safe, the
    `ErrorInfo` reasons, the `QuotaFailure` quota ids and the `RetryInfo` delay (seconds)."""

    status: str | None = None
    message: str = ""
    reasons: tuple[str, ...] = ()
    quota_ids: tuple[str, ...] = ()
    retry_delay: float | None = None

    @property
    def key_refused(self) -> bool:
        return any(r.startswith("API_KEY_") for r in self.reasons) or (
            "api key not valid" in self.message.lower()
        )

    @property
    def daily_quota(self) -> bool:
        return any("perday" in q.lower() for q in self.quota_ids)

    def detail(self) -> ErrorDetail:
        """For `Provider.error_detail`: the message, and the `ErrorInfo` reason as the
        provider's code (a status name such as `INVALID_ARGUMENT` says no more than the HTTP
        status, so the table's own code stands: `invalid_value`, `model_not_found`)."""
        return ErrorDetail(self.message, self.reasons[0] if self.reasons else None)


def read_status(payload: Any, secrets: list[str]) -> GoogleStatus | None:
    """The envelope of an error answer (a one-element list unwrapped), None when it has none."""
    if isinstance(payload, list) and len(payload) == 1:
        payload = payload[0]
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None
    reasons: list[str] = []
    quota_ids: list[str] = []
    delay: float | None = None
    details = error.get("details")
    for item in details if isinstance(details, list) else []:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("@type", "")).removeprefix(_TYPE)
        if kind == "ErrorInfo" and safe_token(item.get("reason"), secrets):
            reasons.append(item["reason"])
        elif kind == "QuotaFailure" and isinstance(item.get("violations"), list):
            quota_ids += [
                v["quotaId"]
                for v in item["violations"]
                if isinstance(v, dict) and safe_token(v.get("quotaId"), secrets)
            ]
        elif kind == "RetryInfo":
            delay = parse_duration(item.get("retryDelay"))
    return GoogleStatus(
        status=safe_token(error.get("status"), secrets),
        message=provider_message(error.get("message"), secrets) if error.get("message") else "",
        reasons=tuple(reasons),
        quota_ids=tuple(quota_ids),
        retry_delay=delay,
    )


def parse_duration(value: Any) -> float | None:
    """A protobuf `Duration` in JSON (`"26s"`, `"0.5s"`), or its object form
    (`{"seconds": 26, "nanos": 0}`); None for anything else."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        return float(match.group(1)) if match else None
    if isinstance(value, dict):
        try:
            return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
        except (TypeError, ValueError):
            return None
    return None


def classify(
    definition: ProviderDefinition,
    status: int,
    headers: Mapping[str, str],
    google: GoogleStatus | None,
) -> GatewayError | None:
    """The error for an answer the table would get wrong (module docstring); None: the
    table's, as it is."""
    if google is None:
        return None
    provider = definition.name
    if google.key_refused:
        return UpstreamError(
            f"{provider} rejected the gateway's credentials (check {definition.key_variable()})",
            code="provider_auth_failed",
            provider=provider,
            outage=False,
        )
    if google.daily_quota:
        return ProviderQuotaExhausted(
            f"the {provider} project's daily quota is used up ({', '.join(google.quota_ids)}); "
            "it resets once a day",
            provider=provider,
        )
    if google.status == "FAILED_PRECONDITION":
        return ProviderQuotaExhausted(
            f"{provider} refused the gateway's project (FAILED_PRECONDITION: billing, or the "
            f"free tier in its country): {google.message or 'no reason given'}",
            provider=provider,
        )
    if google.retry_delay is None:
        return None
    hinted = {k.lower(): v for k, v in headers.items() if k.lower() != "retry-after-ms"}
    hinted["retry-after-ms"] = str(google.retry_delay * 1000)
    return error_for_status(definition, status, hinted, google.detail())
