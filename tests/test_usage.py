"""The usage ledger end to end: one row per generation with its cost (OpenAI tokens, BFL's
cost field, local = 0), `GET /v1/usage` grouping and filters, and isolation between keys."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.admin_helpers import ADMIN_TEST_KEY, create_key
from tests.conftest import (
    GATEWAY_TEST_KEY,
    OpenAIEmulatorHandle,
    RunningGateway,
    emulator_settings,
)


@pytest.fixture
def gw(start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any) -> RunningGateway:
    gateway: RunningGateway = start_gateway(
        admin_api_key=ADMIN_TEST_KEY,
        **emulator_settings(openai_emu, bfl),
    )
    return gateway


def _usage(gw: RunningGateway, key: str, **params: Any) -> dict[str, Any]:
    with gw.client(key=key) as http:
        resp = http.get("/v1/usage", params=params)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _wait_for_rows(gw: RunningGateway, count: int) -> None:
    """Ledger rows of keys without a budget are written by the background writer."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if _usage(gw, ADMIN_TEST_KEY)["totals"]["requests"] >= count:
            return
        time.sleep(0.05)
    raise AssertionError("ledger rows were not written")


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _rows(gw: RunningGateway) -> list[dict[str, Any]]:
    path = gw.settings.database_url.get_secret_value().split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM usage ORDER BY id")]


def _generate(gw: RunningGateway, key: str, body: dict[str, Any]) -> dict[str, Any]:
    with gw.client(key=key) as http:
        resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    out["_request_id"] = resp.headers["x-request-id"]
    return out


def test_ledger_costs_grouping_and_isolation(gw: RunningGateway) -> None:
    alice = create_key(gw, name="alice")
    bob = create_key(gw, name="bob")
    first_day = _today()
    local = _generate(gw, alice["key"], {"prompt": "a", "size": "64x64", "user_id": "u1"})
    openai = _generate(
        gw,
        alice["key"],
        {"prompt": "a fox", "model": "gpt-image-1", "quality": "low", "user_id": "u2"},
    )
    bfl = _generate(
        gw, alice["key"], {"prompt": "a fox", "model": "flux-dev", "n": 2, "user_id": "u1"}
    )
    _generate(gw, bob["key"], {"prompt": "b", "size": "64x64", "user_id": "u1"})
    _generate(gw, GATEWAY_TEST_KEY, {"prompt": "c", "size": "64x64"})
    _wait_for_rows(gw, 5)
    last_day = _today()
    # The days alice's rows fall on: one, unless the test ran across midnight UTC.
    alice_days = sorted({r["created_at"][:10] for r in _rows(gw) if r["key_id"] == alice["id"]})
    assert alice_days and first_day <= alice_days[0] and alice_days[-1] <= last_day

    tokens = openai["usage"]
    openai_cost = (
        tokens["input_tokens_details"]["text_tokens"] * 5
        + tokens["input_tokens_details"]["image_tokens"] * 10
        + tokens["output_tokens"] * 40
    ) / 1_000_000
    assert bfl["cost"]["basis"] == "provider" and "usage" not in bfl
    bfl_cost = bfl["cost"]["credits"] * 0.01
    assert bfl["cost"]["usd"] == pytest.approx(bfl_cost)
    assert bfl_cost == pytest.approx(0.05)  # FLUX.1 [dev]: 2.5 credits per image, two images

    by_model = _usage(gw, alice["key"], group_by="provider,model")
    costs = {(r["provider"], r["model"]): r["cost_usd"] for r in by_model["data"]}
    assert costs == {
        ("bfl-flux", "flux-dev"): pytest.approx(bfl_cost),
        ("local", "local-art"): 0.0,
        ("openai", "gpt-image-1"): pytest.approx(openai_cost, abs=1e-6),
    }
    totals = by_model["totals"]
    assert totals["requests"] == 3 and totals["images"] == 4 and totals["failed"] == 0
    assert totals["cost_usd"] == pytest.approx(openai_cost + bfl_cost, abs=1e-6)
    assert by_model["scope"] == "this key"

    by_user = {r["user_id"]: r for r in _usage(gw, alice["key"], group_by="user_id")["data"]}
    assert by_user["u1"]["requests"] == 2 and by_user["u1"]["images"] == 3
    assert by_user["u2"]["requests"] == 1
    by_day = _usage(gw, alice["key"], group_by="day,key")["data"]
    assert [r["day"] for r in by_day] == alice_days
    assert {(r["key_id"], r["key_name"]) for r in by_day} == {(alice["id"], "alice")}
    counts = ("requests", "succeeded", "failed", "outcome_unknown", "images", "unpriced_requests")
    assert {c: sum(r[c] for r in by_day) for c in counts} == {
        "requests": 3,
        "succeeded": 3,
        "failed": 0,
        "outcome_unknown": 0,
        "images": 4,
        "unpriced_requests": 0,
    }
    assert sum(r["cost_usd"] for r in by_day) == pytest.approx(openai_cost + bfl_cost, abs=1e-6)
    assert sum(r["outcome_unknown_cost_usd"] for r in by_day) == 0.0

    # Each key sees its own rows only; asking for another key's is refused.
    assert _usage(gw, bob["key"])["totals"]["requests"] == 1
    with gw.client(key=bob["key"]) as http:
        resp = http.get("/v1/usage", params={"key_id": alice["id"]})
    assert resp.status_code == 403
    assert _usage(gw, bob["key"], key_id=bob["id"])["totals"]["requests"] == 1
    assert _usage(gw, GATEWAY_TEST_KEY, group_by="key")["data"] == [
        {
            "key_id": None,
            "key_name": "key-1",
            "requests": 1,
            "succeeded": 1,
            "failed": 0,
            "outcome_unknown": 0,
            "images": 1,
            "cost_usd": 0.0,
            "outcome_unknown_cost_usd": 0.0,
            "unpriced_requests": 0,
        }
    ]

    # The admin sees every key, and may pick one.
    everyone = _usage(gw, ADMIN_TEST_KEY, group_by="key")
    assert everyone["scope"] == "all keys"
    assert {r["key_name"]: r["requests"] for r in everyone["data"]} == {
        "alice": 3,
        "bob": 1,
        "key-1": 1,
    }
    assert _usage(gw, ADMIN_TEST_KEY, key_id=alice["id"])["totals"]["requests"] == 3

    # Filters.
    assert _usage(gw, alice["key"], provider="openai")["totals"]["requests"] == 1
    assert _usage(gw, alice["key"], model="bfl-flux/flux-dev")["totals"]["images"] == 2
    assert _usage(gw, alice["key"], model="local-art", user_id="u1")["totals"]["requests"] == 1
    span = {"start": alice_days[0], "end": alice_days[-1]}
    assert _usage(gw, alice["key"], **span)["totals"]["requests"] == 3
    tomorrow = (datetime.fromisoformat(last_day).date() + timedelta(days=1)).isoformat()
    assert _usage(gw, alice["key"], start=tomorrow)["totals"]["requests"] == 0

    # The rows themselves.
    rows = {r["request_id"]: r for r in _rows(gw)}
    row = rows[openai["_request_id"]]
    assert row["key_id"] == alice["id"] and row["key_name"] == "alice"
    assert (row["provider"], row["model"], row["user_id"]) == ("openai", "gpt-image-1", "u2")
    assert (row["status"], row["images"], row["quality"]) == ("succeeded", 1, "low")
    assert row["latency_ms"] > 0 and row["created_at"][:10] in alice_days
    assert row["cost_micros"] == round(openai_cost * 1_000_000)
    assert rows[bfl["_request_id"]]["cost_micros"] == 50_000
    assert rows[local["_request_id"]]["cost_micros"] == 0
    assert rows[local["_request_id"]]["size"] == "64x64"


