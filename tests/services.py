"""Fixtures for the real PostgreSQL and Redis servers (skipped locally when absent, failing on
CI). Import the fixtures a test module needs: `from tests.services import fresh_postgres`.

PostgreSQL: every test gets its own freshly created database (user postgres, trust auth),
dropped at the end of the session. Redis: every test gets its own key prefix, deleted after.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import require_service

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        user="postgres", host=PG_HOST, port=PG_PORT, database="postgres", timeout=5
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[list[str]]:
    created: list[str] = []
    yield created
    for name in created:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_postgres(postgres_databases: list[str]) -> Callable[[], str]:
    """Makes a new, empty database and returns its URL (postgres:// as users write it)."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)

    def make() -> str:
        name = f"igw_test_{secrets.token_hex(6)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        postgres_databases.append(name)
        return f"postgres://postgres@{PG_HOST}:{PG_PORT}/{name}"

    return make


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the real Redis; its keys are deleted afterwards."""
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    prefix = f"igw-test:{secrets.token_hex(6)}:"
    yield prefix

    async def cleanup() -> None:
        from redis.asyncio import Redis

        client = Redis.from_url(REDIS_URL, socket_timeout=5)
        try:
            keys = [key async for key in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    asyncio.run(cleanup())
