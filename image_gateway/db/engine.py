"""`Database`: the one async engine of a process, and how transactions are opened on it.

SQLite (aiosqlite) gets WAL, a busy timeout, and explicit `BEGIN` statements: `write()` opens
`BEGIN IMMEDIATE`, which takes the database's write lock up front, so a read-check-write (the
budget reservation) is serialised across connections *and* processes. PostgreSQL (asyncpg)
uses ordinary transactions; callers that need a row lock say `FOR UPDATE`.

The engine is made when first used (`engine`: at start-up, by the migration check), not when a
`Database` is built, and this module imports no SQLAlchemy until then: SQLAlchemy (~0.16 s,
its asyncio extension loading its ORM) is what `import main` would otherwise pay (issue 16;
tests/test_startup.py).

On SQLite a process's writes also take turns (`WriteTurn`) before they take a pooled
connection: SQLite has one writer anyway, and without the turn every waiting write would hold a
connection and meet SQLite's busy handler, so a burst of writes (thousands of jobs submitted and
polled at once, issue 16) starved the pool (`pool_timeout`, a 500). SQLite's calls run on the
loop's thread (`inline_sqlite`: aiosqlite's thread hop per call held the write lock for tens of
milliseconds under load), so a connection's own busy timeout is short, and a `BEGIN IMMEDIATE`
that finds another process writing is tried again after asyncio sleeps, up to `timeout_seconds`.

A database that stays busy past `timeout_seconds` (no pooled connection freed: `pool_timeout`;
SQLite's write lock held elsewhere: "database is locked"; PostgreSQL out of connections) raises
`StoreBusy` from `read()` and `write()`, whichever store made the call: a 503 with Retry-After
(`errors.py`), never a 500, and a job's worker puts its job back instead of failing it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from image_gateway.db.database_url import (
    POSTGRES,
    SQLITE,
    normalize_database_url,
    redact_database_url,
)
from image_gateway.errors import StoreBusy

_BEGIN = {"deferred": "BEGIN", "immediate": "BEGIN IMMEDIATE"}
# What a busy (not a broken) database says: SQLite's messages, PostgreSQL's SQLSTATEs
# (53300 too_many_connections, 55P03 lock_not_available).
# A busy `BEGIN IMMEDIATE` is tried again after these pauses (doubling), until `timeout_seconds`.
BUSY_PAUSE_SECONDS = 0.002
BUSY_PAUSE_MAX_SECONDS = 0.05
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
_PG_BUSY = ("53300", "55P03")


class Database:
    def __init__(self, url: str, *, timeout_seconds: float = 5.0) -> None:
        self.url = normalize_database_url(url)
        # "sqlite" | "postgresql": the backend of the one driver each scheme is normalized to.
        self.dialect = {SQLITE: "sqlite", POSTGRES: "postgresql"}[self.url.partition("://")[0]]
        self.timeout_seconds = timeout_seconds
        # This process's writes, one at a time on SQLite (module docstring).
        self._write_turn = WriteTurn() if self.dialect == "sqlite" else None

    @cached_property
    def engine(self) -> AsyncEngine:
        """The pool of connections, made on first use (module docstring)."""
        from sqlalchemy.ext.asyncio import create_async_engine

        timeout_seconds = self.timeout_seconds
        kwargs: dict[str, Any] = {"pool_timeout": timeout_seconds}
        if self.dialect == "sqlite":
            from image_gateway.db import inline_sqlite

            kwargs["module"] = inline_sqlite.dbapi()  # on the loop's thread (its docstring)
        else:
            # A PostgreSQL restart must not fail the next request on every pooled connection.
            kwargs["pool_pre_ping"] = True
            # asyncpg: `timeout` bounds connecting, `command_timeout` every statement.
            kwargs["connect_args"] = {
                "timeout": timeout_seconds,
                "command_timeout": timeout_seconds,
            }
        engine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            _install_sqlite_hooks(engine, timeout_seconds)
        return engine

    @property
    def display_url(self) -> str:
        return redact_database_url(self.url)

    @property
    def sqlite_file(self) -> str | None:
        """The SQLite file's path as SQLAlchemy reads it from the URL (`sqlite+aiosqlite:///x`
        is `x`, `:////x` is `/x`); None when not SQLite, or for a URL with a query or escapes,
        which this does not parse."""
        scheme, _, rest = self.url.partition("://")
        if scheme != SQLITE or not rest.startswith("/") or "?" in rest or "%" in rest:
            return None
        return rest[1:] or None

    def prepare(self) -> None:
        """Create the SQLite file's folder (the default `data/` may not exist yet)."""
        if self.dialect != "sqlite":
            return
        path = self.sqlite_file
        if path is None:  # a URL `sqlite_file` does not read: SQLAlchemy's reading
            from sqlalchemy.engine import make_url

            path = make_url(self.url).database
        if path:
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection from the pool; StoreBusy when the database stays busy."""
        with _as_store_busy():
            async with self._connect() as conn:
                yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits on success; on SQLite it holds the write lock throughout,
        and waits for this process's earlier writes first (one at a time, in order).
        StoreBusy when the database stays busy (module docstring)."""
        with _as_store_busy():
            if self._write_turn is None:
                async with self.engine.connect() as conn, conn.begin():
                    yield conn
                return
            async with self._write_turn:
                deadline = time.monotonic() + self.timeout_seconds
                pause = BUSY_PAUSE_SECONDS
                while True:
                    begun = False
                    try:
                        async with self._connect() as conn:
                            conn = await conn.execution_options(sqlite_begin="immediate")
                            async with conn.begin():
                                begun = True
                                yield conn
                        return
                    except Exception as exc:
                        # Another process holds SQLite's write lock: wait for it here, not in
                        # SQLite's busy handler, which would block the loop (`inline_sqlite`).
                        if begun or _busy(exc) is None or time.monotonic() + pause > deadline:
                            raise
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, BUSY_PAUSE_MAX_SECONDS)

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection. On SQLite it is given back with a plain `close()`: `async with
        engine.connect()` closes in a task of its own (safe from a cancel half-way), two more
        turns of the loop per connection, while a write holds the lock; closing an inline
        SQLite connection never waits (`inline_sqlite`), so nothing can interrupt it."""
        if self.dialect != "sqlite":
            async with self.engine.connect() as conn:
                yield conn
            return
        conn = await self.engine.connect()
        try:
            yield conn
        finally:
            await conn.close()

    async def close(self) -> None:
        if "engine" in self.__dict__:  # made (`cached_property` keeps it there)
            await self.engine.dispose()


class WriteTurn:
    """One write at a time, taken at once whenever it is free: a lock without asyncio.Lock's
    queue. A FIFO lock hands a released turn to the first waiter through the event loop, so
    once writes queue every write costs a whole turn of the loop, and at a few thousand
    requests in flight a turn is tens of milliseconds: writes convoyed at a dozen a second,
    while each held the lock for well under one (issue 16, 10,000 jobs). An inline SQLite write
    (`inline_sqlite`) mostly begins and commits without giving the loop back, so here a write
    that finds the turn free takes it in the same step; a waiter is woken on each release and
    takes it if it is still free, else waits again at the front. A waiter can only lose to a
    write that arrived while it was being woken, which then holds the turn for one statement."""

    def __init__(self) -> None:
        self._held = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        first = False  # a woken waiter that lost the turn waits at the front again
        while self._held:
            waiter = asyncio.get_running_loop().create_future()
            if first:
                self._waiters.appendleft(waiter)
            else:
                self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif not self._held:
                    self._wake()  # it was woken for a free turn it will not take: pass it on
                raise
            first = True
        self._held = True

    async def __aexit__(self, *_exc: object) -> None:
        self._held = False
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


@contextmanager
def _as_store_busy() -> Iterator[None]:
    """Raise a busy database's error as StoreBusy (`_busy`); any other as it is."""
    try:
        yield
    except Exception as exc:
        if (busy := _busy(exc)) is None:
            raise
        raise busy from exc


