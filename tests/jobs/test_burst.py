"""A burst of asynchronous requests on the default SQLite store (issue 16): hundreds of jobs
submitted at once over real sockets are all accepted (202, never a 500 from a starved
connection pool or "database is locked", with a 1 s DATABASE_TIMEOUT_SECONDS; main answered 500s)
and all succeed; the client then polls them as a
client would, a few at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from tests.conftest import GATEWAY_TEST_KEY, RunningGateway
from tests.jobs.support import ASYNC, FAST, LOCAL_BODY, TERMINAL

BURST = 300
POLLS = 16  # polls in flight at once


async def _bounded(*calls: Any) -> list[Any]:
    gate = asyncio.Semaphore(POLLS)

    async def one(call: Any) -> Any:
        async with gate:
            return await call

    return await asyncio.gather(*(one(c) for c in calls))


async def _burst(url: str, count: int) -> tuple[list[int], dict[str, Any]]:
    """Submit `count` jobs at once, then poll each until it ended: the submit statuses and
    the jobs by id as last seen."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    headers = {"X-API-Key": GATEWAY_TEST_KEY, **ASYNC}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
        answers = await asyncio.gather(
            *(
                http.post("/v1/images/generations", json=LOCAL_BODY, headers=headers)
                for _ in range(count)
            )
        )
    ids = [a.json()["id"] for a in answers if a.status_code == 202]
    jobs: dict[str, Any] = {}
    # A client of its own: the burst's idle connections are closed by the server meanwhile.
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for _ in range(200):
            pending = [i for i in ids if jobs.get(i, {}).get("status") not in TERMINAL]
            if not pending:
                break
            polled = await _bounded(*(http.get(f"/v1/jobs/{i}", headers=headers) for i in pending))
            jobs |= {
                i: r.json() for i, r in zip(pending, polled, strict=True) if r.status_code == 200
            }
            await asyncio.sleep(0.1)
    return [a.status_code for a in answers], jobs


def test_a_burst_of_jobs_is_all_accepted_and_all_succeed(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gw = start_gateway(**FAST, database_timeout_seconds=1.0, worker_concurrency=BURST)
    statuses, jobs = asyncio.run(_burst(gw.url, BURST))
    assert statuses == [202] * BURST
    assert len(jobs) == BURST
    assert {j["status"] for j in jobs.values()} == {"succeeded"}
    assert all(j["result"]["data"][0]["b64_json"] for j in jobs.values())
