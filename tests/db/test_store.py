"""The store on both databases: migrations up from empty (SQLite file and the real
PostgreSQL), URL handling, and the key/usage/budget stores' SQL behaving the same on each."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, inspect, text

from image_gateway.access.auth import hash_key
from image_gateway.access.key_store import KeyStore
from image_gateway.access.keys import NewKey
from image_gateway.billing.budget_store import BudgetStore
from image_gateway.billing.usage_store import UsageQuery, UsageStore
from image_gateway.db import tables
from image_gateway.db.database_url import normalize_database_url, redact_database_url
from image_gateway.db.engine import Database
from image_gateway.db.migrate import (
    HEAD,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from image_gateway.db.values import utcnow
from image_gateway.errors import BudgetExceeded
from tests.admin_helpers import ADMIN_TEST_KEY, create_key
from tests.services import fresh_postgres, postgres_databases

__all__ = ["fresh_postgres", "postgres_databases"]  # fixtures, imported for pytest

TABLES = {"alembic_version", "api_keys", "budget_reservations", "usage"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, fresh_postgres: Callable[[], str]
) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/nested/dir/gateway.db"
    return fresh_postgres()


def test_urls_are_normalised() -> None:
    assert normalize_database_url("postgres://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert normalize_database_url("postgresql://h/db") == "postgresql+asyncpg://h/db"
    assert normalize_database_url("sqlite:///data/x.db") == "sqlite+aiosqlite:///data/x.db"
    for bad in ("mysql://h/db", "data/x.db", "sqlite://", "sqlite:///:memory:", ""):
        with pytest.raises(ValueError):
            normalize_database_url(bad)
    assert redact_database_url("postgresql+asyncpg://u:secret@h/db") == (
        "postgresql+asyncpg://u:***@h/db"
    )


def test_migrations_run_up_from_empty_and_are_idempotent(database_url: str) -> None:
    async def run() -> None:
        db = Database(database_url)
        try:
            db.prepare()  # the SQLite file's folders are made on start
            assert await current_revision(db) is None
            await upgrade(db)
            await upgrade(db)  # a second instance starting later: nothing to do
            assert await current_revision(db) == head_revision()
            async with db.read() as conn:
                tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
                indexes = await conn.run_sync(
                    lambda c: {i["name"] for i in inspect(c).get_indexes("usage")}
                )
            assert TABLES <= tables
            assert {"ix_usage_day", "ix_usage_key_id_day", "ix_usage_key_name_day"} <= indexes
        finally:
            await db.close()

    asyncio.run(run())


def test_concurrent_migrations_apply_once(database_url: str) -> None:
    """Several instances starting together: the migration lock lets exactly one apply it."""

    async def run() -> None:
        dbs = [Database(database_url) for _ in range(3)]
        try:
            await asyncio.gather(*(upgrade(db) for db in dbs))
            assert await current_revision(dbs[0]) == head_revision()
        finally:
            for db in dbs:
                await db.close()

    asyncio.run(run())


def test_head_is_the_newest_migration() -> None:
    assert HEAD == head_revision()


def _schema(conn: Connection) -> dict[str, Any]:
    """Everything a migration can define, per table, as the database reports it."""
    insp = inspect(conn)

    def norm(items: list[Any]) -> list[str]:
        return sorted(repr(sorted(item.items())) for item in items)

    schema: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        columns = [{**c, "type": repr(c["type"])} for c in insp.get_columns(table)]
        schema[table] = {
            "columns": norm(columns),
            "primary_key": insp.get_pk_constraint(table),
            "foreign_keys": norm(insp.get_foreign_keys(table)),
            "indexes": norm(insp.get_indexes(table)),
            "unique": norm(insp.get_unique_constraints(table)),
        }
    schema["versions"] = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    return schema


def _alembic_upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def test_a_new_database_gets_the_schema_the_migrations_build(
    database_url: str, tmp_path: Path, fresh_postgres: Callable[[], str]
) -> None:
    """`upgrade()` builds an empty database from tables.py and stamps it; the migrations must
    arrive at the very same schema (columns, types, defaults, keys, indexes, constraints)."""
    if database_url.startswith("sqlite"):
        other_url = f"sqlite+aiosqlite:///{tmp_path}/migrated.db"
    else:
        other_url = fresh_postgres()

    async def run() -> None:
        built, migrated = Database(database_url), Database(other_url)
        try:
            await upgrade(built)
            migrated.prepare()
            async with migrated.write() as conn:
                await conn.run_sync(_alembic_upgrade, "head")
            async with built.read() as a, migrated.read() as b:
                assert await a.run_sync(_schema) == await b.run_sync(_schema)
        finally:
            await built.close()
            await migrated.close()

    asyncio.run(run())


def test_an_older_database_is_migrated_with_alembic(database_url: str) -> None:
    async def run() -> None:
        db = Database(database_url)
        try:
            db.prepare()
            async with db.write() as conn:
                await conn.run_sync(_alembic_upgrade, "0001")
            assert await current_revision(db) == "0001"
            await upgrade(db)
            assert await current_revision(db) == HEAD
            async with db.read() as conn:
                tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert "jobs" in tables
        finally:
            await db.close()

    asyncio.run(run())


def test_start_up_imports_alembic_only_to_apply_a_revision(tmp_path: Path) -> None:
    """Alembic costs ~0.1 s and ~12 MB: neither a new database nor one at head needs it."""
    code = (
        "import asyncio, sys\n"
        "from image_gateway.db.engine import Database\n"
        "from image_gateway.db.migrate import upgrade\n"
        "async def main():\n"
        f"    db = Database('sqlite+aiosqlite:///{tmp_path}/gateway.db')\n"
        "    await upgrade(db)\n"
        "    await upgrade(db)\n"
        "    await db.close()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_stores_on_each_database(database_url: str) -> None:
    async def run() -> None:
        db = Database(database_url)
        try:
            await upgrade(db)
            keys = KeyStore(db)
            stored, text = await keys.create(
                NewKey(name="k", allowed_models=["local/local-art"], monthly_budget_usd=0.05)
            )
            client = await keys.find_client(hash_key(text))
            assert client is not None and client.key_id == stored.id
            assert client.policy.allows("local", "local-art")
            assert not client.policy.allows("openai", "gpt-image-1")
            assert await keys.find_client(hash_key(text + "x")) is None
            assert await keys.find_client("' OR '1'='1") is None

            budgets = BudgetStore(db, reservation_seconds=60)
            first = await budgets.reserve(stored.id, 30_000)
            with pytest.raises(BudgetExceeded):
                await budgets.reserve(stored.id, 30_000)
            row = {
                "created_at": utcnow(),
                "day": utcnow().strftime("%Y-%m-%d"),
                "request_id": "req_1",
                "key_id": stored.id,
                "key_name": "k",
                "user_id": "u",
                "provider": "bfl-flux",
                "model": "flux-dev",
                "status": "succeeded",
                "error_code": None,
                "images": 1,
                "size": None,
                "quality": None,
                "latency_ms": 12.5,
                "cost_micros": 25_000,
            }
            await budgets.settle(first, stored.id, 25_000, [row])
            second = await budgets.reserve(stored.id, 25_000)  # 25k + 25k <= 50k
            with pytest.raises(BudgetExceeded):
                await budgets.reserve(stored.id, 1)
            await budgets.settle(second, stored.id, 0, [{**row, "request_id": "req_2"}])
            refreshed = await keys.get(stored.id)
            assert refreshed is not None and refreshed.spend_micros == 25_000

            usage = UsageStore(db)
            await usage.insert_many([{**row, "request_id": "req_3", "user_id": "v"}])
            rows, totals, truncated = await usage.aggregate(
                UsageQuery(group_by=("user_id", "model"), key_id=stored.id)
            )
            assert [(r["user_id"], r["requests"]) for r in rows] == [("u", 2), ("v", 1)]
            assert totals["requests"] == 3 and totals["cost_usd"] == pytest.approx(0.075)
            assert not truncated
            limited = await usage.aggregate(UsageQuery(group_by=("user_id",), limit=1))
            assert len(limited[0]) == 1 and limited[2] is True

            revoked = await keys.revoke(stored.id)
            assert revoked is not None and revoked.revoked_at is not None
            assert await keys.find_client(hash_key(text)) is None
            assert await keys.revoke("key_0000000000000000") is None
        finally:
            await db.close()

    asyncio.run(run())


def test_bulk_ledger_rows_read_back_as_sqlalchemy_writes_them(database_url: str) -> None:
    """`insert_many` hands rows to the driver's executemany itself; every column, the
    timestamp's text form on SQLite included, must equal a row SQLAlchemy inserted."""

    async def run() -> None:
        db = Database(database_url)
        db.prepare()
        try:
            await upgrade(db)
            created = utcnow()  # microseconds, and none: both text forms on SQLite
            rows: list[dict[str, Any]] = [
                {
                    "created_at": created.replace(microsecond=micro),
                    "day": created.strftime("%Y-%m-%d"),
                    "request_id": f"req_{micro}",
                    "key_id": None,
                    "key_name": "env-1",
                    "user_id": "o'brien; --",
                    "provider": "openai",
                    "model": "gpt-image-1",
                    "status": "failed",
                    "error_code": "timeout",
                    "images": 0,
                    "size": "1024x1024",
                    "quality": None,
                    "latency_ms": 0.25,
                    "cost_micros": None,
                }
                for micro in (0, 123_456)
            ]
            usage = UsageStore(db)
            await usage.insert_many(rows)
            async with db.write() as conn:
                await conn.execute(
                    tables.usage.insert(),
                    [{**r, "request_id": r["request_id"] + "-orm"} for r in rows],
                )
            async with db.read() as conn:
                raw = (
                    (await conn.execute(text("SELECT * FROM usage ORDER BY request_id")))
                    .mappings()
                    .all()
                )
                typed = (
                    (await conn.execute(tables.usage.select().order_by(tables.usage.c.request_id)))
                    .mappings()
                    .all()
                )
            bulk, orm = [dict(r) for r in raw[0::2]], [dict(r) for r in raw[1::2]]
            for ours, theirs in zip(bulk, orm, strict=True):
                ours.pop("id"), theirs.pop("id")
                theirs["request_id"] = theirs["request_id"].removesuffix("-orm")
                assert ours == theirs
            assert [r["created_at"] for r in typed[0::2]] == [r["created_at"] for r in rows]
            _, totals, _ = await usage.aggregate(UsageQuery())
            assert totals["requests"] == 4 and totals["unpriced_requests"] == 4
        finally:
            await db.close()

    asyncio.run(run())


