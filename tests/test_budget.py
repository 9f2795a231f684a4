"""Monthly budgets: refused before the provider is called, atomic under concurrency (on SQLite
and on the real PostgreSQL), settled with the provider's real cost, released on failure."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.admin_helpers import ADMIN_TEST_KEY, create_key
from tests.conftest import BFL_TEST_KEY, RunningGateway
from tests.services import fresh_postgres, postgres_databases

__all__ = ["fresh_postgres", "postgres_databases"]  # fixtures, imported for pytest

FLUX = {"prompt": "a fox", "model": "flux-pro-1.1", "size": "512x512"}  # 4 credits = $0.04


def _gateway(start_gateway: Any, bfl: Any, **overrides: Any) -> RunningGateway:
    gw: RunningGateway = start_gateway(
        admin_api_key=ADMIN_TEST_KEY,
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
        **overrides,
    )
    return gw


def _concurrently(gw: RunningGateway, key: str, body: dict[str, Any], n: int) -> list[Any]:
    barrier = threading.Barrier(n)

    def one(_: int) -> httpx.Response:
        with gw.client(key=key) as http:
            barrier.wait()
            return http.post("/v1/images/generations", json=body)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def _spent(gw: RunningGateway, key_id: str) -> float | None:
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        value: float | None = admin.get(f"/v1/admin/keys/{key_id}").json()["month_spend_usd"]
    return value


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_budget_barrier_admits_exactly_one(
    start_gateway: Any, bfl: Any, fresh_postgres: Callable[[], str], database: str
) -> None:
    overrides = {"database_url": fresh_postgres()} if database == "postgresql" else {}
    gw = _gateway(start_gateway, bfl, **overrides)
    created = create_key(gw, name="frugal", monthly_budget_usd=0.04)
    responses = _concurrently(gw, created["key"], FLUX, 10)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [402] * 9, [r.text for r in responses]
    refused = [r.json()["error"] for r in responses if r.status_code == 402]
    assert {e["code"] for e in refused} == {"budget_exceeded"}
    assert "budget" in refused[0]["message"]
    assert bfl.stats()["submits"] == 1  # the provider was never called for the others
    assert _spent(gw, created["id"]) == pytest.approx(0.04)
    with gw.client(key=created["key"]) as http:
        assert http.post("/v1/images/generations", json=FLUX).status_code == 402
    assert bfl.stats()["submits"] == 1


def test_spend_follows_the_providers_cost_and_failures_release_the_hold(
    start_gateway: Any, bfl: Any
) -> None:
    gw = _gateway(start_gateway, bfl)
    created = create_key(gw, name="two-and-a-bit", monthly_budget_usd=0.09)
    with gw.client(key=created["key"]) as http:
        # A failure before BFL accepted the task holds nothing afterwards. (One after it
        # accepted may have been charged: tests/test_outcome_unknown.py.)
        bfl.add_faults([{"match": "submit", "status": 500}])
        failed = http.post("/v1/images/generations", json=FLUX)
        assert failed.status_code >= 400
        assert _spent(gw, created["id"]) == 0
        assert http.post("/v1/images/generations", json=FLUX).status_code == 200
        assert http.post("/v1/images/generations", json=FLUX).status_code == 200
        assert _spent(gw, created["id"]) == pytest.approx(0.08)
        # $0.01 left: a $0.04 request is refused before BFL is called...
        resp = http.post("/v1/images/generations", json=FLUX)
        assert resp.status_code == 402
        # ...a free one is not.
        local = http.post("/v1/images/generations", json={"prompt": "p", "size": "64x64"})
        assert local.status_code == 200
    assert bfl.stats()["submits"] == 2
    with gw.client(key=created["key"]) as http:
        usage = http.get("/v1/usage").json()["totals"]
    # Ledger rows of budgeted keys are written in the settlement transaction: no wait needed.
    assert (usage["requests"], usage["failed"]) == (4, 1)
    assert usage["cost_usd"] == pytest.approx(0.08)


def test_estimate_scales_with_n(start_gateway: Any, bfl: Any) -> None:
    gw = _gateway(start_gateway, bfl)
    created = create_key(gw, name="n", monthly_budget_usd=0.10)
    with gw.client(key=created["key"]) as http:
        resp = http.post("/v1/images/generations", json={**FLUX, "n": 3})  # $0.12 > $0.10
        assert resp.status_code == 402
        assert http.post("/v1/images/generations", json={**FLUX, "n": 2}).status_code == 200
    assert bfl.stats()["submits"] == 2
    assert _spent(gw, created["id"]) == pytest.approx(0.08)


def test_unlimited_keys_never_touch_the_budget(start_gateway: Any, bfl: Any) -> None:
    gw = _gateway(start_gateway, bfl)
    created = create_key(gw, name="free")
    responses = _concurrently(gw, created["key"], FLUX, 3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert _spent(gw, created["id"]) is None  # spend is tracked against a budget only
