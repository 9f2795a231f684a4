"""Google's error envelope (`google.rpc.Status` as JSON) read for the status table, and the
answers the table would get wrong on Vertex AI.

    {"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED",
               "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                            "retryDelay": "26s"}, ...]}}

(REFERENCE-MORE §1.5, §1.8; python-genai `errors.py` reads `error.code/message/status`.)
Pure functions of the parsed body; the adapter (`adapter.py`) turns them into errors.

- `RetryInfo.retryDelay` ("26s", "0.5s") is the retry hint in the body (§1.5); a `Retry-After`
  header is read too [UNVERIFIED whether Vertex sends either on its 429].
- A 429 whose `QuotaFailure` names a per-day quota (`...PerDay...`) is a quota that stays
  exhausted until midnight (§1.5, [3P] for "sticky"), not a rate limit.
- `ErrorInfo.reason` `BILLING_DISABLED` (a 403 `PERMISSION_DENIED`): the project cannot pay
  [UNVERIFIED on Vertex: Google APIs' common ErrorInfo reasons].
- Imagen's moderation is an HTTP 400 "... The response is blocked, as it may violate our
  policies ... Error Code: 58061214" ([3P] epam/ai-dial-adapter-vertexai #48/#66, §1.8); Vertex
  also words refusals "... violate Google's Responsible AI practices ... Support codes: ..."
  [UNVERIFIED]: either wording, or a 400 naming such a code, is a content refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)s\s*")
_MODERATION = re.compile(
    r"Error Code:\s*\d{8}|Support codes?:\s*\d{8}|response is blocked"
    r"|violate (?:our|Google's) (?:policies|Responsible AI)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class GoogleError:
    """What an error body says: `error.code`, `.message`, `.status` and its `details`."""

    code: int | None = None
    message: str = ""
    status: str | None = None
    details: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def detail(self, kind: str) -> dict[str, Any] | None:
        """The first detail of type `google.rpc.<kind>` (`RetryInfo`, `ErrorInfo`, ...)."""
        suffix = f"google.rpc.{kind}"
        return next((d for d in self.details if str(d.get("@type", "")).endswith(suffix)), None)

    @property
    def reason(self) -> str | None:
        """`ErrorInfo.reason` (`BILLING_DISABLED`, `SERVICE_DISABLED`, `API_KEY_INVALID`)."""
        info = self.detail("ErrorInfo")
        reason = info.get("reason") if info else None
        return reason if isinstance(reason, str) else None

    @property
    def retry_delay(self) -> float | None:
        """`RetryInfo.retryDelay` in seconds; None when absent or not a duration."""
        info = self.detail("RetryInfo")
        value = info.get("retryDelay") if info else None
        match = _DURATION.fullmatch(value) if isinstance(value, str) else None
        return float(match.group(1)) if match else None

    @property
    def daily_quota(self) -> bool:
        """Whether a `QuotaFailure` violation names a per-day quota."""
        failure = self.detail("QuotaFailure")
        violations = failure.get("violations") if failure else None
        if not isinstance(violations, list):
            return False
        return any(
            isinstance(v, dict) and "perday" in str(v.get("quotaId", "")).lower()
            for v in violations
        )

    @property
    def moderated(self) -> bool:
        """Whether a 400's text is one of Imagen's content refusals (module docstring)."""
        return bool(_MODERATION.search(self.message))


def google_error(payload: Any) -> GoogleError | None:
    """The envelope in a parsed body (also a one-element list of it, as streamed answers
    carry it: python-genai `errors.py`); None for any other shape."""
    if isinstance(payload, list) and len(payload) == 1:
        payload = payload[0]
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None
    code, message, status = error.get("code"), error.get("message"), error.get("status")
    details = error.get("details")
    return GoogleError(
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        message=message if isinstance(message, str) else "",
        status=status if isinstance(status, str) else None,
        details=tuple(d for d in details if isinstance(d, dict))
        if isinstance(details, list)
        else (),
    )
