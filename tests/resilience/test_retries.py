"""Retries end to end: the gateway and both emulators on loopback, faults injected upstream.

Each test counts what reached the emulator: retries happen only where nothing was accepted,
and never a second paid submission once the provider may have taken the first.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

from tests.conftest import OpenAIEmulatorHandle
from tests.resilience.conftest import FaultGateway

GPT = {"model": "gpt-image-1", "prompt": "a lighthouse", "size": "1024x1024"}
FLUX = {"model": "flux-dev", "prompt": "a lighthouse"}


def generations(openai_emu: OpenAIEmulatorHandle) -> int:
    return int(openai_emu.stats()["requests"]["generate"])


def test_500_500_then_200_succeeds_after_three_calls(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway()
    waits = gw.record_sleeps()
    openai_emu.add_faults([{"match": "generate", "status": 500, "times": 2}])
    resp = gw.post(GPT)
    assert resp.status_code == 200, resp.text
    assert resp.json()["attempts"] == 3 and resp.json()["provider"] == "openai"
    assert generations(openai_emu) == 3
    # jittered exponential backoff: base 0.01 then 0.02, each drawn from [75 %, 100 %]
    assert len(waits) == 2
    assert 0.0075 <= waits[0] <= 0.01 and 0.015 <= waits[1] <= 0.02
    metrics = gw.get("/metrics").text
    assert 'igw_provider_retries_total{provider="openai",reason="upstream_error"} 2.0' in metrics
    assert (
        'igw_provider_call_duration_seconds_count{model="gpt-image-1",outcome="upstream_error",'
        'provider="openai"} 2.0' in metrics
    )


def test_bfl_submit_503_is_retried_but_one_task_is_created(fault_gateway: Any, bfl: Any) -> None:
    gw: FaultGateway = fault_gateway()
    bfl.add_faults([{"match": "submit", "status": 503}, {"match": "submit", "status": 502}])
    resp = gw.post(FLUX)
    assert resp.status_code == 200, resp.text
    stats = bfl.stats()
    assert stats["faults_triggered"] == 2 and stats["submits"] == 1
    assert resp.json()["attempts"] == 3


def test_retries_stop_at_the_attempt_limit(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway(retry_max_attempts=2)
    openai_emu.add_faults([{"match": "generate", "status": 502, "times": 5}])
    resp = gw.post(GPT)
    assert resp.status_code == 502 and resp.json()["error"]["code"] == "upstream_error"
    assert generations(openai_emu) == 2


def test_429_with_retry_after_1_waits_at_least_a_second(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway()
    openai_emu.add_faults([{"match": "generate", "status": 429, "headers": {"Retry-After": "1"}}])
    started = time.monotonic()
    resp = gw.post(GPT)
    elapsed = time.monotonic() - started
    assert resp.status_code == 200, resp.text
    assert elapsed >= 1.0
    assert generations(openai_emu) == 2


def test_retry_after_ms_wins_over_retry_after(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway()
    waits = gw.record_sleeps()
    openai_emu.add_faults(
        [
            {
                "match": "generate",
                "status": 429,
                "headers": {"retry-after-ms": "1500", "Retry-After": "9"},
            }
        ]
    )
    assert gw.post(GPT).status_code == 200
    assert waits == [1.5]


def test_retry_after_http_date_is_honoured(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway()
    waits = gw.record_sleeps()
    when = formatdate(time.time() + 4, usegmt=True)
    openai_emu.add_faults([{"match": "generate", "status": 429, "headers": {"Retry-After": when}}])
    assert gw.post(GPT).status_code == 200
    assert len(waits) == 1 and 2.5 <= waits[0] <= 4.0  # whole seconds in the date


def test_garbage_retry_after_falls_back_to_backoff(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway()
    waits = gw.record_sleeps()
    openai_emu.add_faults(
        [{"match": "generate", "status": 429, "headers": {"Retry-After": "soon, maybe"}}]
    )
    assert gw.post(GPT).status_code == 200
    assert len(waits) == 1 and 0.0075 <= waits[0] <= 0.01


def test_retry_after_99999_fails_fast_with_our_own_retry_after(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway()
    openai_emu.add_faults(
        [{"match": "generate", "status": 429, "headers": {"Retry-After": "99999"}}]
    )
    started = time.monotonic()
    resp = gw.post(GPT)
    assert time.monotonic() - started < 2
    assert resp.status_code == 429
    assert resp.json()["error"]["code"] == "provider_rate_limited"
    assert resp.headers["retry-after"] == "3600"  # bounded: never the provider's raw value
    assert generations(openai_emu) == 1


def test_a_hint_longer_than_the_deadline_is_not_waited_out(fault_gateway: Any, bfl: Any) -> None:
    gw: FaultGateway = fault_gateway(request_deadline_seconds=2, retry_max_wait_seconds=30)
    bfl.add_faults([{"match": "submit", "status": 429, "headers": {"Retry-After": "10"}}])
    started = time.monotonic()
    resp = gw.post(FLUX)
    assert time.monotonic() - started < 1.5
    assert resp.status_code == 429 and resp.headers["retry-after"] == "10"
    assert bfl.stats()["submits"] == 0


def test_insufficient_quota_is_not_retried_and_alerts(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway()
    body = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                      "param": None, "code": "insufficient_quota"}}  # fmt: skip
    openai_emu.add_faults([{"match": "generate", "status": 429, "body": body}])
    resp = gw.post(GPT)
    assert resp.status_code == 402
    assert resp.json()["error"]["code"] == "provider_quota_exhausted"
    assert generations(openai_emu) == 1
    assert 'igw_provider_quota_exhausted_total{provider="openai"} 1.0' in gw.get("/metrics").text


def test_bfl_402_is_not_retried(fault_gateway: Any, bfl: Any) -> None:
    gw: FaultGateway = fault_gateway()
    bfl.add_faults([{"match": "submit", "status": 402, "body": {"detail": "Insufficient credits"}}])
    resp = gw.post(FLUX)
    assert resp.status_code == 402
    assert bfl.stats()["faults_triggered"] == 1 and bfl.stats()["submits"] == 0


def test_reset_after_the_post_was_sent_is_never_reposted(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway()
    openai_emu.add_faults([{"match": "generate", "reset": True}])
    resp = gw.post(GPT)
    assert resp.status_code == 502 and resp.json()["error"]["code"] == "upstream_error"
    assert generations(openai_emu) == 1


def test_bfl_accept_then_reset_submits_once(fault_gateway: Any, bfl: Any) -> None:
    gw: FaultGateway = fault_gateway()
    bfl.add_faults([{"match": "submit", "accept_then_reset": True}])
    resp = gw.post(FLUX)
    assert resp.status_code == 502
    assert bfl.stats()["submits"] == 1  # accepted upstream; the gateway did not submit again


def test_connection_refused_before_sending_is_retried(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    from emulators.kit.server import bind_socket

    closed = bind_socket()
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: connect() is refused, nothing was sent
    gw: FaultGateway = fault_gateway(openai_base_url=f"http://127.0.0.1:{port}/v1")
    waits = gw.record_sleeps()
    resp = gw.post(GPT)
    assert resp.status_code == 502 and "could not connect" in resp.json()["error"]["message"]
    assert len(waits) == 2  # three tries, none of which reached a server


def test_a_hang_past_the_deadline_is_not_retried(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway(request_deadline_seconds=0.5)
    openai_emu.add_faults([{"match": "generate", "stall": True}])
    started = time.monotonic()
    resp = gw.post(GPT)
    assert resp.status_code == 504 and time.monotonic() - started < 2
    assert resp.json()["error"]["code"] == "deadline_exceeded"
    assert generations(openai_emu) == 1


def test_malformed_answers_are_a_typed_502_without_a_repost(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw: FaultGateway = fault_gateway()
    openai_emu.add_faults(
        [
            {"match": "generate", "status": 200, "body": '{"data": [{"b64_json": "iVBO'},
            {"match": "generate", "status": 200, "body": "<html><body>gateway</body></html>"},
        ]
    )
    for _ in range(2):
        resp = gw.post(GPT)
        assert resp.status_code == 502 and "malformed" in resp.json()["error"]["message"]
    assert generations(openai_emu) == 2
    bfl.add_faults([{"match": "submit", "status": 200, "body": {"id": "task-without-url"}}])
    resp = gw.post(FLUX)
    assert resp.status_code == 502
    assert bfl.stats()["submits"] == 0  # the fake acceptance was the only submission


def test_a_task_that_never_becomes_ready_stops_at_the_request_deadline(
    fault_gateway: Any, bfl: Any
) -> None:
    gw: FaultGateway = fault_gateway(request_deadline_seconds=1.0)
    started = time.monotonic()
    resp = gw.post({"model": "flux-dev", "prompt": "slow [never-ready]"})
    assert 0.9 <= time.monotonic() - started < 3
    assert resp.status_code == 504 and resp.json()["error"]["code"] == "deadline_exceeded"
    stats = bfl.stats()
    assert stats["submits"] == 1 and stats["polls"] >= 1


def test_polls_are_retried_but_never_resubmitted(fault_gateway: Any, bfl: Any) -> None:
    gw: FaultGateway = fault_gateway()
    bfl.add_faults(
        [
            {"match": "poll", "status": 500},
            {"match": "poll", "reset": True},
            {"match": "poll", "status": 200, "body": "not json"},
        ]
    )
    resp = gw.post(FLUX)
    assert resp.status_code == 200, resp.text
    assert bfl.stats()["submits"] == 1 and resp.json()["attempts"] == 1


def test_a_failed_result_download_does_not_resubmit(fault_gateway: Any, bfl: Any) -> None:
    gw: FaultGateway = fault_gateway()
    bfl.add_faults([{"match": "sample", "status": 503}])
    resp = gw.post(FLUX)
    assert resp.status_code == 502 and "downloaded" in resp.json()["error"]["message"]
    assert bfl.stats()["submits"] == 1


def test_an_exhausted_retry_budget_stops_retries(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway(retry_budget_ratio=0, retry_budget_min=0)
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    resp = gw.post(GPT)
    assert resp.status_code == 502 and generations(openai_emu) == 1
    assert "igw_provider_retries_total{" not in gw.get("/metrics").text
