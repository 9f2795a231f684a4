"""The Fireworks adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating with FLUX.1 [schnell] (synchronous: JSON or the image's bytes) and
with FLUX.1 Kontext (BFL's tasks re-hosted: submit, then POST `get_result` with the id), and
editing with Kontext; each refusal and failure form; the gateway's 400s; the pure readings.

Servers: the real gateway and the Fireworks emulator on loopback (`tests/contract/harness.py`).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.fireworks import FireworksEmulator
from image_gateway.errors import UNKNOWN_OUTCOME, ContentPolicyViolation, UpstreamError
from image_gateway.providers.fireworks import translate
from image_gateway.providers.kit import flux_tasks
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.providers.support import decoded, fetched, provider_fixtures

FIREWORKS_TEST_KEY = "fw_test_canary_8e2d4b6a1c"
MODELS = "/inference/v1/workflows/accounts/fireworks/models/"


emu, gw, _reset, sdk = provider_fixtures(
    "fireworks",
    lambda: FireworksEmulator(api_key=FIREWORKS_TEST_KEY, strict=True, generation_seconds=0.05),
)


def sent(emu: FireworksEmulator) -> list[tuple[str, dict[str, Any]]]:
    return [(r["path"][len(MODELS) :], r["fields"]) for r in emu.requests()]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    body.setdefault("prompt", "a lighthouse")
    body.setdefault("model", "fireworks/flux-1-schnell-fp8")
    with gw.client() as http:
        return http.post("/v1/images/generations", json=body)


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_with_schnell_synchronously(
    sdk: openai.OpenAI, emu: FireworksEmulator
) -> None:
    result = sdk.images.generate(
        model="fireworks/flux-1-schnell-fp8",
        prompt="a fox",
        n=2,
        size="1536x1024",  # type: ignore[arg-type]
        response_format="b64_json",
        extra_body={"seed": 11, "provider_params": {"num_inference_steps": 4}},
    )
    assert len(result.data) == 2
    image = decoded(result.data[0].b64_json)
    assert image.format == "PNG" and image.size == (1216, 832)  # 3:2
    calls = sent(emu)
    assert [path for path, _ in calls] == ["flux-1-schnell-fp8/text_to_image"] * 2
    assert {fields["seed"] for _, fields in calls} == {11, 12}  # n fans out, seeds consecutive
    assert all(
        fields["aspect_ratio"] == "3:2" and fields["num_inference_steps"] == 4
        for _, fields in calls
    )
    assert emu.stats()["submissions"] == 2 and emu.stats()["tasks"] == 0


def test_sdk_url_answers_are_the_gateways_stored_images(sdk: openai.OpenAI) -> None:
    for model in ("fireworks/flux-1-schnell-fp8", "fireworks/flux-kontext-pro"):
        result = sdk.images.generate(
            model=model, prompt="a fox", response_format="url", extra_body={"aspect_ratio": "16:9"}
        )
        image = fetched(result.data[0].url)
        assert (image.format, image.size) == ("PNG", (1344, 768)), model


def test_schnell_answers_as_image_bytes_are_read(emu: FireworksEmulator, tmp_path: Path) -> None:
    settings = {**provider_settings(CONTRACTS["fireworks"], emu), "fireworks_accept": "image/png"}
    with serve_gateway(tmp_path, **settings) as gateway:
        png_resp = generate(gateway, response_format="b64_json")
        jpeg_resp = generate(gateway, response_format="b64_json", output_format="jpeg")
    assert png_resp.status_code == 200, png_resp.text
    assert decoded(png_resp.json()["data"][0]["b64_json"]).format == "PNG"
    assert jpeg_resp.status_code == 200, jpeg_resp.text
    assert decoded(jpeg_resp.json()["data"][0]["b64_json"]).format == "JPEG"


def test_sdk_generates_with_kontext_as_a_task(sdk: openai.OpenAI, emu: FireworksEmulator) -> None:
    result = sdk.images.generate(
        model="fireworks/flux-kontext-max",
        prompt="a poster",
        response_format="b64_json",
        extra_body={"aspect_ratio": "16:9", "provider_params": {"safety_tolerance": 3}},
    )
    assert decoded(result.data[0].b64_json).size == (1344, 768)
    (submit_path, submit), *polls = sent(emu)
    assert submit_path == "flux-kontext-max"
    assert submit == {"prompt": "a poster", "aspect_ratio": "16:9", "safety_tolerance": 3}
    assert polls and all(path == "flux-kontext-max/get_result" for path, _ in polls)
    assert {fields["id"] for _, fields in polls} == {polls[0][1]["id"]}
    stats = emu.stats()
    assert stats["results_served"] == 1 and stats["result_requests_with_key"] == 0


def test_sdk_edits_with_kontext(sdk: openai.OpenAI, emu: FireworksEmulator) -> None:
    result = sdk.images.edit(
        model="fireworks/flux-kontext-pro",
        prompt="make it night",
        image=("in.png", png((96, 64)), "image/png"),
        response_format="url",
    )
    assert fetched(result.data[0].url).format == "PNG"
    (path, submit), *_ = sent(emu)
    assert path == "flux-kontext-pro"
    image = submit["input_image"]  # BFL's body: raw base64
    assert Image.open(io.BytesIO(base64.b64decode(image))).size == (96, 64)


def test_a_bare_kontext_id_goes_to_fireworks_when_bfl_is_not_configured(
    gw: RunningGateway, emu: FireworksEmulator
) -> None:
    """`flux-kontext-pro` is offered by bfl-flux (first in the registry) and fireworks: a bare
    id goes to the first configured owner, not to an unconfigured one's 503."""
    resp = generate(gw, model="flux-kontext-pro")
    assert resp.status_code == 200, resp.text
    assert resp.json()["provider"] == "fireworks"
    assert sent(emu)[0][0] == "flux-kontext-pro"


