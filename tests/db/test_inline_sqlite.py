"""SQLite on the loop's thread (`db/inline_sqlite.py`) and the write turn (`engine.WriteTurn`):
the engine's connections start no thread; a write that finds another process writing waits with
the loop running (not in SQLite's busy handler), and is written once the other write ends;
concurrent writes of one process all commit, and a waiter canceled while it waits, or just
after it was woken, never leaves the turn taken."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from image_gateway.db.engine import Database, WriteTurn


def _table(path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE t (x INTEGER)")
    return other


def test_connections_run_on_the_loops_thread(tmp_path: Path) -> None:
    other = _table(tmp_path / "g.db")

    async def main() -> tuple[int, list[int]]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/g.db")
        try:
            threads = threading.active_count()
            async with db.write() as conn:  # isolation_level is set through aiosqlite's queue
                await conn.execute(text("INSERT INTO t VALUES (1)"))
            async with db.read() as a, db.read() as b:  # two pooled connections
                seen = [(await c.execute(text("SELECT x FROM t"))).scalar_one() for c in (a, b)]
            return threading.active_count() - threads, seen
        finally:
            await db.close()

    assert asyncio.run(main()) == (0, [1, 1])
    other.close()


def test_a_write_waits_for_another_process_with_the_loop_running(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    other = _table(path)

    async def main() -> tuple[int, int]:
        db = Database(f"sqlite+aiosqlite:///{path}", timeout_seconds=30)
        ticks = 0
        try:
            async with db.write() as conn:  # the file in WAL mode, the engine made
                await conn.execute(text("INSERT INTO t VALUES (1)"))
            other.execute("BEGIN IMMEDIATE")  # another process's write, held
            other.execute("INSERT INTO t VALUES (2)")

            async def write() -> None:
                async with db.write() as conn:
                    await conn.execute(text("INSERT INTO t VALUES (3)"))

            waiting = asyncio.create_task(write())
            while ticks < 20:  # the loop turns while the write waits for the lock
                await asyncio.sleep(0.005)
                ticks += 1
            assert not waiting.done()
            other.execute("COMMIT")
            await waiting
            async with db.read() as conn:
                rows = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
            return ticks, rows
        finally:
            await db.close()

    assert asyncio.run(main()) == (20, 3)
    other.close()


def test_concurrent_writes_all_commit(tmp_path: Path) -> None:
    other = _table(tmp_path / "g.db")

    async def main() -> list[int]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/g.db")

        async def write(x: int) -> None:
            async with db.write() as conn:
                await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": x})
                if x % 3 == 0:
                    await asyncio.sleep(0)  # a write that gives the loop back holds the turn

        try:
            await asyncio.gather(*(write(x) for x in range(200)))
            async with db.read() as conn:
                return list((await conn.execute(text("SELECT x FROM t ORDER BY x"))).scalars())
        finally:
            await db.close()

    assert asyncio.run(main()) == list(range(200))
    other.close()


def test_a_canceled_waiter_never_keeps_the_turn() -> None:
    async def main() -> list[str]:
        turn = WriteTurn()
        done: list[str] = []

        async def take(name: str, hold: asyncio.Event | None = None) -> None:
            async with turn:
                if hold is not None:
                    await hold.wait()
                done.append(name)

        release = asyncio.Event()
        holder = asyncio.create_task(take("holder", release))
        await asyncio.sleep(0)
        canceled = asyncio.create_task(take("canceled while waiting"))
        woken = asyncio.create_task(take("canceled once woken"))
        last = asyncio.create_task(take("last"))
        await asyncio.sleep(0)
        canceled.cancel()
        release.set()
        await asyncio.sleep(0)  # the holder ends and wakes the first waiter left ...
        woken.cancel()  # ... which is canceled before it runs: it passes the turn on
        await asyncio.gather(holder, canceled, woken, last, return_exceptions=True)
        async with turn:  # free again
            done.append("after")
        return done

    assert asyncio.run(main()) == ["holder", "last", "after"]
