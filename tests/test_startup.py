"""Start-up cost: what a gateway in the default configuration does not load until it is used.

Alembic (with Mako and Pygments) is only for applying a migration to an existing database,
Pillow only for the local provider and input images, aiohttp only from the first provider call,
input image fetched by URL or webhook delivered (its import also loads the system's CA
certificates): memory and import time that every process would otherwise pay at a cold start
(bench/RESULTS.md has the figures). botocore loads only for a configured Bedrock
provider (`providers/bedrock/auth.py`) or the S3 image store, httpx-sse (with httpx) only
for the first streamed provider answer (`upstream/sse.py`), google-auth (with cryptography)
only for Vertex AI's first token (`providers/vertex/google_io.py`). On SQLite, SQLAlchemy and
aiosqlite load after the start too (`db/schema.py` checks the schema with the standard
library's sqlite3; the job worker first polls the store FIRST_POLL_SECONDS later), so a cold
start's first answer does not wait for them (issue 16).

`import main` (what `uvicorn main:app` and Vercel do first, before the start-up above) loads
none of them either, nor SQLAlchemy (core ~0.16 s; with its asyncio extension, its ORM and the
database drivers), which PostgreSQL's migration check loads at start-up (`db/engine.py`), nor the
stores built on it (`access/persistence.py`, `jobs/runtime.py`: made on first use), in a fresh
interpreter with the default settings (issue 16: its time is a serverless cold start's), nor
uvicorn (a server other than uvicorn's, such as Vercel's, never needs it; `served_by.py`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = [p.parent for p in (ROOT / "image_gateway" / "providers").glob("*/adapter.py")]
NOT_AT_START = (
    "alembic",
    "mako",
    "pygments",
    "PIL",
    "aiohttp",
    "botocore",
    "aiobotocore",
    "httpx_sse",
    "httpx",
    "google",
    "cryptography",
    "redis",
    "rich",
    # On SQLite, the migration check needs no SQLAlchemy (`db/schema.py`), and the job worker's
    # first look at the database is FIRST_POLL_SECONDS after the start (`jobs/worker.py`).
    "sqlalchemy",
    "aiosqlite",
)
# SQLAlchemy and the database drivers load with the engine and the stores, by the start-up's
# migration check (`db/engine.py`): not on `import main`. Nor uvicorn (with click, h11 and
# httptools): `server.py`'s protocols are uvicorn's `--http`, which loads them itself; the app
# only checks it was served by them (`served_by.py`). tomllib only reads a TOML ROUTES_FILE.
NOT_ON_IMPORT = (
    *NOT_AT_START,
    "uvicorn",
    "click",
    "h11",
    "httptools",
    "image_gateway.server",
    "tomllib",
    "asyncpg",
    "image_gateway.db.tables",
    "image_gateway.db.migrate",
    "image_gateway.access.key_store",
    "image_gateway.billing.budget_store",
    "image_gateway.billing.usage_store",
    "image_gateway.jobs.store",
    # Each provider's adapter, with its catalogue and translations, and the kit's base classes:
    # made when a request first reaches that provider (`providers/adapters.py`).
    *(f"image_gateway.providers.{p.name}.adapter" for p in PROVIDERS),
    *(f"image_gateway.providers.{p.name}.models" for p in PROVIDERS),
    "image_gateway.providers.kit.sync",
    "image_gateway.providers.kit.polling",
    "image_gateway.providers.kit.tasks",
)

START = """
import asyncio, sys
from image_gateway.app import create_app

async def main():
    app = create_app()
    async with app.router.lifespan_context(app):
        return {m.split(".")[0] for m in sys.modules}

print(sorted(asyncio.run(main()) & set(sys.argv[1:])))
"""


def test_start_up_leaves_migrations_and_pillow_unloaded(tmp_path: Path) -> None:
    env = {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path}/gateway.db",
        "LOG_LEVEL": "WARNING",
    }
    for attempt in ("a new database", "one at the newest revision"):
        out = subprocess.run(
            [sys.executable, "-c", START, *NOT_AT_START],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
            env=env,
        )
        assert out.stdout.strip() == "[]", attempt


IMPORT_MAIN = """
import sys
import main
loaded = {m.split(".")[0] for m in sys.modules} | {".".join(m.split(".")[:2]) for m in sys.modules}
loaded |= set(sys.modules)
print(sorted(loaded & set(sys.argv[1:])))
"""


def test_importing_main_leaves_them_unloaded(tmp_path: Path) -> None:
    env = {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path}/gateway.db",
        "LOG_LEVEL": "WARNING",
    }
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_MAIN, *NOT_ON_IMPORT],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=env,
    )
    assert out.stdout.strip() == "[]"