@pytest.mark.parametrize(("model", "top"), [("flux-kontext-pro", 6), ("flux-kontext-max", 6)])
def test_kontext_safety_tolerance_above_its_maximum_is_refused_before_sending(
    gw: RunningGateway, emu: FireworksEmulator, model: str, top: int
) -> None:
    resp = generate(gw, model=f"fireworks/{model}", provider_params={"safety_tolerance": top + 1})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == "provider_params.safety_tolerance"
    assert emu.stats()["submissions"] == 0
    ok = generate(gw, model=f"fireworks/{model}", provider_params={"safety_tolerance": top})
    assert ok.status_code == 200, ok.text


def test_kontext_refuses_a_mask_it_would_drop(gw: RunningGateway, emu: FireworksEmulator) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"model": "fireworks/flux-kontext-pro", "prompt": "make it night"},
            files={
                "image": ("in.png", png((64, 64)), "image/png"),
                "mask": ("m.png", png((64, 64)), "image/png"),
            },
        )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == "mask"
    assert emu.stats()["submissions"] == 0


# --- refusals and failures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "prompt", "status", "code"),
    [
        ("fireworks/flux-1-schnell-fp8", "[filtered] x", 400, "content_policy_violation"),
        ("fireworks/flux-kontext-pro", "[moderate-request] x", 400, "content_policy_violation"),
        ("fireworks/flux-kontext-pro", "[moderate-content] x", 400, "content_policy_violation"),
        ("fireworks/flux-kontext-pro", "[error] x", 502, "generation_failed"),
    ],
)
def test_refusals_and_failed_tasks(
    gw: RunningGateway, emu: FireworksEmulator, model: str, prompt: str, status: int, code: str
) -> None:
    resp = generate(gw, model=model, prompt=prompt)
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == (code, "fireworks")
    assert emu.stats()["submissions"] == 1


