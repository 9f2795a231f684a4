"""Fallbacks and routes end to end: who serves when the primary fails, and when nobody does."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from image_gateway.app import create_app
from image_gateway.settings import ConfigurationError
from tests.conftest import GATEWAY_TEST_KEY, OpenAIEmulatorHandle, make_settings
from tests.resilience.conftest import FaultGateway

GPT = {"model": "gpt-image-1", "prompt": "a fox", "size": "1024x1024"}


def generations(openai_emu: OpenAIEmulatorHandle) -> int:
    return int(openai_emu.stats()["requests"]["generate"])


def test_primary_failing_is_served_by_the_fallback(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw: FaultGateway = fault_gateway(retry_max_attempts=2)
    openai_emu.add_faults([{"match": "generate", "status": 500, "times": 2}])
    resp = gw.post({**GPT, "fallbacks": ["bfl-flux/flux-2-klein-4b"]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["provider"], body["model"]) == ("bfl-flux", "flux-2-klein-4b")
    assert body["fallback_from"] == "openai/gpt-image-1" and body["attempts"] == 3
    assert generations(openai_emu) == 2 and bfl.stats()["submits"] == 1
    metrics = gw.get("/metrics").text
    assert (
        'igw_fallbacks_total{from_provider="openai",reason="upstream_error",'
        'to_provider="bfl-flux"} 1.0' in metrics
    )
    assert 'igw_images_generated_total{model="flux-2-klein-4b",provider="bfl-flux"} 1.0' in metrics


def test_fallback_after_a_reset_serves_from_the_next_candidate(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    # (A silent primary is waited for until the deadline: a generation may take minutes.)
    gw: FaultGateway = fault_gateway()
    openai_emu.add_faults([{"match": "generate", "reset": True}])
    resp = gw.post({**GPT, "fallbacks": ["local"]})
    assert resp.status_code == 200, resp.text
    assert (
        resp.json()["provider"] == "local" and resp.json()["fallback_from"] == "openai/gpt-image-1"
    )


def test_moderation_on_the_primary_is_final(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw: FaultGateway = fault_gateway()
    resp = gw.post(
        {"model": "flux-dev", "prompt": "[moderate-request] x", "fallbacks": ["gpt-image-1"]}
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "content_policy_violation"
    assert generations(openai_emu) == 0 and bfl.stats()["submits"] == 1


def test_the_provider_rejecting_the_input_is_final(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw: FaultGateway = fault_gateway()
    detail = {"detail": [{"loc": ["body", "prompt"], "msg": "too odd", "type": "value_error"}]}
    bfl.add_faults([{"match": "submit", "status": 422, "body": detail}])
    resp = gw.post({"model": "flux-dev", "prompt": "p", "fallbacks": ["gpt-image-1"]})
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "prompt"
    assert generations(openai_emu) == 0


def test_a_fallback_that_cannot_take_the_request_is_an_upfront_400(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw: FaultGateway = fault_gateway()
    # OpenAI takes no seed: the client's own fallback list is wrong, before anything is spent.
    resp = gw.post({"model": "flux-dev", "prompt": "p", "seed": 7, "fallbacks": ["gpt-image-1"]})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["param"] == "fallbacks[0]" and "seed" in error["message"]
    unknown = gw.post({"model": "flux-dev", "prompt": "p", "fallbacks": ["local", "nope-9"]})
    assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "fallbacks[1]"
    assert generations(openai_emu) == 0 and bfl.stats()["submits"] == 0


def test_provider_params_go_only_to_the_primarys_provider(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw: FaultGateway = fault_gateway(retry_max_attempts=1)
    bfl.add_faults([{"match": "submit", "status": 500, "times": 2}])
    body = {
        "model": "flux-2-pro",
        "prompt": "p",
        "provider_params": {"safety_tolerance": 2},
        "fallbacks": ["bfl-flux/flux-2-klein-4b", "openai/gpt-image-1-mini", "local"],
    }
    resp = gw.post(body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == "gpt-image-1-mini" and resp.json()["attempts"] == 3
    sent = openai_emu.stats()["last_request"]
    assert sent["path"].endswith("/images/generations")
    # the BFL-only parameter was not sent to OpenAI (its emulator refuses unknown fields)


def test_a_fallback_to_an_unconfigured_provider_is_skipped(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway(bfl_api_key=None, retry_max_attempts=1)
    openai_emu.add_faults([{"match": "generate", "status": 503}])
    resp = gw.post({**GPT, "fallbacks": ["flux-dev", "local"]})
    assert resp.status_code == 200 and resp.json()["provider"] == "local"
    only = gw.post({"model": "flux-dev", "prompt": "p"})
    assert only.status_code == 503 and only.json()["error"]["code"] == "provider_not_configured"


def test_when_every_candidate_fails_the_last_real_failure_is_the_answer(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw: FaultGateway = fault_gateway(retry_max_attempts=1)
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    bfl.add_faults([{"match": "submit", "status": 429, "headers": {"Retry-After": "7"}}])
    resp = gw.post({**GPT, "fallbacks": ["flux-dev"]})
    assert resp.status_code == 429 and resp.headers["retry-after"] == "7"


def test_edits_take_fallbacks_as_a_form_field(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buf, "PNG")
    gw: FaultGateway = fault_gateway(retry_max_attempts=1)
    openai_emu.add_faults([{"match": "edit", "status": 500}])
    with httpx.Client(base_url=gw.url, timeout=30) as http:
        resp = http.post(
            "/v1/images/edits",
            headers={"X-API-Key": GATEWAY_TEST_KEY},
            data={"model": "gpt-image-1", "prompt": "night", "fallbacks": '["local"]'},
            files={"image": ("in.png", buf.getvalue(), "image/png")},
        )
    gw.keep(resp)
    assert resp.status_code == 200, resp.text
    assert resp.json()["provider"] == "local" and resp.json()["fallback_from"]


# --- routes (aliases) from ROUTES_FILE ---------------------------------------------------------

ROUTES_TOML = """
[routes.fast-square]
models = ["bfl-flux/flux-2-klein-4b", "openai/gpt-image-1-mini"]
description = "cheap and quick"

