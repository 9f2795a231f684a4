"""Per-provider concurrency limits with a bounded FIFO wait queue in front.

BFL allows 24 active tasks per account (6 for FLUX.1 Kontext [max]); beyond that it answers
429. The gateway keeps its own count so excess calls wait their turn — up to the request's
deadline and the queue's length — instead of collecting the provider's 429.

Pools are named by provider (`bfl-flux`) or by `provider/model` (`bfl-flux/flux-kontext-max`),
from `PROVIDER_CONCURRENCY`. One upstream call takes a slot in its model's pool (if one is
configured) and then in its provider's pool, so a Kontext [max] task counts against both the 6
and the 24. A slot is held for the whole call (for BFL: submit, polls and the download).

With Redis (`REDIS_URL`), a call also takes a lease in a pool shared by every instance
(`SharedSlots`, the same lease sets the per-key concurrency limits use), so 24 means 24 across
the deployment; a lease expires with its call's deadline, so a crashed instance frees its slots.
The local pool still queues fairly inside each process.

A full queue is refused at once (429 `provider_queue_full`, with Retry-After); a wait that
reaches the deadline gives up (503 `provider_queue_timeout`). Both are ordinary provider
failures to the dispatcher, so a fallback may still serve the request.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol

from image_gateway.errors import ProviderRateLimited, ProviderUnavailable
from image_gateway.upstream.retry_after import retry_after_header

WaitObserver = Callable[[str, float], None]  # (pool name, seconds waited for a slot)
SHARED_POLL_MAX = 0.5  # seconds between tries for a shared slot (doubling from 50 ms)


class SharedSlots(Protocol):
    """Leases counted across instances (ratelimit.RedisLimiter implements it)."""

    async def acquire(self, key: str, limit: int, lease: str, ttl: float) -> bool: ...

    async def release(self, key: str, lease: str) -> None: ...


class ConcurrencyPool:
    """An async FIFO semaphore: `limit` holders, at most `max_queue` waiters."""

    def __init__(self, name: str, provider: str, limit: int, max_queue: int) -> None:
        self.name = name
        self.provider = provider
        self.limit = limit
        self.max_queue = max_queue
        self.active = 0
        self.waiters: deque[asyncio.Future[None]] = deque()
        self.hold_ewma = 1.0  # seconds a slot is typically held, for Retry-After advice

    @property
    def queued(self) -> int:
        return len(self.waiters)

    async def acquire(self, wait: float) -> None:
        if self.active < self.limit and not self.waiters:
            self.active += 1
            return
        if len(self.waiters) >= self.max_queue:
            raise ProviderRateLimited(
                f"{self.provider} is at its concurrency limit ({self.name}: {self.limit}) and "
                "the wait queue is full; retry later",
                code="provider_queue_full",
                provider=self.provider,
                retry_after=self.advice(),
                headers=retry_after_header(self.advice()),
            )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(max(0.0, wait)):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self.release()  # a slot was handed over just as we gave up: pass it on
            else:
                waiter.cancel()
                try:
                    self.waiters.remove(waiter)
                except ValueError:
                    pass
            if isinstance(exc, TimeoutError):
                raise self.timed_out() from None
            raise

    def timed_out(self, where: str = "") -> ProviderUnavailable:
        """No slot freed up before the request's deadline (`where`: which count was full)."""
        return ProviderUnavailable(
            f"no {self.provider} slot ({self.name}: {self.limit}{where}) freed up before the "
            "request's deadline",
            code="provider_queue_timeout",
            provider=self.provider,
            retry_after=self.advice(),
            headers=retry_after_header(self.advice()),
        )

    def release(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # hand the slot straight to the next in line
                return
        self.active -= 1

    def held(self, seconds: float) -> None:
        self.hold_ewma += 0.1 * (seconds - self.hold_ewma)

    def advice(self) -> float:
        """A guess of when a slot frees up for a newcomer: queue length × typical hold."""
        rounds = (len(self.waiters) + 1) / max(1, self.limit)
        return max(1.0, math.ceil(rounds * self.hold_ewma))


def parse_limits(spec: dict[str, int]) -> dict[str, int]:
    """Validated pool limits (settings already split `name=limit` pairs)."""
    return {name: limit for name, limit in spec.items() if limit > 0}


class Limits:
    """All pools, and which of them one call to (provider, model) must pass."""

    def __init__(
        self, limits: dict[str, int], max_queue: int, shared: SharedSlots | None = None
    ) -> None:
        self.shared = shared
        self.pools: dict[str, ConcurrencyPool] = {}
        for name, limit in parse_limits(limits).items():
            provider = name.split("/", 1)[0]
            self.pools[name] = ConcurrencyPool(name, provider, limit, max_queue)
        self._route: dict[tuple[str, str], tuple[ConcurrencyPool, ...]] = {}

    def pools_for(self, provider: str, model: str) -> tuple[ConcurrencyPool, ...]:
        key = (provider, model)
        found = self._route.get(key)
        if found is None:
            found = tuple(
                pool
                for name in (f"{provider}/{model}", provider)
                if (pool := self.pools.get(name)) is not None
            )
            self._route[key] = found
        return found

    @asynccontextmanager
    async def slot(
        self, provider: str, model: str, deadline: float, observe: WaitObserver | None = None
    ) -> AsyncIterator[None]:
        """Hold a slot in every pool of (provider, model) while the body runs; waits at most
        until `deadline` (event-loop time)."""
        pools = self.pools_for(provider, model)
        if not pools:
            yield
            return
        loop = asyncio.get_running_loop()
        taken: list[ConcurrencyPool] = []
        shared: list[ConcurrencyPool] = []
        lease = "" if self.shared is None else secrets.token_hex(8)  # a system call: when used
        started = got = loop.time()
        try:
            for pool in pools:
                await pool.acquire(deadline - loop.time())
                taken.append(pool)
            if self.shared is not None:
                for pool in pools:
                    await self._acquire_shared(pool, lease, deadline)
                    shared.append(pool)
            got = loop.time()
            if observe is not None:
                observe(pools[-1].name, got - started)
            yield
        finally:
            held = loop.time() - got
            for pool in reversed(shared):
                assert self.shared is not None
                await self.shared.release(f"pool:{pool.name}", lease)
            for pool in reversed(taken):
                pool.held(held)
                pool.release()

    async def _acquire_shared(self, pool: ConcurrencyPool, lease: str, deadline: float) -> None:
        assert self.shared is not None
        loop = asyncio.get_running_loop()
        delay = 0.05
        # The lease outlives the call by a margin only: a crashed instance's slots come back.
        ttl = max(1.0, deadline - loop.time()) + 30.0
        while not await self.shared.acquire(f"pool:{pool.name}", pool.limit, lease, ttl):
            if loop.time() + delay >= deadline:
                raise pool.timed_out(", shared by every instance")
            await asyncio.sleep(delay)
            delay = min(delay * 2, SHARED_POLL_MAX)
