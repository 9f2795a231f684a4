"""A budget is a hard cap, even for a model the price table lacks: a key with a budget is refused
(403 `unpriced_model`) a request whose primary or any fallback has no known price — sync and
async alike, before any 202 and any provider call — while a key without a budget is still
served and its request recorded as unpriced."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import openai
import pytest

from tests.admin_helpers import ADMIN_TEST_KEY, create_key
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway, emulator_settings
from tests.jobs.support import ASYNC, FAST, eventually, submit, wait_job

FLUX_PRO = {"prompt": "a fox", "model": "flux-pro-1.1", "size": "512x512"}  # $0.04
# chatgpt-image-latest is catalogued without a price (OpenAI publishes none); gpt-image-7 is a
# newer id passed through to OpenAI as a string: neither is in image_gateway/billing/prices.json.
UNPRICED_MODELS = ["chatgpt-image-latest", "gpt-image-7"]


def _gateway(
    start_gateway: Callable[..., RunningGateway], openai_emu: Any, bfl: Any
) -> RunningGateway:
    return start_gateway(**FAST, **emulator_settings(openai_emu, bfl), admin_api_key=ADMIN_TEST_KEY)


def _provider_calls(openai_emu: Any, bfl: Any) -> tuple[int, int]:
    return sum(openai_emu.stats()["requests"].values()), bfl.stats()["submits"]


def _spent(gw: RunningGateway, key_id: str) -> float | None:
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        value: float | None = admin.get(f"/v1/admin/keys/{key_id}").json()["month_spend_usd"]
    return value


def _assert_refused(resp: Any, model: str, param: str) -> None:
    assert resp.status_code == 403, resp.text
    assert resp.headers["x-should-retry"] == "false"
    assert "location" not in resp.headers
    error = resp.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "permission_error",
        "unpriced_model",
        param,
    )
    assert f"openai/{model}" in error["message"]
    assert "image_gateway/billing/prices.json" in error["message"]


@pytest.mark.parametrize("model", UNPRICED_MODELS)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_budgeted_key_is_refused_an_unpriced_model(
    start_gateway: Callable[..., RunningGateway],
    openai_emu: Any,
    bfl: Any,
    mode: str,
    model: str,
) -> None:
    gw = _gateway(start_gateway, openai_emu, bfl)
    # A limit of one request a minute: the refusal must not take that request.
    created = create_key(gw, monthly_budget_usd=0.25, requests_per_minute=1)
    before = _provider_calls(openai_emu, bfl)
    headers = ASYNC if mode == "async" else {}
    with gw.client(key=created["key"]) as http:
        for _ in range(3):  # the tester's case: any number of them was served
            resp = http.post(
                "/v1/images/generations",
                json={"prompt": "a fox", "model": model},
                headers=headers,
            )
            _assert_refused(resp, model, "model")
        assert http.get("/v1/jobs").json()["data"] == []
        totals = http.get("/v1/usage").json()["totals"]
        assert (totals["requests"], totals["unpriced_requests"]) == (0, 0)
        # Nothing was held or counted: a priced request is still within every limit.
        served = http.post("/v1/images/generations", json=FLUX_PRO)
        assert served.status_code == 200, served.text
    assert _provider_calls(openai_emu, bfl) == (before[0], before[1] + 1)
    assert _spent(gw, created["id"]) == pytest.approx(0.04)


def test_the_official_sdk_gets_a_permission_denied_error(
    start_gateway: Callable[..., RunningGateway], openai_emu: Any, bfl: Any
) -> None:
    gw = _gateway(start_gateway, openai_emu, bfl)
    key = create_key(gw, monthly_budget_usd=0.25)["key"]
    sdk = openai.OpenAI(base_url=gw.url + "/v1", api_key=key, max_retries=2)
    started = time.monotonic()
    with pytest.raises(openai.PermissionDeniedError) as raised:
        sdk.images.generate(model="chatgpt-image-latest", prompt="a fox")
    assert time.monotonic() - started < 2  # x-should-retry: false, so the SDK did not retry
    assert raised.value.code == "unpriced_model"
    assert sum(openai_emu.stats()["requests"].values()) == 0


@pytest.mark.parametrize("model", UNPRICED_MODELS)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_budgeted_key_is_refused_an_unpriced_fallback(
    start_gateway: Callable[..., RunningGateway],
    openai_emu: Any,
    bfl: Any,
    mode: str,
    model: str,
) -> None:
    gw = _gateway(start_gateway, openai_emu, bfl)
    created = create_key(gw, monthly_budget_usd=0.25)
    before = _provider_calls(openai_emu, bfl)
    # The primary and the first fallback are priced; a size every candidate can make.
    body = {**FLUX_PRO, "size": "1024x1024", "fallbacks": ["flux-dev", model]}
    with gw.client(key=created["key"]) as http:
        resp = http.post(
            "/v1/images/generations", json=body, headers=ASYNC if mode == "async" else {}
        )
        _assert_refused(resp, model, "fallbacks")
        assert http.get("/v1/jobs").json()["data"] == []
    assert _provider_calls(openai_emu, bfl) == before
    assert _spent(gw, created["id"]) == 0


@pytest.mark.parametrize("key", ["env", "stored"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_key_without_a_budget_is_served_an_unpriced_model(
    start_gateway: Callable[..., RunningGateway],
    openai_emu: Any,
    bfl: Any,
    mode: str,
    key: str,
) -> None:
    gw = _gateway(start_gateway, openai_emu, bfl)
    # GATEWAY_API_KEYS keys have no budget; a stored key may have other limits and none.
    secret = GATEWAY_TEST_KEY if key == "env" else create_key(gw, requests_per_minute=5)["key"]
    body = {"prompt": "a fox", "model": "chatgpt-image-latest", "fallbacks": ["gpt-image-7"]}
    with gw.client(key=secret) as http:
        if mode == "sync":
            resp = http.post("/v1/images/generations", json=body)
            assert resp.status_code == 200, resp.text
            result = resp.json()
        else:
            job = wait_job(http, submit(http, body)["id"])
            assert job["status"] == "succeeded", job
            result = job["result"]
        assert result["cost"] == {"usd": None, "basis": "unpriced"}
        # Unbudgeted rows are written by the background writer.
        eventually(lambda: http.get("/v1/usage").json()["totals"]["unpriced_requests"] == 1)
    assert sum(openai_emu.stats()["requests"].values()) == 1
