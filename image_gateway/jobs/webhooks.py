"""Webhook signatures and the delivery schedule (pure; the sending lives in the worker).

A delivery is a POST of the job (the same JSON as `GET /v1/jobs/{id}`) with headers
  X-Gateway-Webhook-Id:        the job id (stable across retries, for de-duplication)
  X-Gateway-Webhook-Timestamp: unix seconds when this attempt was signed
  X-Gateway-Signature:         v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>
The receiver recomputes the HMAC over the raw body and rejects timestamps older than a few
minutes (replay protection). The secret is the job's `webhook_secret`.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Gateway-Signature"
TIMESTAMP_HEADER = "X-Gateway-Webhook-Timestamp"
ID_HEADER = "X-Gateway-Webhook-Id"

# Seconds to wait before each retry after a failed attempt (then the delivery gives up).
RETRY_SCHEDULE = (1.0, 5.0, 30.0, 120.0, 600.0)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def headers_for(job_id: str, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "Content-Type": "application/json",
        ID_HEADER: job_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(
    secret: str,
    body: bytes,
    headers: dict[str, str],
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver does (documented and used by the tests)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature, sign(secret, int(timestamp), body))


def next_delay(attempts_made: int) -> float | None:
    """Delay before the next attempt after `attempts_made` failed ones; None = give up."""
    if attempts_made < 1 or attempts_made > len(RETRY_SCHEDULE):
        return None
    return RETRY_SCHEDULE[attempts_made - 1]
