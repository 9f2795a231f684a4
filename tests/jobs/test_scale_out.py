"""Scale-out on the real PostgreSQL and Redis: API-only gateways and `image-gateway worker`
processes, each its own OS process, sharing one database and one Redis queue.

- A job submitted to gateway A is run by a worker process and read from gateway C; an
  Idempotency-Key used on A is honoured on C.
- A worker killed mid-job (kill -9, or SIGTERM for a graceful stop) has its job finished by
  the other worker, which polls BFL's task instead of submitting it again.
- Without REDIS_URL, `image-gateway worker` refuses to start (no queue could reach it).
(Rate-limit counters shared through Redis: tests/test_ratelimit.py.)
"""

from __future__ import annotations

import asyncio
import io
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from emulators.bfl import BFLEmulator
from tests.conftest import BFL_TEST_KEY, GATEWAY_TEST_KEY
from tests.jobs.processes import (
    Gateway,
    Processes,
    environment,
    processes,
    slow_bfl,
    task_ids,
    wait_until,
)
from tests.services import REDIS_URL, fresh_postgres, postgres_databases, redis_prefix

# The fixtures, imported for pytest.
__all__ = ["fresh_postgres", "postgres_databases", "processes", "redis_prefix", "slow_bfl"]

ASYNC = {"Prefer": "respond-async"}
TERMINAL = ("succeeded", "failed", "canceled")


@pytest.fixture
def cluster_settings(
    tmp_path: Path, fresh_postgres: Callable[[], str], redis_prefix: str, slow_bfl: BFLEmulator
) -> dict[str, Any]:
    """What every process of the cluster shares: database, Redis, image store, providers."""
    return {
        "gateway_api_keys": GATEWAY_TEST_KEY,
        "database_url": fresh_postgres(),
        "redis_url": REDIS_URL,
        "redis_key_prefix": redis_prefix,
        "image_store_dir": tmp_path / "images",  # one host here; S3 across hosts
        "bfl_api_key": BFL_TEST_KEY,
        "bfl_base_url": slow_bfl.base_url,
        "bfl_trusted_hosts": slow_bfl.poll_base_url,
        "job_lease_seconds": 2,
        "job_sweep_seconds": 0.3,
        "bfl_poll_initial_seconds": 0.1,
        "bfl_poll_max_interval_seconds": 0.2,
        "log_level": "WARNING",
    }


def job_row(database_url: str, job_id: str) -> dict[str, Any]:
    """The job's row as PostgreSQL has it: lease owner, whether the lease is still live, and
    the journal."""
    import asyncpg

    async def read() -> dict[str, Any]:
        conn = await asyncpg.connect(database_url, timeout=5)
        try:
            row = await conn.fetchrow(
                "SELECT status, lease_owner, journal, "
                "lease_expires_at > (now() AT TIME ZONE 'UTC') AS leased "
                "FROM jobs WHERE id = $1",
                job_id,
            )
        finally:
            await conn.close()
        assert row is not None
        journal = row["journal"]
        return {**row, "journal": json.loads(journal) if journal else {}}

    return asyncio.run(read())


def finished(gateway: Gateway, job_id: str, logs: Callable[[], str]) -> dict[str, Any]:
    with gateway.client() as http:

        def done() -> dict[str, Any] | None:
            job: dict[str, Any] = http.get(f"/v1/jobs/{job_id}").json()
            return job if job["status"] in TERMINAL else None

        found: dict[str, Any] = wait_until(done, f"job {job_id} to finish", 60, logs)
        return found


