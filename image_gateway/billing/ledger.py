"""The usage ledger's rows (`Outcome`) and its background writer: bounded, batched, and lossy
by design when the database is down.

`submit()` never waits and never raises: it appends to a bounded in-memory queue, or — when
the queue is full — drops the row and counts it. The writer inserts rows in batches of up to
`batch_size`, at most every `flush_seconds` while traffic is light. A batch that fails to
insert is dropped and counted, never re-queued, so an unreachable database costs a log line
per interval rather than ever-growing memory (cf. litellm #38193). `close()` flushes what is
left, within a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("image_gateway.ledger")

InsertMany = Callable[[list[dict[str, Any]]], Awaitable[None]]


@dataclass(slots=True)
class Outcome:
    """One usage-ledger row (see `billing/accounting.py` for how a request becomes its rows)."""

    provider: str  # the one that served (after fallbacks), or the last one tried
    model: str
    # "succeeded"; "unknown": a call may have been charged without an answer
    # (`ProviderError.billed_unknown`); "failed"
    status: str
    images: int = 0
    size: str | None = None  # what was made ("WxH"), else asked for; None if unknown
    quality: str | None = None
    error_code: str | None = None
    latency_ms: float = 0.0
    usage: dict[str, Any] | None = None
    cost_usd: float | None = None  # spent or possibly spent; None when the model has no price
    # Rows of earlier candidates (a fallback chain) that cost, or may have cost, money.
    earlier: list[Outcome] = field(default_factory=list)

    def rows(self) -> list[Outcome]:
        """Every row of the request: earlier candidates first, this one last."""
        return [*self.earlier, self]


class LedgerWriter:
    def __init__(
        self,
        insert_many: InsertMany,
        *,
        batch_size: int,
        flush_seconds: float,
        queue_max: int,
        warn_every_seconds: float = 10.0,
    ) -> None:
        self._insert_many = insert_many
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self._queue: deque[dict[str, Any]] = deque()
        self._queue_max = queue_max
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._warn_every = warn_every_seconds
        self._last_warning = 0.0
        self.written = 0
        self.dropped = 0

    @property
    def pending(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ledger-writer")

    def submit(self, row: dict[str, Any]) -> None:
        if len(self._queue) >= self._queue_max or self._stopping.is_set():
            self.dropped += 1
            self._warn("ledger queue full; usage row dropped")
            return
        self._queue.append(row)
        if len(self._queue) == 1 or len(self._queue) >= self._batch_size:
            self._wakeup.set()

    async def close(self, deadline_seconds: float = 10.0) -> None:
        """Stop taking rows and write what is queued (rows left after the deadline are dropped)."""
        self._stopping.set()
        self._wakeup.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), deadline_seconds)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self.dropped += len(self._queue)
            self._queue.clear()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if len(self._queue) < self._batch_size:
                # Light traffic: give a batch time to fill (close() cuts the wait short).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._flush_seconds)
            await self._write(self._take())
        while self._queue:
            await self._write(self._take())

    def _take(self) -> list[dict[str, Any]]:
        count = min(self._batch_size, len(self._queue))
        return [self._queue.popleft() for _ in range(count)]

    async def _write(self, batch: list[dict[str, Any]]) -> None:
        try:
            await self._insert_many(batch)
        except Exception as exc:
            self.dropped += len(batch)
            self._warn("ledger write failed; batch dropped", error=type(exc).__name__)
        else:
            self.written += len(batch)

    def _warn(self, message: str, **fields: Any) -> None:
        now = time.monotonic()
        if now - self._last_warning >= self._warn_every:
            self._last_warning = now
            log.warning(message, extra={"fields": {"dropped_total": self.dropped, **fields}})
