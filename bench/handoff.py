"""How a job's partial image reaches a gateway process that serves the job's events, measured:
`python -m bench.handoff` (PostgreSQL and Redis on loopback when they run there).

- store + row: the worker puts the ~1 MB image in the image store (a local folder) and writes
  its reference on the job's row (SQLite, PostgreSQL); the serving process reads the row, then
  the image, and base64-encodes it (what `/v1/jobs/{id}/events` does for each partial);
- Redis pub/sub: the worker publishes the base64 to a channel the serving process listens on.

Figures only: the choice and why are in image_gateway/jobs/activity.py, the measured values in
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import update

from image_gateway.blobs.local import LocalImageStore
from image_gateway.db.engine import Database
from image_gateway.db.migrate import upgrade
from image_gateway.db.tables import jobs
from image_gateway.db.values import utcnow

from .upstream import STREAM_SIDE, large_image

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
REDIS = "redis://127.0.0.1:6379/0"


def summary(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


async def store_and_row(url: str, image: bytes, count: int) -> tuple[list[float], list[float]]:
    store = LocalImageStore(Path(tempfile.mkdtemp()) / "images")
    db = Database(url)
    await upgrade(db)
    now = utcnow()
    row: dict[str, Any] = {"owner": "o", "status": "running", "kind": "generate", "request": {}}
    row |= {"public_base_url": "x", "cancel_requested": 0, "attempts": 1}
    async with db.write() as conn:
        await conn.execute(jobs.insert().values(id="j", created_at=now, updated_at=now, **row))
    writes, reads = [], []
    try:
        for index in range(count):
            started = time.perf_counter()
            image_id = await store.put(image, "image/png")
            refs = [{"image_id": image_id, "image_index": 0, "partial_image_index": index % 3}]
            async with db.write() as conn:
                await conn.execute(
                    update(jobs).where(jobs.c.id == "j").values(activity={"partials": refs})
                )
            writes.append(time.perf_counter() - started)
            started = time.perf_counter()
            async with db.read() as conn:
                found = (await conn.execute(jobs.select().where(jobs.c.id == "j"))).first()
            assert found is not None
            stored = await store.get(found._mapping["activity"]["partials"][0]["image_id"])
            assert stored is not None
            base64.b64encode(stored.data)
            reads.append(time.perf_counter() - started)
    finally:
        await db.close()
    return writes, reads


async def redis_pubsub(image: bytes, count: int) -> list[float]:
    from redis.asyncio import Redis

    sender, listener = Redis.from_url(REDIS), Redis.from_url(REDIS)
    channel = f"igw-handoff-{secrets.token_hex(4)}"
    pubsub = listener.pubsub()
    await pubsub.subscribe(channel)
    encoded = base64.b64encode(image)
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            await sender.publish(channel, encoded)
            while not await pubsub.get_message(timeout=5, ignore_subscribe_messages=True):
                pass
            times.append(time.perf_counter() - started)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await sender.aclose()
        await listener.aclose()
    return times


async def with_postgres(run: Callable[[str], Awaitable[Any]]) -> Any:
    import asyncpg

    name = f"igw_handoff_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(user="postgres", host="127.0.0.1", database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        return await run(PG + name)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def main(count: int) -> None:
    image = large_image(STREAM_SIDE).data
    print(f"one partial image: {len(image):,} bytes, {count} hand-offs each")
    sqlite = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/handoff.db"
    writes, reads = await store_and_row(sqlite, image, count)
    print(f"store + SQLite row: write {summary(writes)}; read + base64 {summary(reads)}")
    try:
        writes, reads = await with_postgres(lambda url: store_and_row(url, image, count))
        print(f"store + PostgreSQL row: write {summary(writes)}; read + base64 {summary(reads)}")
    except OSError as exc:
        print(f"PostgreSQL: not measured ({exc})")
    try:
        print(f"Redis PUBLISH -> subscriber: {summary(await redis_pubsub(image, count))}")
    except OSError as exc:
        print(f"Redis: not measured ({exc})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.handoff", description=__doc__)
    parser.add_argument("--count", type=int, default=50)
    asyncio.run(main(parser.parse_args().count))