def test_expired_reservations_free_the_budget(database_url: str) -> None:
    """An instance that died mid-request cannot hold budget beyond the reservation's life."""

    async def run() -> None:
        db = Database(database_url)
        try:
            await upgrade(db)
            stored, _ = await KeyStore(db).create(NewKey(name="k", monthly_budget_usd=0.01))
            dying = BudgetStore(db, reservation_seconds=0.2)
            await dying.reserve(stored.id, 10_000)  # never settled
            alive = BudgetStore(db, reservation_seconds=60)
            with pytest.raises(BudgetExceeded):
                await alive.reserve(stored.id, 10_000)
            await asyncio.sleep(0.3)
            assert await alive.reserve(stored.id, 10_000)
        finally:
            await db.close()

    asyncio.run(run())


def test_gateway_runs_on_postgres(start_gateway: Any, fresh_postgres: Callable[[], str]) -> None:
    gw = start_gateway(database_url=fresh_postgres(), admin_api_key=ADMIN_TEST_KEY)
    created = create_key(gw, name="pg", scopes=["generate", "usage"])
    with gw.client(key=created["key"]) as http:
        resp = http.post("/v1/images/generations", json={"prompt": "p", "size": "64x64"})
        assert resp.status_code == 200
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        assert admin.post(f"/v1/admin/keys/{created['id']}/revoke").status_code == 200
    with gw.client(key=created["key"]) as http:
        assert http.get("/v1/models").status_code == 401


def test_unreachable_database_at_start_up_names_it_without_the_password(tmp_path: Path) -> None:
    from image_gateway.access.persistence import Persistence, StoreUnavailable
    from tests.conftest import make_settings

    settings = make_settings(
        tmp_path,
        database_url="postgresql://postgres:hunter2-secret@127.0.0.1:1/db",
        database_timeout_seconds=0.5,
    )
    persistence = Persistence(settings)

    async def run() -> None:
        with pytest.raises(StoreUnavailable) as caught:
            await persistence.start()
        text = str(caught.value)
        assert "127.0.0.1:1/db" in text and "hunter2" not in text
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
        await persistence.close()

    asyncio.run(run())
