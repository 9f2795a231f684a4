"""Resuming jobs after a restart without paying twice, counted on the BFL emulator's paid
submissions: a task the provider accepted is polled by the next gateway on the same database,
never submitted again; a submission whose outcome is unknown fails as `interrupted`; a job that
never reached the provider is submitted once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from image_gateway.errors import UNKNOWN_OUTCOME
from tests.conftest import RunningGateway
from tests.jobs.support import (
    BFL_BODY,
    bfl_settings,
    db_path,
    eventually,
    job_row,
    slow_bfl,
    slow_bfl_emulator,
    submit,
    wait_job,
    write_row,
)

__all__ = ["slow_bfl", "slow_bfl_emulator"]  # fixtures, imported for pytest


def on_file(path: Path, emulator: Any, **overrides: Any) -> dict[str, Any]:
    return bfl_settings(emulator, database_url=f"sqlite+aiosqlite:///{path}", **overrides)


def task_of(row: dict[str, Any]) -> dict[str, Any] | None:
    """The provider handle the job's journal holds for its first call, if any."""
    journal = row["journal"] or {}
    call: dict[str, Any] | None = journal.get("calls", {}).get("0")
    return call


def after_dead_worker(
    start_gateway: Callable[..., RunningGateway], bfl: Any, **row: Any
) -> tuple[dict[str, Any], RunningGateway]:
    """Submit a job, leave it as a worker that died while running it would (lease expired,
    plus `row`), start a worker on the same database, and return the job once finished (and
    the gateway it was submitted to)."""
    api_only = start_gateway(**bfl_settings(bfl), run_workers=False)
    with api_only.client() as http:
        job_id = submit(http, BFL_BODY)["id"]
    write_row(
        db_path(api_only),
        job_id,
        status="running",
        lease_owner="worker-dead",
        lease_expires_at="2020-01-01 00:00:00.000000",
        **row,
    )
    start_gateway(**bfl_settings(bfl))  # a worker on the same database
    with api_only.client() as http:
        return wait_job(http, job_id), api_only


def usage_of(gw: RunningGateway) -> dict[str, Any]:
    """The ledger's totals for the gateway's client key, over HTTP."""
    with gw.client() as http:
        totals: dict[str, Any] = http.get("/v1/usage").json()["totals"]
    return totals