@pytest.mark.parametrize(
    ("fault", "model", "status", "code"),
    [
        (
            {
                "match": "generate",
                "status": 400,
                "body": {"error": {"type": "invalid_request_error", "message": "bad prompt"}},
            },
            "fireworks/flux-1-schnell-fp8",
            400,
            "invalid_request_error",
        ),
        (
            {"match": "generate", "status": 503, "times": 2},
            "fireworks/flux-1-schnell-fp8",
            502,
            "upstream_error",
        ),
        (
            {"match": "generate", "status": 200, "body": {"id": "x", "base64": []}},
            "fireworks/flux-1-schnell-fp8",
            502,
            "upstream_error",
        ),
        (
            {
                "match": "generate",
                "status": 402,
                "body": {"error": {"message": "not on a paid plan"}},
            },
            "fireworks/flux-1-schnell-fp8",
            402,
            "provider_quota_exhausted",
        ),
        (
            {"match": "submit", "status": 402},
            "fireworks/flux-kontext-pro",
            402,
            "provider_quota_exhausted",
        ),
        (
            {"match": "generate", "status": 412},  # "Account is suspended" (FW-DOCS)
            "fireworks/flux-1-schnell-fp8",
            402,
            "provider_quota_exhausted",
        ),
        (
            {"match": "submit", "status": 412},
            "fireworks/flux-kontext-pro",
            402,
            "provider_quota_exhausted",
        ),
        (
            {"match": "generate", "status": 413},
            "fireworks/flux-1-schnell-fp8",
            413,
            "payload_too_large",
        ),
        (
            {"match": "submit", "status": 413},
            "fireworks/flux-kontext-pro",
            413,
            "payload_too_large",
        ),
        (
            {"match": "poll", "status": 200, "body": {"status": "Task not found"}, "times": 10},
            "fireworks/flux-kontext-pro",
            502,
            "task_not_found",
        ),
        (
            {"match": "poll", "status": 200, "body": {"status": "Ready", "result": None}},
            "fireworks/flux-kontext-pro",
            502,
            "upstream_error",
        ),
        (
            {"match": "submit", "status": 200, "body": {"status": "queued"}},
            "fireworks/flux-kontext-pro",
            502,
            "upstream_error",
        ),
    ],
)
def test_error_answers_end_as_the_right_error(
    gw: RunningGateway,
    emu: FireworksEmulator,
    fault: dict[str, Any],
    model: str,
    status: int,
    code: str,
) -> None:
    emu.add_faults([fault])
    resp = generate(gw, model=model)
    emu.clear_faults()
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert code in (error["code"], error["type"]), error
    if status in (402, 413):  # the operator's account, or the request: never sent again
        assert resp.headers["x-should-retry"] == "false"
        assert sum(emu.stats()["requests"].get(k, 0) for k in ("generate", "submit")) == 1


def test_the_rate_limit_ends_as_a_429_with_a_retry_hint(
    gw: RunningGateway, emu: FireworksEmulator
) -> None:
    emu.scenario("rate_limited", times=5)
    resp = generate(gw)
    emu.clear_faults()
    assert resp.status_code == 429, resp.text
    assert int(resp.headers["retry-after"]) >= 1


def test_a_wrong_key_ends_as_provider_auth_failed(emu: FireworksEmulator, tmp_path: Path) -> None:
    settings = {
        **provider_settings(CONTRACTS["fireworks"], emu),
        "fireworks_api_key": "fw_wrong_key_1234",
    }
    with serve_gateway(tmp_path, **settings) as gateway:
        sync = generate(gateway)
        task = generate(gateway, model="fireworks/flux-kontext-pro")
    for resp in (sync, task):
        assert resp.status_code == 502, resp.text
        error = resp.json()["error"]
        assert error["code"] == "provider_auth_failed" and "FIREWORKS_API_KEY" in error["message"]
        assert "wrong_key" not in resp.text
    assert emu.stats()["auth_failures"] == 2


def test_an_expired_sample_url_is_an_unknown_outcome(tmp_path: Path) -> None:
    with FireworksEmulator(
        api_key=FIREWORKS_TEST_KEY, generation_seconds=0.01, retention=-60
    ) as expired:
        settings = provider_settings(CONTRACTS["fireworks"], expired)
        with serve_gateway(tmp_path, **settings) as gateway:
            resp = generate(gateway, model="fireworks/flux-kontext-pro")
        stats = expired.stats()
    assert resp.status_code == 502, resp.text
    assert "HTTP 403" in resp.json()["error"]["message"]
    assert stats["submissions"] == 1 and stats["results_served"] == 0


