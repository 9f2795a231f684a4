"""Calls whose outcome is unknown — the provider may have made, and charged, what it was asked
for — stay visible: each leaves a ledger row with status "unknown" and its estimated cost,
`/v1/usage` counts them apart (`outcome_unknown`, `outcome_unknown_cost_usd`, within
`cost_usd`), `/metrics` too, and a key's budget is charged for them. Over real sockets, with
the faults the emulators inject."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest

from image_gateway.errors import UNKNOWN_OUTCOME
from tests.admin_helpers import ADMIN_TEST_KEY, create_key
from tests.conftest import (
    GATEWAY_TEST_KEY,
    OpenAIEmulatorHandle,
    RunningGateway,
    emulator_settings,
)
from tests.services import fresh_postgres, postgres_databases
from tests.usage_helpers import ledger_rows, metric, usage_totals, wait_rows

__all__ = ["fresh_postgres", "postgres_databases"]  # fixtures, imported for pytest

LOST = {"match": "poll", "status": 200, "body": {"status": "Task not found"}, "times": 20}

# (provider, body, faults, settings, status, estimated cost: what was asked for, at table
# prices; an unknown quality at its most expensive)
CASES: dict[str, tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, Any], int, float]] = {
    "openai reset after sending": (
        "openai",
        {"model": "gpt-image-1.5", "prompt": "a fox"},
        [{"match": "generate", "reset": True}],
        {},
        502,
        0.2,
    ),
    "openai silent until the request deadline": (
        "openai",
        {"model": "dall-e-3", "prompt": "a fox"},
        [{"match": "generate", "stall": True}],
        {"request_deadline_seconds": 0.5},
        504,
        0.04,
    ),
    "bfl accepted, then the connection dropped": (
        "bfl-flux",
        {"model": "flux-dev", "prompt": "a fox"},
        [{"match": "submit", "accept_then_reset": True}],
        {},
        502,
        0.025,
    ),
    "bfl accepted, then lost the task": (
        "bfl-flux",
        {"model": "flux-pro-1.1", "prompt": "a fox"},
        [LOST],
        {},
        502,
        0.04,
    ),
    "bfl accepted, never ready before the poll timeout": (
        "bfl-flux",
        {"model": "flux-2-pro", "prompt": "a fox [never-ready]"},
        [],
        {"bfl_poll_timeout_seconds": 0.5},
        504,
        0.03,
    ),
    "bfl accepted, then reported the task failed": (
        "bfl-flux",
        {"model": "flux-2-klein-4b", "prompt": "a fox [error]"},
        [],
        {},
        502,
        0.014,
    ),
    "bfl ready, but its image could not be downloaded": (
        "bfl-flux",
        {"model": "flux-kontext-max", "prompt": "a fox"},
        [{"match": "sample", "status": 503}],
        {},
        502,
        0.08,
    ),
}


def _gateway(start_gateway: Any, openai_emu: Any, bfl: Any, **overrides: Any) -> RunningGateway:
    gw: RunningGateway = start_gateway(
        admin_api_key=ADMIN_TEST_KEY,
        **emulator_settings(openai_emu, bfl),
        **overrides,
    )
    return gw


def _fault(provider: str, openai_emu: OpenAIEmulatorHandle, bfl: Any, faults: list[Any]) -> None:
    if faults:
        (openai_emu if provider == "openai" else bfl).add_faults(faults)


@pytest.mark.parametrize("case", list(CASES))
def test_a_call_that_may_have_been_charged_is_recorded_apart_with_its_estimate(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any, case: str
) -> None:
    provider, body, faults, settings, status, estimate = CASES[case]
    gw = _gateway(start_gateway, openai_emu, bfl, **settings)
    _fault(provider, openai_emu, bfl, faults)
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == status, resp.text

    totals = wait_rows(gw, 1)["totals"]
    assert totals == {
        "requests": 1,
        "succeeded": 0,
        "failed": 0,
        "outcome_unknown": 1,
        "images": 0,
        "cost_usd": pytest.approx(estimate),
        "outcome_unknown_cost_usd": pytest.approx(estimate),
        "unpriced_requests": 0,
    }
    (row,) = ledger_rows(gw)
    assert (row["provider"], row["model"], row["status"]) == (provider, body["model"], "unknown")
    assert row["error_code"] == resp.json()["error"]["code"]
    model = body["model"]
    assert metric(gw, "igw_outcome_unknown_total", provider, model) == 1
    assert metric(gw, "igw_outcome_unknown_cost_usd_total", provider, model) == pytest.approx(
        estimate
    )
    assert metric(gw, "igw_cost_usd_total", provider, model) == pytest.approx(estimate)


def test_a_failure_the_provider_answered_is_failed_and_free(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw = _gateway(start_gateway, openai_emu, bfl)
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    bfl.add_faults([{"match": "submit", "status": 500}])  # refused: no task, no charge
    with gw.client() as http:
        for body in ({"model": "dall-e-3", "prompt": "p"}, {"model": "flux-dev", "prompt": "p"}):
            assert http.post("/v1/images/generations", json=body).status_code == 502
    totals = wait_rows(gw, 2)["totals"]
    assert (totals["failed"], totals["outcome_unknown"], totals["cost_usd"]) == (2, 0, 0.0)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_budget_is_charged_for_calls_that_may_have_been_charged(
    start_gateway: Any,
    openai_emu: OpenAIEmulatorHandle,
    bfl: Any,
    fresh_postgres: Callable[[], str],
    database: str,
) -> None:
    overrides = {"database_url": fresh_postgres()} if database == "postgresql" else {}
    gw = _gateway(start_gateway, openai_emu, bfl, **overrides)
    created = create_key(gw, name="finance", monthly_budget_usd=0.1)
    bfl.add_faults([{"match": "submit", "accept_then_reset": True}])
    flux = {"model": "flux-pro-1.1", "prompt": "a fox", "size": "512x512"}  # $0.04
    with gw.client(key=created["key"]) as http:
        assert http.post("/v1/images/generations", json=flux).status_code == 502
        assert http.post("/v1/images/generations", json=flux).status_code == 200
        # $0.04 possibly charged + $0.04 charged: the next $0.04 does not fit in $0.10.
        assert http.post("/v1/images/generations", json=flux).status_code == 402
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        key = admin.get(f"/v1/admin/keys/{created['id']}").json()
    assert key["month_spend_usd"] == pytest.approx(0.08)
    with gw.client(key=created["key"]) as http:
        totals = http.get("/v1/usage").json()["totals"]
    assert (totals["requests"], totals["succeeded"], totals["outcome_unknown"]) == (2, 1, 1)
    assert totals["cost_usd"] == pytest.approx(0.08)
    assert totals["outcome_unknown_cost_usd"] == pytest.approx(0.04)


def test_a_fallback_after_an_unknown_outcome_books_it_to_the_provider_that_may_have_charged(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw = _gateway(start_gateway, openai_emu, bfl)
    openai_emu.add_faults([{"match": "generate", "reset": True}])
    body = {"model": "dall-e-3", "prompt": "a fox", "fallbacks": ["flux-dev"]}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["fallback_from"] == "openai/dall-e-3"
    assert resp.json()["cost"]["usd"] == pytest.approx(0.025)  # the images it answers with
    recorded = wait_rows(gw, 2)
    rows = {(r["provider"], r["model"]): r for r in recorded["data"]}
    assert rows["openai", "dall-e-3"]["outcome_unknown"] == 1
    assert rows["openai", "dall-e-3"]["cost_usd"] == pytest.approx(0.04)
    assert rows["bfl-flux", "flux-dev"]["succeeded"] == 1
    assert rows["bfl-flux", "flux-dev"]["cost_usd"] == pytest.approx(0.025)
    assert recorded["totals"]["cost_usd"] == pytest.approx(0.065)
    assert {r["request_id"] for r in ledger_rows(gw)} == {resp.headers["x-request-id"]}


def test_fanned_out_calls_of_a_failed_request_are_recorded(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    """One of two FLUX calls is cut off after BFL accepted it: the other was made and
    charged, the cut one may have been — neither may vanish with the failed request."""
    gw = _gateway(start_gateway, openai_emu, bfl)
    bfl.add_faults([{"match": "submit", "accept_then_reset": True}])
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"model": "flux-dev", "prompt": "p", "n": 2}
        )
    assert resp.status_code == 502, resp.text
    assert bfl.stats()["submits"] == 2
    totals = wait_rows(gw, 1)["totals"]
    assert (totals["requests"], totals["outcome_unknown"], totals["images"]) == (1, 1, 0)
    assert totals["cost_usd"] == pytest.approx(0.05)  # 2.5 credits charged + $0.025 estimated


def test_usage_reads_the_new_measures_from_both_databases(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any, fresh_postgres: Any
) -> None:
    gw = _gateway(start_gateway, openai_emu, bfl, database_url=fresh_postgres())
    openai_emu.add_faults([{"match": "generate", "reset": True}])
    with gw.client() as http:
        http.post("/v1/images/generations", json={"model": "dall-e-2", "prompt": "p"})
        http.post("/v1/images/generations", json={"model": "dall-e-2", "prompt": "p"})
    totals = wait_rows(gw, 2)["totals"]
    assert (totals["succeeded"], totals["outcome_unknown"]) == (1, 1)
    assert totals["outcome_unknown_cost_usd"] == pytest.approx(0.02)
    assert usage_totals(gw, group_by="day")["data"][0]["outcome_unknown"] == 1


# A submission the provider answered with a 2xx we cannot use: accepted (and for BFL, billed on
# acceptance), so the call may have been charged. (provider, request, fault, status, estimate)
UNUSABLE_ACCEPTANCES: dict[str, tuple[str, dict[str, Any], dict[str, Any], float]] = {
    "bfl 200, not JSON": (
        "bfl-flux",
        {"model": "flux-dev", "prompt": "a fox"},
        {"match": "submit", "status": 200, "body": "<html>accepted</html>"},
        0.025,
    ),
    "bfl 200, no task id": (
        "bfl-flux",
        {"model": "flux-pro-1.1", "prompt": "a fox"},
        {"match": "submit", "status": 200, "body": {"foo": 1}},
        0.04,
    ),
    "bfl 202, not JSON": (
        "bfl-flux",
        {"model": "flux-dev", "prompt": "a fox"},
        {"match": "submit", "status": 202, "body": "queued"},
        0.025,
    ),
    "openai 200, no images": (
        "openai",
        {"model": "dall-e-3", "prompt": "a fox"},
        {"match": "generate", "status": 200, "body": {"foo": 1}},
        0.04,
    ),
    "openai 201, not JSON": (
        "openai",
        {"model": "dall-e-2", "prompt": "a fox"},
        {"match": "generate", "status": 201, "body": "created"},
        0.02,
    ),
}


def _submissions(provider: str, openai_emu: OpenAIEmulatorHandle, bfl: Any) -> int:
    """POSTs that reached the provider's emulator: accepted submits, and the faulted one."""
    if provider == "openai":
        return int(openai_emu.stats()["requests"]["generate"])
    stats = bfl.stats()
    return int(stats["submits"] + stats["faults_triggered"])


