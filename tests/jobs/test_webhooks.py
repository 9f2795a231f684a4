from __future__ import annotations

from image_gateway.jobs.webhooks import RETRY_SCHEDULE, headers_for, next_delay, sign, verify


def test_signature_roundtrip_and_tampering() -> None:
    body = b'{"id":"job_1","status":"succeeded"}'
    headers = headers_for("job_1", "whsec_abc", body, now=1_000_000)
    assert headers["X-Gateway-Signature"] == sign("whsec_abc", 1_000_000, body)
    assert verify("whsec_abc", body, headers, now=1_000_010)
    assert not verify("whsec_abc", body + b" ", headers, now=1_000_010)
    assert not verify("other", body, headers, now=1_000_010)
    assert not verify("whsec_abc", body, headers, now=1_000_000 + 301)  # replayed too late
    assert not verify("whsec_abc", body, {**headers, "X-Gateway-Webhook-Timestamp": "x"})


def test_retry_schedule_backs_off_then_gives_up() -> None:
    delays = [next_delay(n) for n in range(1, len(RETRY_SCHEDULE) + 2)]
    assert delays[:-1] == sorted(delays[:-1]) and delays[-1] is None
    assert next_delay(0) is None