def test_a_restarted_gateway_polls_the_task_it_had_submitted(
    start_gateway: Callable[..., RunningGateway], slow_bfl: Any, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.db"
    first = start_gateway(**on_file(path, slow_bfl))
    with first.client() as http:
        job_id = submit(http, BFL_BODY)["id"]
    eventually(lambda: slow_bfl.stats()["submits"] == 1)
    # The handle is journaled as soon as BFL answers the submission, before any poll.
    handle = eventually(lambda: (task_of(job_row(path, job_id)) or {}).get("task_id"))
    first.server.stop()  # a graceful stop gives the lease back

    row = job_row(path, job_id)
    assert row["status"] == "running" and row["result"] is None
    call = task_of(row)
    assert call is not None and call["phase"] == "submitted" and call["polling_url"]

    second = start_gateway(**on_file(path, slow_bfl))
    with second.client() as http:
        done = wait_job(http, job_id, timeout=15)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2 and done["result"]["data"][0]["b64_json"]
    assert task_of(job_row(path, job_id))["task_id"] == handle  # type: ignore[index]
    stats = slow_bfl.stats()
    assert stats["submits"] == 1 and stats["samples"] == 1


def test_a_job_left_submitting_fails_as_interrupted_and_is_never_resubmitted(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    # What a crash between "about to POST" and BFL's answer leaves behind.
    job, gw = after_dead_worker(
        start_gateway,
        bfl,
        attempts=1,
        journal={"candidate": 0, "calls": {"0": {"phase": "submitting"}}},
    )
    assert job["status"] == "failed"
    error = job["error"]["error"]
    assert error["code"] == "interrupted" and error["provider"] == "bfl-flux"
    assert "not sent again" in error["message"] and UNKNOWN_OUTCOME in error["message"]
    assert "before this job was resumed" in error["message"]  # the state a dead worker left
    assert bfl.stats()["submits"] == 0
    # The submission BFL may have accepted (and charged) stays in the ledger, as an estimate.
    totals = eventually(lambda: usage_of(gw)["outcome_unknown"] and usage_of(gw))
    assert (totals["requests"], totals["failed"]) == (1, 0)
    assert totals["outcome_unknown_cost_usd"] == totals["cost_usd"] == 0.04  # FLUX1.1 [pro]


def test_a_job_that_never_reached_the_provider_is_submitted_once(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    api_only = start_gateway(**bfl_settings(bfl), run_workers=False)
    with api_only.client() as http:
        job_id = submit(http, BFL_BODY)["id"]
    api_only.server.stop()
    assert job_row(db_path(api_only), job_id)["journal"] is None
    worker = start_gateway(**bfl_settings(bfl))  # wakes queued jobs whose wake-up was lost
    with worker.client() as http:
        assert wait_job(http, job_id)["status"] == "succeeded"
    assert bfl.stats()["submits"] == 1


def test_a_submission_cut_off_after_acceptance_is_not_sent_again(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    # BFL creates (and charges) the task, then the connection drops before its answer.
    bfl.add_faults([{"match": "submit", "accept_then_reset": True}])
    gw = start_gateway(**bfl_settings(bfl), retry_max_attempts=3, retry_base_seconds=0.01)
    with gw.client() as http:
        job = wait_job(http, submit(http, BFL_BODY)["id"])
    assert job["status"] == "failed"
    assert job["error"]["error"]["provider"] == "bfl-flux"
    assert task_of(job_row(db_path(gw), job["id"])) == {"phase": "submitting"}
    assert bfl.stats()["submits"] == 1


def test_failing_polls_after_acceptance_are_reconciled_by_polling(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    bfl.add_faults(
        [
            {"match": "poll", "status": 503, "times": 2},
            {"match": "poll", "reset": True, "times": 2},
        ]
    )
    gw = start_gateway(**bfl_settings(bfl), retry_max_attempts=3)
    with gw.client() as http:
        job = wait_job(http, submit(http, BFL_BODY)["id"])
    assert job["status"] == "succeeded", job
    stats = bfl.stats()
    assert stats["submits"] == 1 and stats["faults_triggered"] == 4 and stats["polls"] >= 1


def test_a_job_canceled_while_its_worker_was_gone_is_not_resumed(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    api_only = start_gateway(**bfl_settings(bfl), run_workers=False)
    path = db_path(api_only)
    with api_only.client() as http:
        job_id = submit(http, BFL_BODY)["id"]
        # Running on a worker that has just died (its lease has not expired yet)...
        write_row(
            path,
            job_id,
            status="running",
            attempts=1,
            lease_owner="worker-dead",
            lease_expires_at="2999-01-01 00:00:00.000000",
        )
        # ...when the client cancels it: only a request, since a worker seems to run it.
        assert http.post(f"/v1/jobs/{job_id}/cancel").json()["cancel_requested"] is True
        write_row(path, job_id, lease_expires_at="2020-01-01 00:00:00.000000")
        start_gateway(**bfl_settings(bfl))  # a worker on the same database takes it over
        job = wait_job(http, job_id)
    assert job["status"] == "canceled"
    assert bfl.stats()["submits"] == 0


def test_a_submission_that_timed_out_after_acceptance_is_not_sent_again(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    # BFL answers the submission after the job's deadline: whether it took (and charged) the
    # task is unknown to the gateway. (A submission outlives the short read timeout.)
    bfl.add_faults([{"match": "submit", "delay": 0.8}])
    gw = start_gateway(
        **bfl_settings(bfl),
        upstream_read_timeout_seconds=0.1,
        request_deadline_seconds=0.4,
        retry_max_attempts=3,
        retry_base_seconds=0.01,
    )
    with gw.client() as http:
        job = wait_job(http, submit(http, BFL_BODY)["id"])
    assert job["status"] == "failed"
    assert job["error"]["error"]["code"] == "deadline_exceeded", job["error"]
    assert UNKNOWN_OUTCOME in job["error"]["error"]["message"]
    assert task_of(job_row(db_path(gw), job["id"])) == {"phase": "submitting"}
    # One POST reached BFL (the delayed one); a second would have been counted as a submit.
    stats = bfl.stats()
    assert stats["faults_triggered"] == 1 and stats["submits"] == 0


def test_a_job_that_keeps_crashing_its_workers_is_given_up(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    # Ten workers already claimed it and died (their leases expired).
    job, _ = after_dead_worker(start_gateway, bfl, attempts=10)
    assert job["status"] == "failed"
    assert job["error"]["error"]["code"] == "job_attempts_exhausted"
    assert bfl.stats()["submits"] == 0


def test_a_job_put_back_for_a_rate_limit_runs_when_due(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(bfl, job_requeue_after_seconds=60))
    with gw.client() as http:
        job_id = submit(http, BFL_BODY)["id"]
        wait_job(http, job_id)
    # As the worker leaves a job its key's rate limit refused: queued, due in a moment.
    write_row(
        db_path(gw),
        job_id,
        status="queued",
        result=None,
        finished_at=None,
        not_before="2020-01-01 00:00:00.000000",
    )
    with gw.client() as http:
        job = wait_job(http, job_id, timeout=5)  # long before JOB_REQUEUE_AFTER_SECONDS
    assert job["status"] == "succeeded"