[routes]
offline = ["local"]
"""


def test_a_route_serves_from_its_first_model_and_falls_back_in_order(
    fault_gateway: Any, tmp_path: Path, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES_TOML)
    gw: FaultGateway = fault_gateway(routes_file=routes, retry_max_attempts=1)
    first = gw.post({"model": "fast-square", "prompt": "p", "size": "1024x1024"})
    assert first.status_code == 200, first.text
    assert (first.json()["provider"], first.json()["route"]) == ("bfl-flux", "fast-square")
    assert "fallback_from" not in first.json()
    bfl.add_faults([{"match": "submit", "status": 500}])
    second = gw.post({"model": "fast-square", "prompt": "p", "size": "1024x1024"})
    assert second.status_code == 200
    assert second.json()["model"] == "gpt-image-1-mini"
    assert second.json()["fallback_from"] == "bfl-flux/flux-2-klein-4b"
    # a route is usable wherever a model id is: as a fallback too, and through the SDK's model=
    bfl.add_faults([{"match": "submit", "status": 500}])
    third = gw.post({"model": "flux-dev", "prompt": "p", "fallbacks": ["offline"]})
    assert third.json()["provider"] == "local"


def test_a_route_skips_its_models_that_cannot_take_the_request(
    fault_gateway: Any, tmp_path: Path, openai_emu: OpenAIEmulatorHandle
) -> None:
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps({"routes": {"any": ["gpt-image-1", "local"]}}))
    gw: FaultGateway = fault_gateway(routes_file=routes)
    resp = gw.post({"model": "any", "prompt": "p", "seed": 3, "size": "256x256"})
    assert resp.status_code == 200 and resp.json()["provider"] == "local"
    assert "fallback_from" not in resp.json()  # OpenAI was never a candidate: no seed there
    assert generations(openai_emu) == 0
    wrong = gw.post({"model": "any", "provider": "openai", "prompt": "p"})
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "provider"


@pytest.mark.parametrize(
    ("text", "suffix", "names"),
    [
        ('[routes.fast]\nmodels = ["no-such-model"]\n', ".toml", "routes.fast.models[0]"),
        ('[routes.gpt-image-1]\nmodels = ["local"]\n', ".toml", "routes.gpt-image-1"),
        ('[routes.a]\nmodels = ["b"]\n[routes.b]\nmodels = ["local"]\n', ".toml", "routes.a"),
        ('[routes.x]\nmodels = "local"\n', ".toml", "routes.x"),
        ("[routes.x\n", ".toml", "not valid TOML"),
        ('{"routes": {"x": ["local"]}, "extra": 1}', ".json", "top-level"),
        ('{"routes": {"x/y": ["local"]}}', ".json", "routes.x/y"),
    ],
)
def test_a_bad_routes_file_stops_start_up_naming_the_entry(
    tmp_path: Path, text: str, suffix: str, names: str
) -> None:
    path = tmp_path / f"routes{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        create_app(make_settings(tmp_path, routes_file=path))
    message = str(caught.value)
    assert str(path) in message and names in message


def test_a_missing_routes_file_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        create_app(make_settings(tmp_path, routes_file=tmp_path / "absent.toml"))


def test_retries_fallbacks_and_circuit_events_are_structured_log_lines(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle, gateway_logs: Any
) -> None:
    gw: FaultGateway = fault_gateway(retry_max_attempts=2, circuit_failure_threshold=2)
    openai_emu.add_faults([{"match": "generate", "status": 503, "times": 2}])
    resp = gw.post({**GPT, "fallbacks": ["local"]})
    assert resp.status_code == 200
    request_id = resp.headers["x-request-id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any('"request"' in x for x in gateway_logs.lines):
        time.sleep(0.01)
    records = [json.loads(line) for line in gateway_logs.lines]
    by_msg = {r["msg"]: r for r in records if r.get("request_id") == request_id}
    retry = by_msg["upstream retry"]
    assert (retry["provider"], retry["attempt"], retry["error_code"]) == (
        "openai",
        2,
        "upstream_error",
    )
    fallback = by_msg["fallback"]
    assert (fallback["from"], fallback["to"]) == ("openai/gpt-image-1", "local/local-art")
    assert by_msg["request"]["provider"] == "local" and by_msg["request"]["client"] == "key-1"
    opened = [r for r in records if r["msg"] == "circuit open"]
    assert opened and opened[0]["provider"] == "openai" and opened[0]["level"] == "warning"


def test_moderation_in_one_fanned_out_call_beats_a_sibling_failure(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    gw: FaultGateway = fault_gateway(retry_max_attempts=1)
    bfl.add_faults([{"match": "submit", "status": 500}])
    body = {
        "model": "flux-dev",
        "prompt": "[moderate-request]",
        "n": 2,
        "fallbacks": ["gpt-image-1"],
    }
    resp = gw.post(body)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "content_policy_violation"
    assert generations(openai_emu) == 0
