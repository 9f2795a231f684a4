"""A gateway killed with `kill -9` while jobs are in flight: after a restart on the same
SQLite file every job completes, and the (slow) BFL emulator saw each one submitted once —
the jobs that had reached BFL are polled from their journals, the queued ones run."""

from __future__ import annotations

import base64
import io
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from emulators.bfl import BFLEmulator
from tests.conftest import BFL_TEST_KEY, GATEWAY_TEST_KEY
from tests.jobs.processes import Processes, processes, slow_bfl, task_ids, wait_until

__all__ = ["processes", "slow_bfl"]  # the fixtures, imported for pytest

JOBS = 5
ASYNC = {"Prefer": "respond-async"}


def journals(db: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each job's status and journal, read straight from the gateway's SQLite file."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT id, status, journal FROM jobs").fetchall()
    finally:
        conn.close()
    return {row[0]: (row[1], json.loads(row[2]) if row[2] else {}) for row in rows}


def image_bytes(http: httpx.Client, item: dict[str, Any]) -> bytes:
    if "b64_json" in item:
        return base64.b64decode(item["b64_json"])
    resp = http.get(item["url"])
    assert resp.status_code == 200, resp.text
    return resp.content


def test_jobs_survive_kill_9_and_are_submitted_once(
    tmp_path: Path, processes: Processes, slow_bfl: BFLEmulator
) -> None:
    db = tmp_path / "gateway.db"
    settings: dict[str, Any] = {
        "gateway_api_keys": GATEWAY_TEST_KEY,
        "database_url": f"sqlite+aiosqlite:///{db}",
        "image_store_dir": tmp_path / "images",
        "bfl_api_key": BFL_TEST_KEY,
        "bfl_base_url": slow_bfl.base_url,
        "bfl_trusted_hosts": slow_bfl.poll_base_url,
        "job_lease_seconds": 2,
        "job_sweep_seconds": 0.3,
        "worker_concurrency": 2,  # so three jobs are still queued (never sent) at the kill
        "bfl_poll_initial_seconds": 0.1,
        "bfl_poll_max_interval_seconds": 0.2,
        "log_level": "WARNING",
    }
    first = processes.gateway("gateway-1", settings)
    first.ready()
    prompts = [f"a lighthouse, crash test {i}" for i in range(JOBS)]
    with first.client() as http:
        submitted = []
        for i, prompt in enumerate(prompts):
            body = {"model": "flux-dev", "prompt": prompt}
            body["response_format"] = "url" if i % 2 else "b64_json"
            resp = http.post("/v1/images/generations", json=body, headers=ASYNC)
            assert resp.status_code == 202, resp.text
            submitted.append(resp.json()["id"])

    # Kill once both running jobs have BFL's task id in their journals.
    def two_handles() -> bool:
        return sum(bool(task_ids(j)) for _, j in journals(db).values()) == 2

    wait_until(two_handles, "two BFL task ids in the journals", 30, processes.logs)
    assert first.kill(signal.SIGKILL) == -signal.SIGKILL
    at_kill = journals(db)
    assert sorted(status for status, _ in at_kill.values()) == ["queued"] * 3 + ["running"] * 2
    in_flight = {job for job, (status, _) in at_kill.items() if status == "running"}
    assert slow_bfl.stats()["submits"] == 2

    # The same database and port (the jobs' URLs name it); more loops, so all run at once.
    second = processes.gateway(
        "gateway-2", {**settings, "worker_concurrency": 8}, port=first.port
    ).ready()
    with second.client() as http:

        def all_finished() -> list[dict[str, Any]] | None:
            jobs = [http.get(f"/v1/jobs/{job_id}").json() for job_id in submitted]
            done = all(job["status"] in ("succeeded", "failed", "canceled") for job in jobs)
            return jobs if done else None

        jobs = wait_until(all_finished, "every job to finish", 60, processes.logs)
        assert [job["status"] for job in jobs] == ["succeeded"] * JOBS, jobs
        for job, prompt in zip(jobs, prompts, strict=True):
            # The two that were running at the kill were claimed again (and only polled).
            assert job["attempts"] >= (2 if job["id"] in in_flight else 1)
            [item] = job["result"]["data"]
            Image.open(io.BytesIO(image_bytes(http, item))).verify()
            assert job["result"]["model"] == "flux-dev", prompt

    stats = slow_bfl.stats()
    assert stats["submits"] == JOBS
    assert stats["submits_by_prompt"] == {prompt: 1 for prompt in prompts}
    # The resumed jobs polled the tasks their journals named.
    for job_id in in_flight:
        [task] = task_ids(at_kill[job_id][1])
        assert stats["polls_by_task"][task] >= 1
