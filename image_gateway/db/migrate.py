"""Schema migrations: bring the database to `HEAD`, run on the gateway's own async engine.

Called at application start-up (on SQLite only when `db/schema.py`, which needs no
SQLAlchemy, leaves the case to it) and by `image-gateway db upgrade`. Several instances starting
at once are serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by the
`BEGIN IMMEDIATE` write lock, so exactly one of them changes the schema.

Alembic (with Mako and Pygments, a cost in start-up time and memory) is imported only when a
revision has to be applied to an existing database. A database already at `HEAD` is
recognised from its `alembic_version` row, and a new, empty one is built from `tables.metadata`
and stamped `HEAD` — Alembic's own recipe for a new database; tests/db/test_store.py checks
that this schema is the one the migrations build.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    select,
    text,
)

from image_gateway.db.engine import Database
from image_gateway.db.schema import HEAD
from image_gateway.db.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works; it only has to be the same for every instance of the gateway.
_ADVISORY_LOCK_ID = 0x1A7E_6A7E

# Alembic's bookkeeping table, declared the way Alembic creates it.
_version = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    """The newest revision as Alembic reads it from migrations/versions."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision (a no-op when it already is)."""
    db.prepare()
    async with db.write() as conn:
        await conn.run_sync(_upgrade)


async def current_revision(db: Database) -> str | None:
    async with db.read() as conn:
        return await conn.run_sync(_current)


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
    existing = set(inspect(connection).get_table_names())
    if _version.name in existing:
        if connection.execute(select(_version.c.version_num)).scalars().all() == [HEAD]:
            return
    elif existing.isdisjoint(metadata.tables):
        metadata.create_all(connection)
        _version.create(connection)
        connection.execute(_version.insert().values(version_num=HEAD))
        return
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
