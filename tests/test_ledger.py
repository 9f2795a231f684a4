"""The ledger writer: batches, flushes on close, and stays bounded when the database is down
(a real, unreachable PostgreSQL address — no stand-in for the store)."""

from __future__ import annotations

import asyncio
import tracemalloc
from pathlib import Path
from typing import Any

from image_gateway.billing.ledger import LedgerWriter
from image_gateway.billing.usage_store import UsageQuery, UsageStore
from image_gateway.db.engine import Database
from image_gateway.db.migrate import upgrade
from image_gateway.db.values import utcnow


def _row(i: int) -> dict[str, Any]:
    now = utcnow()
    return {
        "created_at": now,
        "day": now.strftime("%Y-%m-%d"),
        "request_id": f"req_{i}",
        "key_id": None,
        "key_name": "key-1",
        "user_id": f"user-{i % 3}",
        "provider": "local",
        "model": "local-art",
        "status": "succeeded",
        "error_code": None,
        "images": 1,
        "size": "64x64",
        "quality": None,
        "latency_ms": 1.0,
        "cost_micros": 0,
    }


def test_rows_are_batched_and_flushed_on_close(tmp_path: Path) -> None:
    async def run() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/g.db")
        await upgrade(db)
        store = UsageStore(db)
        batches: list[int] = []

        async def insert_many(rows: list[dict[str, Any]]) -> None:
            batches.append(len(rows))
            await store.insert_many(rows)

        writer = LedgerWriter(insert_many, batch_size=50, flush_seconds=30, queue_max=1000)
        writer.start()
        for i in range(120):
            writer.submit(_row(i))
        # Full batches go at once, without waiting the 30 s flush interval (a slow disk may
        # take a while for the two commits, hence a bounded wait rather than a fixed sleep).
        async with asyncio.timeout(10):
            while len(batches) < 2:
                await asyncio.sleep(0.01)
        assert batches[:2] == [50, 50]
        await writer.close()  # the rest is flushed, not lost
        assert sum(batches) == 120 and writer.written == 120 and writer.dropped == 0
        _, totals, _ = await store.aggregate(UsageQuery())
        assert totals["requests"] == 120
        writer.submit(_row(999))  # after close: counted as dropped, never queued
        assert writer.dropped == 1 and writer.pending == 0
        await db.close()

    asyncio.run(run())


def test_database_down_drops_and_stays_bounded() -> None:
    """cf. litellm #38193: failed writes must not pile up in memory."""

    async def run() -> None:
        db = Database("postgresql://postgres@127.0.0.1:1/nowhere", timeout_seconds=0.5)
        store = UsageStore(db)
        writer = LedgerWriter(store.insert_many, batch_size=100, flush_seconds=0.01, queue_max=500)
        writer.start()
        db.engine  # made (with the modules it loads) before memory is measured
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            for i in range(20_000):
                writer.submit(_row(i))
                assert writer.pending <= 500
                if i % 1000 == 0:
                    await asyncio.sleep(0)
            await asyncio.sleep(0.3)
            grown = tracemalloc.get_traced_memory()[0] - baseline
        finally:
            tracemalloc.stop()
        assert writer.dropped >= 19_000 and writer.written == 0
        assert grown < 2_000_000  # 500 queued rows at most, not 20,000
        await writer.close(deadline_seconds=2)
        assert writer.pending == 0
        await db.close()

    asyncio.run(run())
