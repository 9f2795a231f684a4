"""SQLite for the async engine, run on the event loop's own thread: aiosqlite's API, without its
thread hop per call.

aiosqlite runs each call (a cursor, an execute, a fetch, a close, a commit) on a thread of its
connection and wakes the loop with the answer: one statement through SQLAlchemy's adapter is
four hops, a write transaction about ten. A hop costs a turn of the event loop and of the GIL
(5 ms `sys.getswitchinterval()` while the loop thread is busy), so under load a write held
SQLite's lock for tens of milliseconds doing nothing and 10,000 async jobs did not get submitted
(issue 16: about 20 ms per write in the bench; 3.7 ms on an idle loop, 250 ms with four busy
tasks, against 0.1-0.3 ms run in place). SQLite itself answers a WAL read or a write in tens of
microseconds, so here every call runs in place.

What running in place must not do is wait: SQLite's busy handler sleeps in the calling thread.
In WAL mode readers never wait for the writer, and one process's writes take turns
(`engine.WriteTurn`) before `BEGIN IMMEDIATE`; what is left is another process holding the write
lock. So a connection's busy timeout is short (`BUSY_MS`) and `Database.write()` waits out a
busy `BEGIN IMMEDIATE` with asyncio sleeps, up to its `timeout_seconds`.

`dbapi()` is the module SQLAlchemy's aiosqlite dialect is given (`create_async_engine(module=)`):
aiosqlite's own, whose `connect` returns an `InlineConnection`. That subclass replaces the two
ways aiosqlite hands work to its thread (`_execute` and the `_tx` queue, which SQLAlchemy's
adapter also uses to set `isolation_level`), both private to aiosqlite: its version is pinned,
and tests/db/test_inline_sqlite.py drives the real engine through both.
"""

from __future__ import annotations

import asyncio
import sqlite3
import types
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite

# A connection's busy timeout (ms): how long a statement may block the loop for a lock another
# process holds (see the module docstring). `Database.write()` retries a busy BEGIN itself.
BUSY_MS = 10


class _RunNow:
    """aiosqlite's queue of work for its thread, run as it is put: (future, function)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the calling (the loop's) thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _RunNow()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def begin_now(self, statement: str) -> None:
        """Run `BEGIN` or `BEGIN IMMEDIATE` on the SQLite connection, in place (SQLAlchemy's
        `begin` hook, `engine.py`): through SQLAlchemy's execution of a statement it was about a
        quarter of a one-statement write's CPU. Raises sqlite3's own errors."""
        self._conn.execute(statement)

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no thread to start


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> InlineConnection:
    """`aiosqlite.connect`, inline: the arguments are `sqlite3.connect`'s."""
    kwargs["timeout"] = BUSY_MS / 1000

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(database, **kwargs)
        return connection

    return InlineConnection(connector, iter_chunk_size)


def dbapi() -> Any:
    """The DBAPI module for `create_async_engine(..., module=dbapi())`."""
    from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

    driver = types.SimpleNamespace(**vars(aiosqlite))
    driver.connect = connect
    driver.Connection = InlineConnection
    return AsyncAdapt_aiosqlite_dbapi(driver, sqlite3)  # type: ignore[arg-type]