@pytest.mark.parametrize("case", list(UNUSABLE_ACCEPTANCES))
def test_an_accepted_submission_we_cannot_use_is_an_unknown_outcome_never_sent_again(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any, case: str
) -> None:
    provider, body, fault, estimate = UNUSABLE_ACCEPTANCES[case]
    gw = _gateway(start_gateway, openai_emu, bfl)
    _fault(provider, openai_emu, bfl, [fault])
    sent: list[Any] = []
    with openai.OpenAI(
        base_url=gw.url + "/v1",
        api_key=GATEWAY_TEST_KEY,
        http_client=openai.DefaultHttpxClient(event_hooks={"request": [sent.append]}),
    ) as sdk:
        assert sdk.max_retries == 2  # the SDK's default: it would retry a 502 twice
        with pytest.raises(openai.APIStatusError) as caught:
            sdk.images.generate(**body)
    err = caught.value
    assert err.status_code == 502 and err.response.headers["x-should-retry"] == "false"
    assert UNKNOWN_OUTCOME in err.response.json()["error"]["message"]
    assert len(sent) == 1 and _submissions(provider, openai_emu, bfl) == 1

    totals = wait_rows(gw, 1)["totals"]
    assert (totals["requests"], totals["failed"], totals["outcome_unknown"]) == (1, 0, 1)
    assert totals["outcome_unknown_cost_usd"] == pytest.approx(estimate)
    (row,) = ledger_rows(gw)
    assert (row["provider"], row["model"], row["status"]) == (provider, body["model"], "unknown")