def test_failed_generations_are_recorded(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    alice = create_key(gw, name="alice")
    openai_emu.add_faults([{"match": "generate", "status": 500, "times": 5}])
    with gw.client(key=alice["key"]) as http:
        resp = http.post("/v1/images/generations", json={"prompt": "p", "model": "gpt-image-1"})
    assert resp.status_code >= 500
    _wait_for_rows(gw, 1)
    totals = _usage(gw, alice["key"])["totals"]
    assert (totals["requests"], totals["failed"], totals["cost_usd"]) == (1, 1, 0.0)
    (row,) = _rows(gw)
    assert row["status"] == "failed" and row["error_code"] and row["images"] == 0


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"group_by": "week"}, "group_by"),
        ({"group_by": "day,secret"}, "group_by"),
        ({"start": "2026-13-01"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": "2026-02-02", "end": "2026-02-01"}, "start"),
        ({"limit": "0"}, "limit"),
        ({"provider": "OpenAI; DROP TABLE usage"}, "provider"),
        ({"model": "x' OR '1'='1"}, "model"),
        ({"key_id": "key_' OR 1=1 --"}, "key_id"),
        ({"key_id": "1; SELECT pg_sleep(5)"}, "key_id"),
        ({"user_id": "u" * 300}, "user_id"),
    ],
)
def test_usage_filters_are_validated(
    start_gateway: Any, params: dict[str, str], param: str
) -> None:
    gw = start_gateway(admin_api_key=ADMIN_TEST_KEY)
    with gw.client(key=ADMIN_TEST_KEY) as http:
        started = time.monotonic()
        resp = http.get("/v1/usage", params=params)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    # Refused before any query: well under the 5 s a pg_sleep(5) that ran would take (the
    # bound is wide because a loaded machine can be slow to answer at all).
    assert time.monotonic() - started < 4


def test_free_text_filters_are_bound_parameters(start_gateway: Any) -> None:
    """A user id is free text: a SQL payload there is just a user id nobody has."""
    gw = start_gateway(admin_api_key=ADMIN_TEST_KEY)
    _generate(gw, GATEWAY_TEST_KEY, {"prompt": "p", "size": "64x64", "user_id": "u1"})
    _wait_for_rows(gw, 1)
    for payload in ("u1' OR '1'='1", "x'; SELECT pg_sleep(5); --"):
        started = time.monotonic()
        body = _usage(gw, ADMIN_TEST_KEY, user_id=payload)
        assert body["totals"]["requests"] == 0
        # Under the 5 s a pg_sleep(5) that ran would take (1 s was exceeded under load: 1.09 s).
        assert time.monotonic() - started < 4
    assert _usage(gw, ADMIN_TEST_KEY, user_id="u1")["totals"]["requests"] == 1
