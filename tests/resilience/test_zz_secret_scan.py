"""The fault suite's secret scan: every response and log line the fault tests produced —
collected by the `fault_gateway` fixture — plus a last round of every fault with providers
echoing the keys back, holds no 8-character piece of any canary key. Runs last in this folder
(file name), so it sees the whole suite's output; alone, it still covers every fault kind."""

from __future__ import annotations

from typing import Any

from tests.conftest import BFL_TEST_KEY, OPENAI_TEST_KEY, OpenAIEmulatorHandle
from tests.resilience.conftest import SUITE_OUTPUT, FaultGateway, leaks


def test_no_canary_in_anything_the_fault_suite_produced(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw: FaultGateway = fault_gateway(
        upstream_read_timeout_seconds=0.3,
        request_deadline_seconds=1.5,
        circuit_failure_threshold=100,
    )
    echo = f"keys {OPENAI_TEST_KEY} {BFL_TEST_KEY} x-key: {BFL_TEST_KEY[:12]}"
    openai_error = {"error": {"message": echo, "type": "x", "param": None, "code": None}}
    openai_emu.add_faults(
        [
            {"match": "generate", "status": 429, "headers": {"Retry-After": "0"}},
            {"match": "generate", "status": 429, "headers": {"Retry-After": "99999"}},
            {"match": "generate", "status": 500, "body": openai_error},
            {"match": "generate", "status": 503, "body": openai_error, "times": 2},
            {"match": "generate", "stall": True},
            {"match": "generate", "reset": True},
            {"match": "generate", "status": 200, "body": echo},
            {"match": "generate", "status": 400, "body": openai_error},
        ]
    )
    gpt = {"model": "gpt-image-1", "prompt": "p", "size": "1024x1024"}
    statuses = [gw.post(gpt).status_code for _ in range(7)]
    assert statuses == [429, 502, 504, 502, 502, 400, 200]
    bfl.add_faults(
        [
            {"match": "submit", "status": 500, "body": {"detail": echo}},
            {"match": "submit", "status": 429, "body": {"detail": echo}},
            {"match": "submit", "accept_then_reset": True},
            {
                "match": "submit",
                "status": 422,
                "body": {"detail": [{"loc": ["body", "seed"], "msg": echo}]},
            },
            {"match": "poll", "status": 200, "body": {"status": "Error", "details": echo}},
        ]
    )
    for prompt in ("p", "p", "p", "p", "[moderate-request]", "[never-ready]"):
        gw.post({"model": "flux-dev", "prompt": prompt, "fallbacks": ["local"]})
    gw.get("/metrics")
    gw.output.append(repr(gw.running.settings))
    assert not leaks(gw.output)
    assert not leaks(SUITE_OUTPUT), leaks(SUITE_OUTPUT)[:3]
