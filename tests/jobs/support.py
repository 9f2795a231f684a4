"""Shared helpers for the end-to-end job tests: fast job settings, submit/wait helpers, a slow
BFL emulator (jobs that stay queued or running long enough to act on) and direct reads of the
job table (a test looks at the journal, which the API never shows)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.conftest import BFL_TEST_KEY, RunningGateway

T = TypeVar("T")

ASYNC = {"Prefer": "respond-async"}
TERMINAL = ("succeeded", "failed", "canceled")
# Small intervals so leases, sweeps and SSE polls happen within a test's second or two.
FAST: dict[str, Any] = {
    "job_sweep_seconds": 0.2,
    "job_lease_seconds": 2,
    "job_requeue_after_seconds": 0.5,
    "sse_poll_seconds": 0.05,
}
LOCAL_BODY: dict[str, Any] = {"prompt": "a lighthouse", "size": "64x64", "seed": 7}
BFL_BODY: dict[str, Any] = {"provider": "bfl-flux", "prompt": "a fox", "size": "512x512"}


def bfl_settings(emulator: Any, **overrides: Any) -> dict[str, Any]:
    return {
        **FAST,
        "bfl_api_key": BFL_TEST_KEY,
        "bfl_base_url": emulator.base_url,
        "bfl_trusted_hosts": emulator.poll_base_url,
        **overrides,
    }


def submit(
    http: httpx.Client,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    path: str = "/v1/images/generations",
) -> dict[str, Any]:
    """An asynchronous request that must be accepted: the job JSON of the 202."""
    resp = http.post(path, json=body, headers={**ASYNC, **(headers or {})})
    assert resp.status_code == 202, resp.text
    job: dict[str, Any] = resp.json()
    assert resp.headers["location"] == f"/v1/jobs/{job['id']}"
    return job


def eventually(probe: Callable[[], T | None], timeout: float = 10.0, every: float = 0.05) -> T:
    """The first truthy value `probe()` returns, polling until `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {value!r})")
        time.sleep(every)


def wait_job(
    http: httpx.Client, job_id: str, until: tuple[str, ...] = TERMINAL, timeout: float = 10.0
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        resp = http.get(f"/v1/jobs/{job_id}")
        assert resp.status_code == 200, resp.text
        job: dict[str, Any] = resp.json()
        return job if job["status"] in until else None

    return eventually(probe, timeout)


def db_path(gw: RunningGateway) -> Path:
    return Path(gw.settings.database_url.get_secret_value().split(":///", 1)[1])


def job_row(path: Path, job_id: str) -> dict[str, Any]:
    """The job's row as stored (JSON columns decoded)."""
    with sqlite3.connect(path, timeout=5) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    assert row is not None, job_id
    values = dict(row)
    for name in ("journal", "result", "error", "webhook", "request"):
        if isinstance(values[name], str):
            values[name] = json.loads(values[name])
    return values


def write_row(path: Path, job_id: str, **values: Any) -> None:
    """Change a job behind the gateway's back (a crash's leftovers, an old idempotency key)."""
    encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
    assignments = ", ".join(f"{name} = ?" for name in encoded)
    with sqlite3.connect(path, timeout=5) as conn:
        conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*encoded.values(), job_id))


def server_task_count(gw: RunningGateway) -> int:
    """How many asyncio tasks the gateway's event loop has right now (it runs in a thread)."""
    app: Any = gw.server.server.config.app
    loop = app.state.jobs.worker._tasks[0].get_loop()

    async def count() -> int:
        return len(asyncio.all_tasks())

    return asyncio.run_coroutine_threadsafe(count(), loop).result(5)


@pytest.fixture(scope="module")
def slow_bfl_emulator() -> Iterator[Any]:
    """A BFL emulator whose tasks take 2 s: long enough to cancel, restart or queue behind."""
    from emulators.bfl import BFLEmulator

    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=2.0) as emulator:
        yield emulator


@pytest.fixture
def slow_bfl(slow_bfl_emulator: Any) -> Any:
    slow_bfl_emulator.reset()
    return slow_bfl_emulator
