"""The dispatcher's contract around fallbacks: the ledger records who served, admission happens
once before any call, the response says what happened, and `fallbacks` is validated."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.admin_helpers import ADMIN_TEST_KEY, create_key
from tests.conftest import OPENAI_TEST_KEY, OpenAIEmulatorHandle, RunningGateway

GPT = {"model": "gpt-image-1", "prompt": "a fox", "size": "1024x1024"}


@pytest.fixture
def gw(start_gateway: Any, openai_emu: OpenAIEmulatorHandle) -> RunningGateway:
    gateway: RunningGateway = start_gateway(
        openai_api_key=OPENAI_TEST_KEY,
        openai_base_url=openai_emu.base_url,
        admin_api_key=ADMIN_TEST_KEY,
    )
    return gateway


def usage_rows(gw: RunningGateway, key: str | None = None) -> list[dict[str, Any]]:
    """The ledger, grouped by provider and model (rows are written shortly after a request)."""
    kwargs = {} if key is None else {"key": key}
    deadline = time.monotonic() + 5
    while True:
        with gw.client(**kwargs) as http:
            rows: list[dict[str, Any]] = http.get(
                "/v1/usage", params={"group_by": "provider,model"}
            ).json()["data"]
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_the_ledger_records_the_fallback_that_served(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={**GPT, "fallbacks": ["local"]})
    assert resp.status_code == 200
    body = resp.json()
    assert (body["provider"], body["model"], body["fallback_from"]) == (
        "local",
        "local-art",
        "openai/gpt-image-1",
    )
    rows = usage_rows(gw)
    assert [(r["provider"], r["model"], r["requests"]) for r in rows] == [("local", "local-art", 1)]


def test_a_failed_request_is_settled_once_against_the_last_candidate_tried(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    openai_emu.add_faults([{"match": "generate", "status": 500, "times": 2}])
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={**GPT, "fallbacks": ["dall-e-3"]})
    assert resp.status_code == 502
    assert openai_emu.stats()["requests"]["generate"] == 2
    rows = usage_rows(gw)
    assert [(r["model"], r["requests"], r["failed"]) for r in rows] == [("dall-e-3", 1, 1)]


def test_fallbacks_the_key_may_not_use_are_skipped(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    created = create_key(gw, name="openai-only", allowed_providers=["openai"])
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    with gw.client(key=created["key"]) as http:
        resp = http.post("/v1/images/generations", json={**GPT, "fallbacks": ["local"]})
    assert resp.status_code == 502  # local was not tried for a key limited to openai
    assert openai_emu.stats()["requests"]["generate"] == 1


def test_primary_and_fallback_duplicates_are_tried_once(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={**GPT, "fallbacks": ["openai/gpt-image-1", "openai", "local"]},
        )
    assert resp.status_code == 200 and resp.json()["provider"] == "local"
    assert resp.json()["attempts"] == 2  # openai/gpt-image-1 (the default model too) once


@pytest.mark.parametrize(
    ("fallbacks", "param"),
    [
        (["a"] * 6, "fallbacks"),
        ([""], "fallbacks.0"),
        (["x" * 201], "fallbacks.0"),
        ("local", None),  # a string is a comma list (the edit form's shape): accepted
        ('["local", 3]', "fallbacks.1"),
        ("[not json", "fallbacks"),
    ],
)
def test_the_fallbacks_field_is_validated(
    gateway: RunningGateway, fallbacks: Any, param: str | None
) -> None:
    with gateway.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={"prompt": "p", "size": "64x64", "fallbacks": fallbacks},
        )
    if param is None:
        assert resp.status_code == 200
        return
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param


def test_the_response_documents_attempts_and_the_schema_lists_fallbacks(
    gateway: RunningGateway,
) -> None:
    with gateway.client() as http:
        resp = http.post("/v1/images/generations", json={"prompt": "p", "size": "64x64"})
        spec = http.get("/openapi.json").json()
    assert resp.json()["attempts"] == 1 and "fallback_from" not in resp.json()
    assert "fallbacks" in spec["components"]["schemas"]["GenerationBody"]["properties"]
    assert "fallback_from" in spec["components"]["schemas"]["ImagesResponse"]["properties"]
