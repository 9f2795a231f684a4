"""The schema's newest revision (`HEAD`) and, on SQLite, start-up's migration check without
SQLAlchemy (issue 16: SQLAlchemy, its asyncio extension and aiosqlite are ~0.15 s of a cold
start that the first answers need not wait for; tests/test_startup.py).

`sqlite_ready(db)` does what `migrate.upgrade` does for the two cases a start meets: a
database at `HEAD` is left as it is, and a new, empty one is built and stamped `HEAD`, in one
`BEGIN IMMEDIATE` transaction (instances starting together: one builds, the others find it
built). The DDL is `schema_sqlite.sql`: the statements `tables.metadata.create_all` emits on
SQLite, written out; tests/db/test_schema.py checks both build the same schema, and prints the
new text when `tables.py` changes. Anything else (an older revision, a partial schema, a URL
this module does not read) is left to `migrate.upgrade`, with SQLAlchemy and Alembic.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from image_gateway.db.engine import Database, use_wal

# The newest revision in migrations/versions: a new migration updates it (a test checks).
HEAD = "0004"
SQLITE_DDL = Path(__file__).with_name("schema_sqlite.sql")


def sqlite_ready(db: Database) -> bool:
    """True when `db` is a SQLite file now at `HEAD` (it was, or it was empty and is built);
    False when `migrate.upgrade` must decide (not SQLite, or neither case). Raises
    `sqlite3.Error` (OSError for the folder) when the file cannot be opened or written."""
    path = db.sqlite_file
    if path is None:
        return False
    db.prepare()
    conn = sqlite3.connect(path, timeout=db.timeout_seconds, isolation_level=None)
    try:
        cursor = conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(db.timeout_seconds * 1000):d}")
        use_wal(cursor, db.timeout_seconds)
        cursor.execute("BEGIN IMMEDIATE")
        try:
            ready = _ready(cursor)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT" if ready else "ROLLBACK")
        return ready
    finally:
        conn.close()


def _ready(cursor: sqlite3.Cursor) -> bool:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    existing = {str(row[0]) for row in cursor.fetchall()}
    if "alembic_version" in existing:
        cursor.execute("SELECT version_num FROM alembic_version")
        return [row[0] for row in cursor.fetchall()] == [HEAD]
    statements = [s.strip() for s in SQLITE_DDL.read_text().split(";") if s.strip()]
    tables = {m.group(1) for s in statements if (m := re.match(r"CREATE TABLE (\w+)", s))}
    if not existing.isdisjoint(tables):
        return False
    for statement in statements:  # alembic_version's last, as `migrate._upgrade` makes it
        cursor.execute(statement)
    cursor.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (HEAD,))
    return True
