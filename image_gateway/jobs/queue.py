"""Job queues: which worker runs which job next.

The store is the source of truth for a job (a worker claims it with a lease before running it),
so a queue only has to deliver job ids at least once:
- `MemoryJobQueue`: an asyncio queue inside one process (the embedded default).
- `RedisJobQueue`: a Redis Stream with a consumer group, shared by every instance. A worker
  that dies mid-job leaves its delivery pending; after `reclaim_idle_seconds` another worker
  claims it (XAUTOCLAIM). A live worker keeps its delivery fresh with `heartbeat()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Delivery:
    job_id: str
    token: str  # the queue's handle for ack/heartbeat (a stream entry id for Redis)


class JobQueue(Protocol):
    async def enqueue(self, job_id: str) -> None: ...

    async def next(self, consumer: str, wait_seconds: float) -> Delivery | None:
        """The next job for this consumer, or None after `wait_seconds` seconds."""

    async def ack(self, delivery: Delivery) -> None: ...

    async def heartbeat(self, consumer: str, delivery: Delivery) -> None: ...

    async def close(self) -> None: ...


class MemoryJobQueue:
    def __init__(self, max_size: int = 100_000) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue(max_size)

    async def enqueue(self, job_id: str) -> None:
        # Never block a request on a full queue: the id is only a wake-up, and the sweeper
        # finds a queued job again after JOB_REQUEUE_AFTER_SECONDS.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(job_id)

    async def next(self, consumer: str, wait_seconds: float) -> Delivery | None:
        try:
            job_id = await asyncio.wait_for(self._queue.get(), wait_seconds)
        except TimeoutError:
            return None
        return Delivery(job_id, job_id)

    async def ack(self, delivery: Delivery) -> None:
        return None

    async def heartbeat(self, consumer: str, delivery: Delivery) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisJobQueue:
    def __init__(
        self,
        redis: Any,
        *,
        stream: str = "image-gateway:jobs",
        group: str = "workers",
        reclaim_idle_seconds: float = 30.0,
        max_length: int = 1_000_000,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self.reclaim_idle_ms = int(reclaim_idle_seconds * 1000)
        self.max_length = max_length
        self._group_ready = False

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        from redis.exceptions import ResponseError

        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def enqueue(self, job_id: str) -> None:
        await self._ensure_group()
        await self.redis.xadd(
            self.stream, {"job_id": job_id}, maxlen=self.max_length, approximate=True
        )

    async def next(self, consumer: str, wait_seconds: float) -> Delivery | None:
        await self._ensure_group()
        # First take over deliveries whose worker stopped heart-beating (it died mid-job).
        _, claimed, _ = await self.redis.xautoclaim(
            self.stream, self.group, consumer, self.reclaim_idle_ms, start_id="0-0", count=1
        )
        if claimed:
            return _delivery(claimed[0])
        entries = await self.redis.xreadgroup(
            self.group,
            consumer,
            {self.stream: ">"},
            count=1,
            block=max(1, int(wait_seconds * 1000)),
        )
        if not entries:
            return None
        _, messages = entries[0]
        return _delivery(messages[0]) if messages else None

    async def ack(self, delivery: Delivery) -> None:
        await self.redis.xack(self.stream, self.group, delivery.token)
        await self.redis.xdel(self.stream, delivery.token)

    async def heartbeat(self, consumer: str, delivery: Delivery) -> None:
        # Re-claiming our own entry resets its idle time, so nobody reclaims a live job.
        await self.redis.xclaim(self.stream, self.group, consumer, 0, [delivery.token], justid=True)

    async def close(self) -> None:
        await self.redis.aclose()


def _delivery(entry: Any) -> Delivery:
    entry_id, fields = entry
    token = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    job_id = fields.get(b"job_id") or fields.get("job_id")
    return Delivery(job_id.decode() if isinstance(job_id, bytes) else str(job_id), token)
