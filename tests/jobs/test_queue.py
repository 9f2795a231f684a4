"""Job queues: in-process, and Redis Streams against the real Redis server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from image_gateway.jobs.queue import MemoryJobQueue, RedisJobQueue
from tests.conftest import require_service


@pytest.fixture
async def redis_queue() -> AsyncIterator[RedisJobQueue]:
    require_service("Redis", "127.0.0.1", 6379)
    import redis.asyncio as redis

    client = redis.Redis(host="127.0.0.1", port=6379)
    stream = f"igw-test:{uuid.uuid4().hex}"
    queue = RedisJobQueue(client, stream=stream, reclaim_idle_seconds=0.3)
    yield queue
    await client.delete(stream)
    await queue.close()


async def test_memory_queue_delivers_in_order() -> None:
    queue = MemoryJobQueue()
    for job in ("a", "b"):
        await queue.enqueue(job)
    first = await queue.next("w", 1)
    second = await queue.next("w", 1)
    assert (first and first.job_id, second and second.job_id) == ("a", "b")
    assert await queue.next("w", 0.05) is None


async def test_redis_queue_delivers_each_job_to_one_worker(redis_queue: RedisJobQueue) -> None:
    for i in range(10):
        await redis_queue.enqueue(f"job-{i}")
    seen: list[str] = []

    async def worker(name: str) -> None:
        while (delivery := await redis_queue.next(name, 0.2)) is not None:
            seen.append(delivery.job_id)
            await redis_queue.ack(delivery)

    await asyncio.gather(worker("w1"), worker("w2"))
    assert sorted(seen) == sorted(f"job-{i}" for i in range(10))


async def test_redis_queue_reclaims_the_job_of_a_dead_worker(redis_queue: RedisJobQueue) -> None:
    await redis_queue.enqueue("orphan")
    taken = await redis_queue.next("dies", 0.5)
    assert taken is not None and taken.job_id == "orphan"
    assert await redis_queue.next("survivor", 0.1) is None  # still fresh: not reclaimed yet
    await asyncio.sleep(0.4)  # the first worker never heart-beats nor acks
    reclaimed = await redis_queue.next("survivor", 0.5)
    assert reclaimed is not None and reclaimed.job_id == "orphan"
    await redis_queue.ack(reclaimed)
    assert await redis_queue.next("survivor", 0.1) is None


async def test_heartbeat_keeps_a_live_job(redis_queue: RedisJobQueue) -> None:
    await redis_queue.enqueue("long")
    taken = await redis_queue.next("busy", 0.5)
    assert taken is not None
    for _ in range(4):
        await asyncio.sleep(0.15)
        await redis_queue.heartbeat("busy", taken)
        assert await redis_queue.next("thief", 0.05) is None
    await redis_queue.ack(taken)