def test_a_kontext_task_never_ready_ends_at_the_polling_deadline(
    emu: FireworksEmulator, tmp_path: Path
) -> None:
    settings = {
        **provider_settings(CONTRACTS["fireworks"], emu),
        "fireworks_poll_timeout_seconds": 0.5,
    }
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway, model="fireworks/flux-kontext-pro", prompt="[never-ready] x")
    assert resp.status_code == 504, resp.text
    assert resp.json()["error"]["code"] == "upstream_timeout"
    assert resp.headers["x-should-retry"] == "false"  # accepted: it may have been charged
    assert emu.stats()["submissions"] == 1


def test_a_kontext_sample_on_an_untrusted_host_is_not_fetched(
    emu: FireworksEmulator, tmp_path: Path
) -> None:
    settings = {**provider_settings(CONTRACTS["fireworks"], emu), "fireworks_trusted_hosts": []}
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway, model="fireworks/flux-kontext-pro")
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert UNKNOWN_OUTCOME in error["message"] and "FIREWORKS_TRUSTED_HOSTS" in error["message"]
    assert emu.stats()["submissions"] == 1 and emu.stats()["results_served"] == 0


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"size": "1000x700"}, "size"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"size": "1536x1024", "aspect_ratio": "1:1"}, "aspect_ratio"),
        ({"negative_prompt": "fog"}, "negative_prompt"),
        ({"output_format": "webp"}, "output_format"),
        ({"provider_params": {"num_inference_steps": 0}}, "provider_params.num_inference_steps"),
        ({"provider_params": {"safety_tolerance": 2}}, "provider_params.safety_tolerance"),
        (
            {"model": "fireworks/flux-kontext-pro", "provider_params": {"guidance_scale": 2}},
            "provider_params.guidance_scale",
        ),
    ],
)
def test_what_a_model_cannot_honour_is_a_400_naming_it(
    gw: RunningGateway, emu: FireworksEmulator, body: dict[str, Any], param: str
) -> None:
    resp = generate(gw, **body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert emu.stats()["submissions"] == 0


def test_schnell_does_not_edit(gw: RunningGateway, emu: FireworksEmulator) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"model": "fireworks/flux-1-schnell-fp8", "prompt": "p"},
            files={"image": ("in.png", png((64, 64)), "image/png")},
        )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "model", resp.text
    assert emu.stats()["submissions"] == 0


# --- the emulator -------------------------------------------------------------------------------


def test_a_task_polled_at_another_models_url_is_not_found(emu: FireworksEmulator) -> None:
    headers = {"Authorization": f"Bearer {FIREWORKS_TEST_KEY}"}
    with httpx.Client(base_url=emu.url or "", headers=headers, timeout=10) as http:
        submitted = http.post(MODELS + "flux-kontext-pro", json={"prompt": "p"}).json()
        other = http.post(
            MODELS + "flux-kontext-max/get_result", json={"id": submitted["request_id"]}
        )
        wrong = http.post(
            MODELS + "flux-kontext-pro",
            json={"prompt": "p"},
            headers={"Authorization": "Bearer nope"},
        )
    assert set(submitted) == {"request_id"}
    assert other.json()["status"] == "Task not found"
    assert wrong.status_code == 401 and "nope" not in wrong.text


# --- pure readings ------------------------------------------------------------------------------


def test_a_submission_is_read_by_request_id_or_id() -> None:
    fields = ("request_id", "id")
    assert flux_tasks.parse_submit({"request_id": "a"}, "fireworks", fields).task_id == "a"
    assert flux_tasks.parse_submit({"id": "b"}, "fireworks", fields).task_id == "b"
    with pytest.raises(UpstreamError):
        flux_tasks.parse_submit({"id": "b"}, "bfl-flux", ("request_id",))


def test_schnell_json_answers() -> None:
    data = png((8, 8))
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    answer = translate.from_json({"base64": [uri], "finishReason": "SUCCESS", "seed": 5}, [])
    assert answer.result.images[0].data == data and answer.result.images[0].seed == 5
    with pytest.raises(ContentPolicyViolation):
        translate.from_json({"base64": [], "finishReason": "CONTENT_FILTERED"}, [])
    with pytest.raises(UpstreamError):
        translate.from_json({"base64": [], "finishReason": "ERROR"}, [])
    with pytest.raises(UpstreamError):
        translate.from_json({"base64": ["data:image/png;base64,%%%"]}, [])
