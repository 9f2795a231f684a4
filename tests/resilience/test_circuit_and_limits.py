"""Circuit breakers and provider concurrency limits end to end, counted at the emulators."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.conftest import GATEWAY_TEST_KEY, OpenAIEmulatorHandle
from tests.resilience.conftest import FaultGateway

GPT = {"model": "gpt-image-1", "prompt": "a fox", "size": "1024x1024"}


def generations(openai_emu: OpenAIEmulatorHandle) -> int:
    return int(openai_emu.stats()["requests"]["generate"])


def test_the_circuit_opens_skips_the_provider_and_a_probe_closes_it(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway(
        # The cooldown must outlast the four requests made while open, also on a loaded machine.
        retry_max_attempts=1,
        circuit_failure_threshold=2,
        circuit_cooldown_seconds=3,
    )
    openai_emu.add_faults([{"match": "generate", "status": 500, "times": 2}])
    assert gw.post(GPT).status_code == 502
    assert gw.post(GPT).status_code == 502
    assert 'igw_circuit_state{provider="openai"} 1.0' in gw.get("/metrics").text
    # open: no call upstream, a fast 503 with a Retry-After ...
    skipped = gw.post(GPT)
    assert skipped.status_code == 503 and skipped.json()["error"]["code"] == "circuit_open"
    assert int(skipped.headers["retry-after"]) >= 1
    # ... or the fallback serves, without touching the open provider
    served = gw.post({**GPT, "fallbacks": ["local"]})
    assert served.status_code == 200 and served.json()["provider"] == "local"
    assert served.json()["attempts"] == 1
    assert generations(openai_emu) == 2
    time.sleep(3.1)
    probe = gw.post(GPT)  # half-open: this one is the probe, and it succeeds
    assert probe.status_code == 200 and probe.json()["provider"] == "openai"
    assert gw.post(GPT).status_code == 200
    metrics = gw.get("/metrics").text
    assert 'igw_circuit_state{provider="openai"} 0.0' in metrics
    for state in ("open", "half_open", "closed"):
        assert f'igw_circuit_transitions_total{{provider="openai",state="{state}"}} 1.0' in metrics


def test_4xx_and_moderation_do_not_open_the_circuit(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway(circuit_failure_threshold=1)
    openai_emu.add_faults(
        [
            {"match": "generate", "status": 400},
            {"match": "generate", "status": 429, "headers": {"Retry-After": "9999"}},
            {"match": "generate", "status": 401},
        ]
    )
    assert [gw.post(GPT).status_code for _ in range(3)] == [400, 429, 502]
    assert gw.post({**GPT, "prompt": "[moderate] x"}).status_code == 400
    assert gw.post(GPT).status_code == 200


async def _many(url: str, body: dict[str, Any], count: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        return await asyncio.gather(
            *(
                http.post(
                    "/v1/images/generations",
                    json={**body, "seed": i},
                    headers={"X-API-Key": GATEWAY_TEST_KEY},
                )
                for i in range(count)
            )
        )


def test_fifty_concurrent_bfl_jobs_never_exceed_24_active(fault_gateway: Any, bfl: Any) -> None:
    gw: FaultGateway = fault_gateway()
    responses = asyncio.run(_many(gw.url, {"model": "flux-dev", "prompt": "p"}, 50))
    for resp in responses:
        gw.keep(resp)
    assert [r.status_code for r in responses] == [200] * 50
    stats = bfl.stats()
    assert stats["submits"] == 50 and stats["rejected_429"] == 0
    assert 1 < stats["max_active"] <= 24
    metrics = gw.get("/metrics").text
    assert 'igw_provider_queue_wait_seconds_count{pool="bfl-flux"} 50.0' in metrics
    assert 'igw_provider_in_flight{pool="bfl-flux"} 0.0' in metrics


def test_kontext_max_has_its_own_smaller_pool(fault_gateway: Any, bfl: Any) -> None:
    gw: FaultGateway = fault_gateway(provider_concurrency="bfl-flux=24,bfl-flux/flux-kontext-max=2")
    responses = asyncio.run(_many(gw.url, {"model": "flux-kontext-max", "prompt": "p"}, 8))
    for resp in responses:
        gw.keep(resp)
    assert [r.status_code for r in responses] == [200] * 8
    assert bfl.stats()["max_active"] <= 2 and bfl.stats()["rejected_429"] == 0


def test_a_full_queue_is_a_fast_429_with_retry_after(fault_gateway: Any, bfl: Any) -> None:
    gw: FaultGateway = fault_gateway(provider_concurrency="bfl-flux=2", provider_queue_max=2)
    responses = asyncio.run(_many(gw.url, {"model": "flux-dev", "prompt": "p"}, 10))
    for resp in responses:
        gw.keep(resp)
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) >= 4 and codes.count(429) >= 1 and set(codes) == {200, 429}
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["error"]["code"] == "provider_queue_full"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-should-retry"] == "true"  # nothing was sent: safe to repeat
    stats = bfl.stats()
    assert stats["max_active"] <= 2 and stats["rejected_429"] == 0
    assert stats["submits"] == codes.count(200)


def test_a_queue_wait_is_bounded_by_the_deadline(fault_gateway: Any, bfl: Any) -> None:
    gw: FaultGateway = fault_gateway(
        provider_concurrency="bfl-flux=1", request_deadline_seconds=2.0
    )
    slow = {"model": "flux-dev", "prompt": "hold the slot [never-ready]"}

    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=gw.url, timeout=30) as http:
            headers = {"X-API-Key": GATEWAY_TEST_KEY}
            first = asyncio.create_task(
                http.post("/v1/images/generations", json=slow, headers=headers)
            )
            await asyncio.sleep(0.2)
            # later requests get a shorter deadline than the slot holder's
            gw.on_loop(lambda: setattr(gw.resilience, "deadline_seconds", 0.5))
            started = time.monotonic()
            second = await http.post(
                "/v1/images/generations",
                json={"model": "flux-dev", "prompt": "p", "fallbacks": ["local"]},
                headers=headers,
            )
            assert 0.45 <= time.monotonic() - started < 1.5
            return [await first, second]

    first, second = asyncio.run(both())
    gw.keep(first)
    gw.keep(second)
    assert first.status_code == 504
    assert first.headers["x-should-retry"] == "false"  # its task was accepted (and charged)
    # the queued request gave up at its deadline, which also leaves no time for a fallback
    assert second.status_code == 503
    assert second.json()["error"]["code"] == "provider_queue_timeout"
    assert int(second.headers["retry-after"]) >= 1
    assert second.headers["x-should-retry"] == "true"  # it never reached the provider
    assert bfl.stats()["submits"] == 1
