"""Concurrency pools: FIFO hand-over, bounded queue, deadline, cancellation, nested pools."""

from __future__ import annotations

import asyncio

import pytest

from image_gateway.errors import ProviderRateLimited, ProviderUnavailable
from image_gateway.resilience.limiter import ConcurrencyPool, Limits
from image_gateway.settings import Settings


async def test_waiters_are_served_first_in_first_out() -> None:
    pool = ConcurrencyPool("p", "p", limit=1, max_queue=10)
    await pool.acquire(1)
    order: list[int] = []

    async def waiter(i: int) -> None:
        await pool.acquire(1)
        order.append(i)
        pool.release()

    tasks = [asyncio.create_task(waiter(i)) for i in range(5)]
    await asyncio.sleep(0)
    assert pool.queued == 5
    pool.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4] and pool.active == 0 and pool.queued == 0


async def test_a_full_queue_is_refused_at_once_with_advice() -> None:
    pool = ConcurrencyPool("bfl-flux", "bfl-flux", limit=1, max_queue=1)
    await pool.acquire(1)
    queued = asyncio.create_task(pool.acquire(5))
    await asyncio.sleep(0)
    with pytest.raises(ProviderRateLimited) as caught:
        await pool.acquire(5)
    assert (
        caught.value.code == "provider_queue_full"
        and caught.value.status_code == 429
        and int(caught.value.headers["Retry-After"]) >= 1
    )
    pool.release()
    await queued
    pool.release()
    assert pool.active == 0


async def test_a_wait_past_the_deadline_gives_up_and_leaves_no_trace() -> None:
    pool = ConcurrencyPool("p", "p", limit=1, max_queue=5)
    await pool.acquire(1)
    with pytest.raises(ProviderUnavailable) as caught:
        await pool.acquire(0.05)
    assert (
        caught.value.code == "provider_queue_timeout"
        and caught.value.status_code == 503
        and "Retry-After" in caught.value.headers
    )
    assert pool.queued == 0
    pool.release()
    assert pool.active == 0


async def test_a_cancelled_waiter_does_not_keep_or_lose_a_slot() -> None:
    pool = ConcurrencyPool("p", "p", limit=1, max_queue=5)
    await pool.acquire(1)
    waiting = asyncio.create_task(pool.acquire(5))
    await asyncio.sleep(0)
    pool.release()  # the slot is handed to the waiter ...
    waiting.cancel()  # ... which is cancelled before it runs: it must pass the slot on
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert pool.active == 0 and pool.queued == 0
    await pool.acquire(0.01)  # and the slot is really free


async def test_a_model_pool_counts_inside_its_provider_pool() -> None:
    limits = Limits({"bfl-flux": 3, "bfl-flux/flux-kontext-max": 1}, max_queue=10)
    assert [p.name for p in limits.pools_for("bfl-flux", "flux-kontext-max")] == [
        "bfl-flux/flux-kontext-max",
        "bfl-flux",
    ]
    assert [p.name for p in limits.pools_for("bfl-flux", "flux-dev")] == ["bfl-flux"]
    assert limits.pools_for("local", "local-art") == ()
    loop = asyncio.get_running_loop()
    peak = {"kontext": 0, "all": 0}
    active = {"kontext": 0, "all": 0}

    async def call(model: str) -> None:
        async with limits.slot("bfl-flux", model, loop.time() + 5):
            kind = "kontext" if model == "flux-kontext-max" else "other"
            active["all"] += 1
            active["kontext"] += kind == "kontext"
            peak["all"] = max(peak["all"], active["all"])
            peak["kontext"] = max(peak["kontext"], active["kontext"])
            await asyncio.sleep(0.01)
            active["all"] -= 1
            active["kontext"] -= kind == "kontext"

    models = ["flux-kontext-max"] * 4 + ["flux-dev"] * 6
    await asyncio.gather(*(call(m) for m in models))
    assert peak == {"kontext": 1, "all": 3}
    assert all(p.active == 0 and p.queued == 0 for p in limits.pools.values())


def test_provider_concurrency_setting() -> None:
    settings = Settings(_env_file=None, provider_concurrency="openai=4, bfl-flux=10")  # type: ignore[call-arg]
    assert settings.provider_concurrency == {"openai": 4, "bfl-flux": 10}
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    assert default.provider_concurrency == {"bfl-flux": 24, "bfl-flux/flux-kontext-max": 6}
    for bad in ("nobody=3", "bfl-flux", "bfl-flux=0", "bfl-flux=many"):
        with pytest.raises(ValueError, match="provider_concurrency"):
            Settings(_env_file=None, provider_concurrency=bad)  # type: ignore[call-arg]
