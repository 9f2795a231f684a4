"""Schema migrations: Alembic's `upgrade head`, run on the gateway's own async engine.

Called at application start-up and by `image-gateway db upgrade`. Several instances starting
at once are serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by the
`BEGIN IMMEDIATE` write lock, so exactly one of them applies each revision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from .engine import Database

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works; it only has to be the same for every instance of the gateway.
_ADVISORY_LOCK_ID = 0x1A7E_6A7E


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
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
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