def _busy(exc: Exception) -> StoreBusy | None:
    """StoreBusy for a database that is busy; None for any other error (raised as it is)."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout):
        return StoreBusy()
    if not isinstance(exc, OperationalError):
        return None
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state in _PG_BUSY or any(text in str(orig).lower() for text in _SQLITE_BUSY):
        return StoreBusy()
    return None


def _install_sqlite_hooks(engine: AsyncEngine, timeout_seconds: float) -> None:
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.exc import DBAPIError

    from image_gateway.db.inline_sqlite import BUSY_MS

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's implicit transactions cannot do BEGIN IMMEDIATE; we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_MS:d}")
        use_wal(cursor, timeout_seconds)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        statement = _BEGIN[conn.get_execution_options().get("sqlite_begin", "deferred")]
        try:
            # In place on the driver's connection (`InlineConnection.begin_now`), not as a
            # statement through SQLAlchemy's execution (contexts, events, a cursor, a result).
            conn.connection.driver_connection.begin_now(statement)
        except sqlite3.Error as exc:  # as SQLAlchemy raises it: `_busy` reads a busy one
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


def use_wal(cursor: Any, timeout_seconds: float) -> None:
    """Put the database in WAL mode. The mode is kept in the file, so only the first connection
    to a new file changes it; that change takes a lock SQLite does not wait for (the busy
    timeout does not apply), so a connection opened at the same moment (instances starting
    together) gets "database is locked" at once. It tries again, briefly, within the timeout."""
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.02)  # a new file, at start-up only: no request is waiting on this loop