def test_job_submitted_to_one_gateway_runs_on_a_worker_and_reads_on_another(
    processes: Processes, cluster_settings: dict[str, Any], slow_bfl: BFLEmulator
) -> None:
    api = {**cluster_settings, "run_workers": False}
    a, c = processes.gateway("api-a", api), processes.gateway("api-c", api)
    processes.ready()
    body = {"model": "flux-dev", "prompt": "scale-out: a harbour", "response_format": "url"}
    with a.client() as http:
        resp = http.post("/v1/images/generations", json=body, headers=ASYNC)
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["id"]

    # No process runs workers yet: the job waits in the Redis queue.
    time.sleep(1.0)
    with c.client() as http:
        assert http.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"
    assert slow_bfl.stats()["submits"] == 0

    processes.worker("worker-b", {**cluster_settings, "worker_concurrency": 2}).ready()
    # Idempotency records are shared: the same key on C answers with A's job.
    again = {**body, "prompt": "scale-out: idempotent"}
    with a.client() as http:
        first = http.post(
            "/v1/images/generations", json=again, headers={**ASYNC, "Idempotency-Key": "k-1"}
        )
    with c.client() as http:
        second = http.post(
            "/v1/images/generations", json=again, headers={**ASYNC, "Idempotency-Key": "k-1"}
        )
        clash = http.post(
            "/v1/images/generations", json=body, headers={**ASYNC, "Idempotency-Key": "k-1"}
        )
        listed = {job["id"] for job in http.get("/v1/jobs").json()["data"]}
    assert first.status_code == 202 and second.status_code == 202, (first.text, second.text)
    assert second.json()["id"] == first.json()["id"]
    assert clash.status_code == 409
    assert listed == {job_id, first.json()["id"]}

    on_c = finished(c, job_id, processes.logs)
    assert on_c["status"] == "succeeded", on_c
    with a.client() as http:
        on_a = http.get(f"/v1/jobs/{job_id}").json()
    assert on_a["status"] == "succeeded" and on_a["result"]["data"] == on_c["result"]["data"]
    # The image is in the shared store: C serves it too.
    path = "/" + on_c["result"]["data"][0]["url"].split("/", 3)[3]
    with c.client() as http:
        image = http.get(path)
    assert image.status_code == 200
    Image.open(io.BytesIO(image.content)).verify()
    assert finished(a, first.json()["id"], processes.logs)["status"] == "succeeded"
    assert slow_bfl.stats()["submits_by_prompt"] == {body["prompt"]: 1, again["prompt"]: 1}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_worker_stopped_mid_job_has_its_job_finished_by_another(
    processes: Processes,
    cluster_settings: dict[str, Any],
    slow_bfl: BFLEmulator,
    sig: signal.Signals,
) -> None:
    a = processes.gateway("api-a", {**cluster_settings, "run_workers": False})
    one = {**cluster_settings, "worker_concurrency": 1}
    workers = [processes.worker("worker-1", one), processes.worker("worker-2", one)]
    processes.ready()
    prompt = f"scale-out: a lighthouse ({sig.name})"
    with a.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"model": "flux-dev", "prompt": prompt}, headers=ASYNC
        )
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["id"]
    database_url = cluster_settings["database_url"]

    # Stop the worker that holds the lease once BFL has accepted the task (it is polling).
    def submitted() -> dict[str, Any] | None:
        row = job_row(database_url, job_id)
        return row if task_ids(row["journal"]) else None

    row = wait_until(submitted, "BFL's task id in the journal", 30, processes.logs)
    [owner] = [w for w in workers if w.worker_name == row["lease_owner"]]
    [survivor] = [w for w in workers if w is not owner]
    code = owner.kill(sig)
    assert code == (0 if sig == signal.SIGTERM else -signal.SIGKILL), owner.logs()
    if sig == signal.SIGTERM:  # a graceful stop gives the lease back at once
        after = job_row(database_url, job_id)
        assert after["lease_owner"] != owner.worker_name or not after["leased"], after
        assert "stopping" in owner.out.read_text()

    job = finished(a, job_id, processes.logs)
    assert job["status"] == "succeeded", job
    assert job["attempts"] >= 2  # claimed again after the stop
    assert survivor.popen.poll() is None
    stats = slow_bfl.stats()
    assert stats["submits"] == 1 and stats["submits_by_prompt"] == {prompt: 1}
    [task] = task_ids(row["journal"])
    assert stats["polls_by_task"][task] >= 1  # the task the journal named was polled


def test_worker_command_needs_redis(tmp_path: Path) -> None:
    """Without REDIS_URL nothing could hand jobs to a separate worker: it refuses to start."""
    settings = {"database_url": f"sqlite+aiosqlite:///{tmp_path}/gateway.db"}
    done = subprocess.run(
        [sys.executable, "-m", "image_gateway", "worker"],
        cwd=tmp_path,
        env=environment(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "needs REDIS_URL" in done.stderr and "RUN_WORKERS=true" in done.stderr
    assert not (tmp_path / "gateway.db").exists()  # refused before touching anything
