"""A busy database is `StoreBusy` (503 store_busy with Retry-After), whichever store asked:
a pool whose every connection stays taken (both databases), and SQLite's write lock held by
another connection; any other database error stays what it is."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from image_gateway.db.engine import Database
from image_gateway.errors import StoreBusy
from tests.services import fresh_postgres, postgres_databases

__all__ = ["fresh_postgres", "postgres_databases"]  # fixtures, imported for pytest

TIMEOUT = 0.3


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, fresh_postgres: Callable[[], str]
) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/gateway.db"
    return fresh_postgres()


def test_a_pool_whose_connections_stay_taken_is_store_busy(database_url: str) -> None:
    async def main() -> tuple[int, float, StoreBusy]:
        db = Database(database_url, timeout_seconds=TIMEOUT)
        try:
            async with AsyncExitStack() as held:
                for taken in range(100):
                    started = time.monotonic()
                    try:
                        conn = await held.enter_async_context(db.read())
                        await conn.execute(text("SELECT 1"))
                    except StoreBusy as exc:
                        return taken, time.monotonic() - started, exc
            raise AssertionError("the pool never ran out")
        finally:
            await db.close()

    taken, waited, exc = asyncio.run(main())
    assert taken == 15  # SQLAlchemy's default pool: 5 kept and 10 more
    assert TIMEOUT <= waited < TIMEOUT + 2
    assert (exc.status_code, exc.code, exc.headers["Retry-After"]) == (503, "store_busy", "1")
    assert exc.should_retry


def test_sqlite_locked_by_another_writer_is_store_busy(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE t (x INTEGER)")

    async def main() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}", timeout_seconds=TIMEOUT)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process's write, held
            with pytest.raises(StoreBusy):
                async with db.write() as conn:
                    await conn.execute(text("INSERT INTO t VALUES (1)"))
            other.execute("ROLLBACK")
            async with db.write() as conn:  # free again: written
                await conn.execute(text("INSERT INTO t VALUES (2)"))
            # A broken statement is not a busy store: it stays what it is (a 500, a bug).
            with pytest.raises(OperationalError):
                async with db.write() as conn:
                    await conn.execute(text("INSERT INTO missing VALUES (3)"))
        finally:
            await db.close()

    asyncio.run(main())
    assert other.execute("SELECT x FROM t").fetchall() == [(2,)]
    other.close()
