"""A busy database (another writer holds SQLite's write lock past DATABASE_TIMEOUT_SECONDS)
is a 503 `store_busy` with Retry-After for the request that met it, never a 500, and never a
job's failure: a worker whose write of a provider's handle met it writes it again once the
store is free, so the job polls the task it submitted and succeeds, paid once."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import RunningGateway
from tests.jobs.support import (
    ASYNC,
    BFL_BODY,
    FAST,
    LOCAL_BODY,
    bfl_settings,
    eventually,
    job_row,
    slow_bfl,
    slow_bfl_emulator,
    submit,
    wait_job,
)

__all__ = ["slow_bfl", "slow_bfl_emulator"]  # fixtures, imported for pytest

BUSY_AFTER = 0.3  # DATABASE_TIMEOUT_SECONDS of these gateways


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Another process's write transaction on the gateway's file, held while inside."""
    conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_a_submission_meeting_a_busy_store_is_a_503_with_retry_after(
    start_gateway: Callable[..., RunningGateway], tmp_path: Path
) -> None:
    path = tmp_path / "gateway.db"
    gw = start_gateway(
        **FAST, database_url=f"sqlite+aiosqlite:///{path}", database_timeout_seconds=BUSY_AFTER
    )
    with gw.client() as http:
        with write_lock(path):
            resp = http.post("/v1/images/generations", json=LOCAL_BODY, headers=ASYNC)
        assert resp.status_code == 503, resp.text
        assert resp.headers["retry-after"] == "1"
        assert resp.headers["x-should-retry"] == "true"
        error = resp.json()["error"]
        assert error["code"] == "store_busy" and "busy" in error["message"]
        # Free again: the same request is accepted and runs.
        job = submit(http, LOCAL_BODY)
        assert wait_job(http, job["id"])["status"] == "succeeded"


def test_a_job_whose_handle_meets_a_busy_store_is_not_failed_nor_paid_twice(
    start_gateway: Callable[..., RunningGateway], slow_bfl: Any, tmp_path: Path
) -> None:
    path = tmp_path / "gateway.db"
    # BFL answers the submission after 1 s: the store is locked from before that answer until
    # after it, so the write of the task's handle meets the lock (and waits it out).
    slow_bfl.add_faults([{"match": "submit", "delay": 1.0, "times": 1}])
    gw = start_gateway(
        **bfl_settings(
            slow_bfl,
            database_url=f"sqlite+aiosqlite:///{path}",
            database_timeout_seconds=BUSY_AFTER,
            job_lease_seconds=4,  # outlasts the lock: the run keeps its lease
        )
    )
    with gw.client() as http:
        job_id = submit(http, BFL_BODY)["id"]

        def submitting() -> bool:
            calls = (job_row(path, job_id)["journal"] or {}).get("calls") or {}
            return any(c.get("phase") == "submitting" for c in calls.values())

        eventually(submitting)
        held = threading.Event()

        def hold() -> None:
            with write_lock(path):
                held.set()
                time.sleep(1.5)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(5)
        holder.join()
        done = wait_job(http, job_id, timeout=20)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 1 and done["result"]["data"][0]["b64_json"]
    stats = slow_bfl.stats()
    assert stats["submits"] == 1 and stats["samples"] == 1
