"""Per-key rate and concurrency limits: in process, and shared by two gateways through the
real Redis; plus the limiters' own rules (sliding window, lease expiry, failing open)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from image_gateway.access.ratelimit import LocalLimiter, RedisLimiter, retry_after
from tests.admin_helpers import ADMIN_TEST_KEY, create_key
from tests.conftest import BFL_TEST_KEY, RunningGateway
from tests.services import REDIS_URL, redis_prefix

__all__ = ["redis_prefix"]  # the fixture, imported for pytest

GENERATE = {"prompt": "a fox", "size": "64x64"}


def _post_all(gw: RunningGateway, key: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """Send every body at once (a barrier releases them together)."""
    barrier = threading.Barrier(len(bodies))

    def one(body: dict[str, Any]) -> httpx.Response:
        with gw.client(key=key) as http:
            barrier.wait()
            return http.post("/v1/images/generations", json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def test_requests_per_minute_gives_429_with_retry_after(start_gateway: Any) -> None:
    gw = start_gateway(admin_api_key=ADMIN_TEST_KEY)
    key = create_key(gw, requests_per_minute=3)["key"]
    other = create_key(gw, requests_per_minute=3)["key"]
    with gw.client(key=key) as http:
        codes = [http.post("/v1/images/generations", json=GENERATE).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        resp = http.post("/v1/images/generations", json=GENERATE)
    assert resp.status_code == 429
    assert resp.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(resp.headers["retry-after"]) <= 60
    assert resp.headers["x-should-retry"] == "true"
    with gw.client(key=other) as http:  # limits are per key
        assert http.post("/v1/images/generations", json=GENERATE).status_code == 200


def test_concurrency_limit_gives_429(start_gateway: Any, bfl: Any) -> None:
    gw = start_gateway(
        admin_api_key=ADMIN_TEST_KEY,
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
    )
    key = create_key(gw, max_concurrent=1)["key"]
    body = {"prompt": "a fox", "model": "flux-dev", "size": "256x256"}
    responses = _post_all(gw, key, [body] * 4)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 429, 429, 429], [r.text for r in responses]
    refused = [r for r in responses if r.status_code == 429]
    assert all(r.json()["error"]["code"] == "concurrency_limit_exceeded" for r in refused)
    assert all(r.headers["retry-after"] == "1" for r in refused)
    assert all(r.headers["x-should-retry"] == "true" for r in refused)
    assert bfl.stats()["submits"] == 1
    # The slot is released when the request settles, success or failure.
    with gw.client(key=key) as http:
        assert http.post("/v1/images/generations", json=body).status_code == 200
        failed = http.post("/v1/images/generations", json={**body, "prompt": "[error]"})
        assert failed.status_code >= 400
        assert http.post("/v1/images/generations", json=body).status_code == 200


def test_rpm_is_shared_by_two_gateways_through_redis(start_gateway: Any, redis_prefix: str) -> None:
    shared = {"admin_api_key": ADMIN_TEST_KEY, "redis_url": REDIS_URL}
    a = start_gateway(redis_key_prefix=redis_prefix, **shared)
    b = start_gateway(redis_key_prefix=redis_prefix, **shared)  # same database, same Redis
    key = create_key(a, requests_per_minute=4)["key"]
    codes = []
    for gw in (a, b, a, b, a, b):
        with gw.client(key=key) as http:
            resp = http.post("/v1/images/generations", json=GENERATE)
            codes.append(resp.status_code)
            if resp.status_code == 429:
                assert 1 <= int(resp.headers["retry-after"]) <= 60
    assert resp.headers["x-should-retry"] == "true"
    assert codes == [200, 200, 200, 200, 429, 429]


def test_concurrency_is_shared_by_two_gateways_through_redis(
    start_gateway: Any, redis_prefix: str, bfl: Any
) -> None:
    shared = {
        "admin_api_key": ADMIN_TEST_KEY,
        "redis_url": REDIS_URL,
        "redis_key_prefix": redis_prefix,
        "bfl_api_key": BFL_TEST_KEY,
        "bfl_base_url": bfl.base_url,
        "bfl_trusted_hosts": bfl.poll_base_url,
    }
    a = start_gateway(**shared)
    b = start_gateway(**shared)
    key = create_key(a, max_concurrent=1)["key"]
    body = {"prompt": "a fox", "model": "flux-dev", "size": "256x256"}
    barrier = threading.Barrier(4)

    def one(gw: RunningGateway) -> int:
        with gw.client(key=key) as http:
            barrier.wait()
            return http.post("/v1/images/generations", json=body).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(one, [a, b, a, b]))
    assert codes == [200, 429, 429, 429]
    assert bfl.stats()["submits"] == 1


def test_redis_down_fails_open(start_gateway: Any) -> None:
    gw = start_gateway(
        admin_api_key=ADMIN_TEST_KEY,
        redis_url="redis://127.0.0.1:1/0",
        redis_timeout_seconds=0.2,
    )
    key = create_key(gw, requests_per_minute=1, max_concurrent=1)["key"]
    with gw.client(key=key) as http:
        codes = [http.post("/v1/images/generations", json=GENERATE).status_code for _ in range(3)]
    assert codes == [200, 200, 200]


def test_local_sliding_window() -> None:
    now = [1000.0]
    limiter = LocalLimiter(clock=lambda: now[0])

    async def run() -> None:
        assert await limiter.hit("k", 2) is None
        now[0] += 10
        assert await limiter.hit("k", 2) is None
        now[0] += 10
        assert await limiter.hit("k", 2) == 40.0  # the first hit leaves the window at +60
        now[0] += 40
        assert await limiter.hit("k", 2) is None  # exactly one slot freed
        assert await limiter.hit("k", 2) == 10.0

    asyncio.run(run())
    assert retry_after(0.2) == "1" and retry_after(40.0) == "40" and retry_after(40.1) == "41"


def test_local_leases_expire() -> None:
    now = [0.0]
    limiter = LocalLimiter(clock=lambda: now[0])

    async def run() -> None:
        assert await limiter.acquire("k", 1, "a", ttl=5)
        assert not await limiter.acquire("k", 1, "b", ttl=5)
        await limiter.release("k", "a")
        assert await limiter.acquire("k", 1, "b", ttl=5)
        now[0] += 6  # "b" was never released (a crash): it expires
        assert await limiter.acquire("k", 1, "c", ttl=5)

    asyncio.run(run())


def test_redis_leases_of_a_crashed_instance_expire(redis_prefix: str) -> None:
    async def run() -> None:
        crashed = RedisLimiter(REDIS_URL, prefix=redis_prefix, timeout_seconds=2)
        alive = RedisLimiter(REDIS_URL, prefix=redis_prefix, timeout_seconds=2)
        try:
            assert await crashed.acquire("k", 1, "lease-a", ttl=0.3)
            assert not await alive.acquire("k", 1, "lease-b", ttl=0.3)
            await asyncio.sleep(0.4)  # "crashed" never releases
            assert await alive.acquire("k", 1, "lease-b", ttl=5)
            await alive.release("k", "lease-b")
            assert await alive.acquire("k", 1, "lease-c", ttl=5)
        finally:
            await crashed.close()
            await alive.close()

    asyncio.run(run())


def test_local_renew_keeps_a_slot_and_takes_back_an_expired_one() -> None:
    now = [0.0]
    limiter = LocalLimiter(clock=lambda: now[0])

    async def run() -> None:
        assert await limiter.acquire("k", 1, "job", ttl=5)
        now[0] += 4
        await limiter.renew("k", "job", ttl=5)  # held until 9 now, not 5
        now[0] += 4
        assert not await limiter.acquire("k", 1, "other", ttl=5)
        now[0] += 2  # expired (a queued job waited too long) and taken by another request
        assert await limiter.acquire("k", 1, "other", ttl=5)
        await limiter.renew("k", "job", ttl=5)  # taken back, whatever the count: it was admitted
        await limiter.release("k", "other")
        assert not await limiter.acquire("k", 1, "third", ttl=5)
        await limiter.release("k", "job")
        assert await limiter.acquire("k", 1, "third", ttl=5)

    asyncio.run(run())


def test_redis_renew_keeps_a_slot_and_takes_back_an_expired_one(redis_prefix: str) -> None:
    async def run() -> None:
        limiter = RedisLimiter(REDIS_URL, prefix=redis_prefix, timeout_seconds=2)
        try:
            assert await limiter.acquire("k", 1, "job", ttl=0.3)
            await asyncio.sleep(0.2)
            await limiter.renew("k", "job", ttl=0.5)
            await asyncio.sleep(0.2)  # past the first expiry, within the renewed one
            assert not await limiter.acquire("k", 1, "other", ttl=5)
            await asyncio.sleep(0.4)  # expired now
            assert await limiter.acquire("k", 1, "other", ttl=5)
            await limiter.renew("k", "job", ttl=5)
            await limiter.release("k", "other")
            assert not await limiter.acquire("k", 1, "third", ttl=5)
            await limiter.release("k", "job")
            assert await limiter.acquire("k", 1, "third", ttl=5)
        finally:
            await limiter.close()

    asyncio.run(run())
