"""`GET /v1/jobs/{id}/events`: Server-Sent Events a browser can watch instead of polling —
`status` on every change, then `result` with the whole job; a client that goes away early
leaves nothing running on the server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from tests.conftest import RunningGateway
from tests.jobs.support import (
    BFL_BODY,
    FAST,
    LOCAL_BODY,
    bfl_settings,
    eventually,
    server_task_count,
    slow_bfl,
    slow_bfl_emulator,
    submit,
    wait_job,
)

__all__ = ["slow_bfl", "slow_bfl_emulator"]  # fixtures, imported for pytest


def read_events(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """(event name, decoded data) pairs from an SSE stream's lines."""
    name, data = "message", list[str]()
    for line in lines:
        if line == "":
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", list[str]()
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def test_status_changes_then_the_result(
    start_gateway: Callable[..., RunningGateway], slow_bfl: Any
) -> None:
    # A lease long enough that a loaded machine never lets it lapse: a job claimed a second time
    # shows "running" twice, which is the lease's business (test_crash_recovery), not this test's.
    gw = start_gateway(**bfl_settings(slow_bfl, job_lease_seconds=30))
    with gw.client() as http:
        job_id = submit(http, BFL_BODY)["id"]
        with http.stream("GET", f"/v1/jobs/{job_id}/events") as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            assert resp.headers["cache-control"] == "no-cache"
            events = list(read_events(resp.iter_lines()))
    names = [name for name, _ in events]
    # BFL reports progress while it draws (tests/jobs/test_job_progress.py).
    assert names[-1] == "result" and set(names[:-1]) == {"status", "progress"}
    statuses = [data["status"] for name, data in events if name == "status"]
    assert statuses[-1] == "succeeded" and "running" in statuses
    assert len(statuses) == len(set(statuses))  # one event per change, not per poll
    assert all(data["id"] == job_id for _, data in events)
    final = events[-1][1]
    assert final["status"] == "succeeded" and final["result"]["data"][0]["b64_json"]


def test_a_finished_job_streams_its_result_at_once(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gw = start_gateway(**FAST)
    with gw.client() as http:
        job_id = wait_job(http, submit(http, LOCAL_BODY)["id"])["id"]
        started = time.monotonic()
        with http.stream("GET", f"/v1/jobs/{job_id}/events") as resp:
            events = list(read_events(resp.iter_lines()))
    assert time.monotonic() - started < 2
    assert [name for name, _ in events] == ["status", "result"]
    assert events[1][1]["result"]["provider"] == "local"


def test_a_client_that_leaves_early_leaves_no_task_behind(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(bfl))
    with gw.client() as http:
        # A job that never finishes, so only the client's leaving can end its streams.
        job_id = submit(http, {**BFL_BODY, "prompt": "a fox [never-ready]"})["id"]
        wait_job(http, job_id, until=("running",))
        eventually(lambda: bfl.stats()["polls"] >= 1)
        time.sleep(0.2)
        baseline = server_task_count(gw)
        for _ in range(5):
            with httpx.Client(base_url=gw.url, headers=http.headers, timeout=5) as watcher:
                with watcher.stream("GET", f"/v1/jobs/{job_id}/events") as resp:
                    first = next(read_events(resp.iter_lines()))
                    assert first[0] == "status" and first[1]["status"] == "running"
        # Every stream's server side ends once its client is gone.
        eventually(lambda: server_task_count(gw) <= baseline, timeout=5)
        assert http.get("/healthz").status_code == 200
        assert http.post(f"/v1/jobs/{job_id}/cancel").json()["cancel_requested"] is True
        assert wait_job(http, job_id, timeout=5)["status"] == "canceled"
