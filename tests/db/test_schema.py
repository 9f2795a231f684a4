"""`db/schema.py`: SQLite's start-up check without SQLAlchemy builds the schema
`migrate.upgrade` builds, from DDL that is what `tables.metadata.create_all` emits."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, CreateTable

from image_gateway.db import tables
from image_gateway.db.engine import Database
from image_gateway.db.migrate import _version, current_revision, upgrade
from image_gateway.db.schema import HEAD, SQLITE_DDL, sqlite_ready
from tests.db.test_store import _alembic_upgrade, _schema


def _create_all_ddl() -> str:
    dialect = sqlite.dialect()
    out: list[str] = []
    for table in [*tables.metadata.sorted_tables, _version]:
        out.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        out += [
            str(CreateIndex(ix).compile(dialect=dialect)).strip()
            for ix in sorted(table.indexes, key=lambda ix: str(ix.name))
        ]
    return "".join(f"{statement};\n" for statement in out)


def test_the_sqlite_ddl_is_what_create_all_emits() -> None:
    expected = _create_all_ddl()
    assert SQLITE_DDL.read_text() == expected, (
        f"tables.py changed: write this to {SQLITE_DDL} (and add a migration):\n{expected}"
    )


def _sql(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    return [(str(t), str(n), str(s)) for t, n, s in rows]


def test_a_new_sqlite_database_is_built_as_upgrade_builds_it(tmp_path: Path) -> None:
    fast = Database(f"sqlite+aiosqlite:///{tmp_path}/new/fast.db")
    slow = Database(f"sqlite+aiosqlite:///{tmp_path}/slow.db")

    async def run() -> None:
        try:
            assert sqlite_ready(fast)  # creates the folder, builds and stamps
            assert sqlite_ready(fast)  # at HEAD: left as it is
            await upgrade(slow)
            assert await current_revision(fast) == HEAD
            async with fast.read() as a, slow.read() as b:
                assert await a.run_sync(_schema) == await b.run_sync(_schema)
        finally:
            await fast.close()
            await slow.close()

    asyncio.run(run())
    assert _sql(tmp_path / "new" / "fast.db") == _sql(tmp_path / "slow.db")
    with sqlite3.connect(tmp_path / "new" / "fast.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_older_or_partial_database_is_left_to_alembic(tmp_path: Path) -> None:
    older = Database(f"sqlite+aiosqlite:///{tmp_path}/older.db")
    partial = tmp_path / "partial.db"
    with sqlite3.connect(partial) as conn:
        conn.execute("CREATE TABLE usage (id INTEGER)")

    async def run() -> None:
        try:
            older.prepare()
            async with older.write() as conn:
                await conn.run_sync(_alembic_upgrade, "0001")
            assert not sqlite_ready(older)
            assert await current_revision(older) == "0001"  # untouched
        finally:
            await older.close()

    asyncio.run(run())
    before = _sql(partial)
    assert not sqlite_ready(Database(f"sqlite:///{partial}"))
    assert _sql(partial) == before


def test_postgresql_is_left_to_upgrade() -> None:
    assert not sqlite_ready(Database("postgresql://u@127.0.0.1:1/db"))


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///data/gateway.db",
        "sqlite:////tmp/x/gateway.db",
        "sqlite+aiosqlite:///./rel/a b.db",
        "sqlite:///~/gateway.db",
    ],
)
def test_the_sqlite_file_is_the_one_sqlalchemy_opens(url: str) -> None:
    db = Database(url)
    assert db.sqlite_file == make_url(db.url).database


def test_urls_it_does_not_parse_are_left_to_sqlalchemy() -> None:
    assert Database("sqlite:///data/a%20b.db").sqlite_file is None
    assert Database("sqlite:///data/a.db?timeout=3").sqlite_file is None
