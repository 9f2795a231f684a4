"""A job is admitted when it is submitted and keeps that admission until it ends: its budget
reservation and concurrency slot are held while it waits, used (not taken again) when it runs,
charged once, given back when it ends without calling a provider (canceled while queued, its key
revoked), renewed when the worker starts it; a replay of an accepted request is never refused.
Over real sockets, an API-only gateway and a worker gateway on one database, the BFL emulator."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from tests.admin_helpers import ADMIN_TEST_KEY, create_key, revoke_key
from tests.conftest import RunningGateway
from tests.jobs.support import (
    ASYNC,
    bfl_settings,
    db_path,
    eventually,
    slow_bfl,
    slow_bfl_emulator,
    submit,
    wait_job,
)

__all__ = ["slow_bfl", "slow_bfl_emulator"]  # fixtures, imported for pytest

GENERATE = "/v1/images/generations"
FLUX_PRO = {"prompt": "a fox", "model": "flux-pro-1.1", "size": "512x512"}  # $0.04 (4 credits)


def _gateways(
    start_gateway: Callable[..., RunningGateway], emulator: Any
) -> tuple[RunningGateway, Callable[[], RunningGateway]]:
    """An API-only gateway (its jobs stay queued), and a way to start a worker beside it."""
    settings = {**bfl_settings(emulator), "admin_api_key": ADMIN_TEST_KEY}
    api = start_gateway(**settings, run_workers=False)
    return api, lambda: start_gateway(**settings)


def _spent(gw: RunningGateway, key_id: str) -> float | None:
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        value: float | None = admin.get(f"/v1/admin/keys/{key_id}").json()["month_spend_usd"]
    return value


def _reservations(gw: RunningGateway) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_path(gw), timeout=5) as conn:
        return conn.execute("SELECT key_id, amount_micros FROM budget_reservations").fetchall()


def _ledger(gw: RunningGateway, key: str) -> dict[str, Any]:
    with gw.client(key=key) as http:
        totals: dict[str, Any] = http.get("/v1/usage").json()["totals"]
    return totals


def test_queued_jobs_hold_their_budget_and_are_charged_once(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    api, worker = _gateways(start_gateway, bfl)
    created = create_key(api, monthly_budget_usd=0.08)
    with api.client(key=created["key"]) as http:
        first = submit(http, FLUX_PRO)["id"]
        second = submit(http, {**FLUX_PRO, "seed": 2})["id"]
        assert [amount for _, amount in _reservations(api)] == [40_000, 40_000]
        # The two queued jobs hold the whole budget: a third request is refused at once,
        # synchronous or not.
        assert http.post(GENERATE, json=FLUX_PRO).status_code == 402
        assert http.post(GENERATE, json=FLUX_PRO, headers=ASYNC).status_code == 402
        assert len(http.get("/v1/jobs").json()["data"]) == 2
        worker()
        # Admitted once: running them reserves nothing more (or the second would not fit).
        assert wait_job(http, first)["status"] == "succeeded"
        assert wait_job(http, second)["status"] == "succeeded"
        assert http.post(GENERATE, json=FLUX_PRO).status_code == 402
    assert bfl.stats()["submits"] == 2
    assert _spent(api, created["id"]) == pytest.approx(0.08)
    assert _reservations(api) == []
    totals = _ledger(api, created["key"])
    assert (totals["requests"], totals["failed"]) == (2, 0)
    assert totals["cost_usd"] == pytest.approx(0.08)


def test_canceling_a_queued_job_gives_back_its_slot_and_reservation(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    api, _worker = _gateways(start_gateway, bfl)
    created = create_key(api, monthly_budget_usd=0.04, max_concurrent=1)
    with api.client(key=created["key"]) as http:
        job = submit(http, FLUX_PRO)["id"]
        held = http.post(GENERATE, json=FLUX_PRO)
        assert held.status_code == 429 and held.json()["error"]["code"] == (
            "concurrency_limit_exceeded"
        )
        for _ in range(2):  # canceling again gives back nothing more
            assert http.post(f"/v1/jobs/{job}/cancel").json()["status"] == "canceled"
        assert _reservations(api) == []
        assert http.post(GENERATE, json=FLUX_PRO).status_code == 200  # slot and budget are back
        assert http.post(GENERATE, json=FLUX_PRO).status_code == 402  # one request's worth
    assert bfl.stats()["submits"] == 1
    assert _spent(api, created["id"]) == pytest.approx(0.04)
    assert _ledger(api, created["key"])["requests"] == 1  # the canceled job cost nothing


def test_a_job_that_ends_before_any_provider_gives_its_reservation_back(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    api, worker = _gateways(start_gateway, bfl)
    created = create_key(api, monthly_budget_usd=0.04)
    with api.client(key=created["key"]) as http:
        job = submit(http, FLUX_PRO)["id"]
    assert len(_reservations(api)) == 1
    revoke_key(api, created["id"])
    worker()
    with api.client(key=ADMIN_TEST_KEY) as admin:
        failed = wait_job(admin, job)
    assert failed["status"] == "failed"
    assert failed["error"]["error"]["type"] == "authentication_error"
    assert _reservations(api) == []
    assert bfl.stats()["submits"] == 0


def test_a_replay_of_an_accepted_request_is_never_refused(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    api, worker = _gateways(start_gateway, bfl)
    created = create_key(api, monthly_budget_usd=0.04, requests_per_minute=1)
    once = {"Idempotency-Key": "order-4711"}
    with api.client(key=created["key"]) as http:
        job = submit(http, FLUX_PRO, once)["id"]
        # The rate and the budget are spent, but a replay costs nothing: the same job.
        for _ in range(3):
            assert submit(http, FLUX_PRO, once)["id"] == job
        other = http.post(GENERATE, json=FLUX_PRO, headers=ASYNC)
        assert other.status_code == 429
        conflict = http.post(GENERATE, json={**FLUX_PRO, "seed": 1}, headers={**ASYNC, **once})
        assert conflict.status_code == 409
        worker()
        assert wait_job(http, job)["status"] == "succeeded"
        replayed = http.post(GENERATE, json=FLUX_PRO, headers=once)  # synchronous: the result
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["provider"] == "bfl-flux"
    assert bfl.stats()["submits"] == 1
    assert _spent(api, created["id"]) == pytest.approx(0.04)
    assert _ledger(api, created["key"])["requests"] == 1


def test_a_job_whose_reservation_expired_while_queued_takes_it_back_when_it_runs(
    start_gateway: Callable[..., RunningGateway], slow_bfl: Any
) -> None:
    api, worker = _gateways(start_gateway, slow_bfl)
    created = create_key(api, monthly_budget_usd=0.04)
    with api.client(key=created["key"]) as http:
        job = submit(http, FLUX_PRO)["id"]
        # It waited longer than LIMIT_LEASE_SECONDS: its reservation expired (not yet swept).
        with sqlite3.connect(db_path(api), timeout=5) as conn:
            conn.execute("UPDATE budget_reservations SET expires_at = '2020-01-01 00:00:00'")
        worker()
        eventually(lambda: slow_bfl.stats()["submits"] == 1)  # running at BFL now
        # The worker renewed the job's reservation: the budget is held, not free for another.
        refused = http.post(GENERATE, json=FLUX_PRO)
        assert refused.status_code == 402, refused.text[:300]
        assert wait_job(http, job)["status"] == "succeeded"
    assert _spent(api, created["id"]) == pytest.approx(0.04)
    assert _reservations(api) == []
