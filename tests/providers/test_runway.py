"""The Runway adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating and editing (reference images) through the gateway, the mandatory
`X-Runway-Version`, Runway's ratios and prompt limits, the task's statuses and failure codes,
the cancel at the deadline, expired outputs, and the emulator on its own.

Servers: the real gateway and the Runway emulator on loopback (`tests/providers/support.py`).
"""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.runway import RunwayEmulator
from image_gateway.providers.runway import translate
from image_gateway.providers.runway.models import MODELS
from image_gateway.schemas import ImageTask
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.providers.support import decoded, error_of, fetched, provider_fixtures

RUNWAY_TEST_KEY = "key_runway_test_canary_7d2f9a4c1e"


def settings_for(emu: RunwayEmulator, **overrides: Any) -> dict[str, Any]:
    return {**provider_settings(CONTRACTS["runway"], emu), **overrides}


emu, gw, _reset, sdk = provider_fixtures(
    "runway",
    lambda: RunwayEmulator(api_key=RUNWAY_TEST_KEY, strict=True, generation_seconds=0.05),
    settings_for,
)


def sent(emu: RunwayEmulator) -> list[dict[str, Any]]:
    return [r["fields"] for r in emu.requests() if r["path"] == "/v1/text_to_image"]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    body.setdefault("prompt", "a lighthouse")
    body.setdefault("model", "runway/gen4_image")
    with gw.client() as http:
        return http.post("/v1/images/generations", json=body)


def image_file(size: tuple[int, int], name: str = "in.png") -> tuple[str, bytes, str]:
    return (name, png(size), "image/png")


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_with_runways_fields(sdk: openai.OpenAI, emu: RunwayEmulator) -> None:
    result = sdk.images.generate(
        model="runway/gen4_image",
        prompt="a fox",
        size="1920x1080",  # type: ignore[arg-type]
        response_format="b64_json",
        extra_body={"seed": 42, "provider_params": {"publicFigureThreshold": "low"}},
    )
    assert decoded(result.data[0].b64_json).size == (1920, 1080)
    [fields] = sent(emu)
    assert fields == {
        "model": "gen4_image",
        "promptText": "a fox",
        "ratio": "1920:1080",
        "seed": 42,
        "contentModeration": {"publicFigureThreshold": "low"},
    }
    stats = emu.stats()
    assert stats["missing_version"] == 0 and stats["auth_failures"] == 0
    assert stats["files_served"] == 1 and stats["file_requests_with_key"] == 0
    assert stats["requests"]["poll"] >= 1


def test_gpt_image_2_makes_several_images_in_one_task(
    sdk: openai.OpenAI, emu: RunwayEmulator
) -> None:
    result = sdk.images.generate(
        model="runway/gpt_image_2", prompt="a fox", n=3, quality="low", background="opaque"
    )
    assert len(result.data) == 3
    [fields] = sent(emu)
    assert (fields["outputCount"], fields["ratio"], fields["quality"]) == (3, "auto", "low")
    assert emu.stats()["submissions"] == 1


def test_gen4_makes_one_image_a_task_and_fans_out(sdk: openai.OpenAI, emu: RunwayEmulator) -> None:
    result = sdk.images.generate(model="runway/gen4_image", prompt="a fox", n=2)
    assert len(result.data) == 2
    assert emu.stats()["submissions"] == 2
    assert all("outputCount" not in f for f in sent(emu))


def test_sdk_url_answers_are_the_gateways_stored_images(
    sdk: openai.OpenAI, emu: RunwayEmulator
) -> None:
    made = sdk.images.generate(
        model="runway/gen4_image",
        prompt="a fox",
        size="1920x1080",  # type: ignore[arg-type]
        response_format="url",
    )
    edited = sdk.images.edit(
        model="runway/gen4_image",
        prompt="make it night",
        image=image_file((96, 64)),
        response_format="url",
    )
    made_image, edited_image = fetched(made.data[0].url), fetched(edited.data[0].url)
    assert (made_image.format, made_image.size) == ("PNG", (1920, 1080))
    assert (edited_image.format, edited_image.size) == ("PNG", (1024, 1024))
    assert all("/v1/images/files/" in r.data[0].url for r in (made, edited) if r.data[0].url)
    assert emu.stats()["files_served"] == 2


@pytest.mark.parametrize(
    ("model", "ratio", "wire"),
    [
        ("gen4_image", "16:9", "1920:1080"),
        ("gen4_image", "21:9", "1680:720"),  # exact, before 2112:912 (2.316)
        ("gemini_2.5_flash", "16:9", "1344:768"),  # Gemini's 16:9
        ("gemini_image3.1_flash", "1:8", "176:1408"),
        ("seedream5_lite", "4:3", "2304:1728"),
    ],
)
def test_an_aspect_ratio_is_sent_as_the_models_ratio(
    gw: RunningGateway, emu: RunwayEmulator, model: str, ratio: str, wire: str
) -> None:
    resp = generate(gw, model=f"runway/{model}", aspect_ratio=ratio)
    assert resp.status_code == 200, resp.text
    [fields] = sent(emu)
    assert fields["ratio"] == wire


def test_sdk_edits_with_reference_images_and_tags(sdk: openai.OpenAI, emu: RunwayEmulator) -> None:
    result = sdk.images.edit(
        model="runway/gen4_image_turbo",
        prompt="@cat on the @sofa",
        image=[image_file((300, 200), "a.png"), image_file((64, 64), "b.png")],
        extra_body={"provider_params": json.dumps({"reference_tags": ["cat", "sofa"]})},
    )
    assert result.data[0].url
    [fields] = sent(emu)
    refs = fields["referenceImages"]
    assert [r["tag"] for r in refs] == ["cat", "sofa"]
    uri = refs[0]["uri"]
    assert uri.startswith("data:image/png;base64,")
    size = Image.open(io.BytesIO(base64.b64decode(uri.partition(",")[2]))).size
    assert size == (300, 200)


# --- refused before anything is sent -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": "x" * 1001}, "prompt"),
        ({"prompt": "\U0001f98a" * 501}, "prompt"),  # 1002 UTF-16 code units
        ({"model": "runway/seedream5_pro", "prompt": "x" * 4001}, "prompt"),
        ({"size": "1024x768"}, "size"),
        ({"aspect_ratio": "5:1"}, "aspect_ratio"),
        ({"model": "runway/gen4_image_turbo"}, "model"),  # needs reference images
        ({"model": "runway/gemini_2.5_flash", "seed": 3}, "seed"),
        ({"seed": -1}, "seed"),
        ({"quality": "high"}, "quality"),
        ({"output_format": "jpeg"}, "output_format"),
        (
            {"provider_params": {"publicFigureThreshold": "none"}},
            "provider_params.publicFigureThreshold",
        ),
        (
            {"model": "runway/seedream5_pro", "provider_params": {"grounding": "yes"}},
            "provider_params.grounding",
        ),
        ({"provider_params": {"reference_tags": ["cat"]}}, "provider_params.reference_tags"),
        ({"provider_params": {"steps": 3}}, "provider_params.steps"),
    ],
)
def test_what_runway_would_refuse_is_refused_here(
    gw: RunningGateway, emu: RunwayEmulator, body: dict[str, Any], param: str
) -> None:
    resp = generate(gw, **body)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["param"] == param, resp.text
    assert emu.stats()["requests"].get("submit", 0) == 0


@pytest.mark.parametrize(
    ("fields", "files", "param"),
    [
        ({"provider_params": '{"reference_tags": ["1cat"]}'}, {}, "provider_params.reference_tags"),
        ({}, {"mask": ("m.png", png((300, 200), "RGBA"), "image/png")}, "mask"),
        ({"model": "runway/gen4_image"}, {"image[]": [image_file((8, 8))] * 4}, "image"),
    ],
)
def test_edits_runway_cannot_make_are_refused(
    gw: RunningGateway,
    emu: RunwayEmulator,
    fields: dict[str, str],
    files: dict[str, Any],
    param: str,
) -> None:
    data = {"model": "runway/gen4_image_turbo", "prompt": "x", **fields}
    parts: list[tuple[str, Any]] = [("image[]", image_file((300, 200)))]
    for name, value in files.items():
        parts += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    with gw.client() as http:
        resp = http.post("/v1/images/edits", data=data, files=parts)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["param"] == param, resp.text
    assert emu.stats()["requests"].get("submit", 0) == 0


# --- the task's statuses and failures -----------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "status", "code", "says"),
    [
        ("[safety]", 400, "content_policy_violation", "SAFETY.INPUT.TEXT"),
        ("[safety-output]", 400, "content_policy_violation", "SAFETY.OUTPUT.IMAGE"),
        ("[preprocessing-safety]", 400, "content_policy_violation",
         "INPUT_PREPROCESSING.SAFETY.TEXT"),
        ("[fail]", 502, "generation_failed", "INTERNAL.BAD_OUTPUT.CODE01"),
        ("[preprocessing-fail]", 502, "generation_failed", "INPUT_PREPROCESSING.INTERNAL"),
        ("[cancelled]", 502, "generation_failed", "cancelled"),
    ],
)  # fmt: skip
def test_a_failed_task_ends_as_its_failure_code_says(
    gw: RunningGateway, emu: RunwayEmulator, marker: str, status: int, code: str, says: str
) -> None:
    resp = generate(gw, prompt=f"a fox {marker}")
    assert resp.status_code == status, resp.text
    error = error_of(resp)
    assert error["code"] == code and says in error["message"], error
    assert emu.stats()["submissions"] == 1  # never submitted again


def test_a_throttled_task_is_waited_for(gw: RunningGateway, emu: RunwayEmulator) -> None:
    emu.book.queue_seconds = 0.3
    resp = generate(gw, prompt="a fox [throttle]")
    assert resp.status_code == 200, resp.text
    assert emu.stats()["requests"]["poll"] >= 2


def test_a_request_stopped_by_its_deadline_deletes_its_task(
    emu: RunwayEmulator, tmp_path: Path
) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, request_deadline_seconds=1.5)) as gateway:
        resp = generate(gateway, prompt="a fox [never]")
    assert resp.status_code == 504, resp.text
    for _ in range(40):  # the cancel call runs as the request ends (at most 3 s)
        if emu.stats()["cancels"]:
            break
        time.sleep(0.1)
    stats = emu.stats()
    assert stats["cancels"] == 1 and stats["requests"]["cancel"] == 1
    assert stats["missing_version"] == 0


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"status": 400, "body": {"error": "ratio: not valid"}}, 400, "invalid_request_error"),
        ({"status": 400, "body": {"error": "You do not have enough credits to run this task."}},
         402, "provider_quota_exhausted"),
        ({"status": 401, "body": {"error": "Invalid API key"}}, 502, "provider_auth_failed"),
        ({"status": 503, "times": 2}, 502, "upstream_error"),
    ],
)  # fmt: skip
def test_runways_error_answers_end_as_the_right_error(
    gw: RunningGateway, emu: RunwayEmulator, fault: dict[str, Any], status: int, code: str
) -> None:
    emu.add_faults([{"match": "submit", **fault}])
    resp = generate(gw)
    assert resp.status_code == status, resp.text
    error = error_of(resp)
    assert code in (error["code"], error["type"]), error


def test_a_rate_limit_is_retried_after_runways_hint(
    gw: RunningGateway, emu: RunwayEmulator
) -> None:
    emu.scenario("rate_limited")
    resp = generate(gw)
    assert resp.status_code == 200, resp.text
    assert emu.stats()["requests"]["submit"] == 2 and emu.stats()["submissions"] == 1


def test_a_task_deleted_elsewhere_is_lost(gw: RunningGateway, emu: RunwayEmulator) -> None:
    emu.add_faults(
        [{"match": "poll", "status": 404, "body": {"error": "Task not found"}, "times": 99}]
    )
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert error_of(resp)["code"] == "task_not_found"
    assert emu.stats()["requests"]["submit"] == 1


def test_a_wrong_key_is_provider_auth_failed_and_never_shown(
    emu: RunwayEmulator, tmp_path: Path
) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, runway_api_key="key_wrong_12345678")) as g:
        resp = generate(g)
    assert resp.status_code == 502, resp.text
    error = error_of(resp)
    assert error["code"] == "provider_auth_failed" and "RUNWAY_API_KEY" in error["message"]
    assert "wrong_1234" not in resp.text and emu.stats()["auth_failures"] == 1


def test_an_expired_output_is_an_unknown_outcome_never_sent_again(tmp_path: Path) -> None:
    with RunwayEmulator(api_key=RUNWAY_TEST_KEY, generation_seconds=0.05, retention=-60) as old:
        with serve_gateway(tmp_path, **settings_for(old)) as gateway:
            resp = generate(gateway)
        stats = old.stats()
    assert resp.status_code == 502, resp.text
    assert "HTTP 403" in error_of(resp)["message"]
    assert stats["submissions"] == 1 and stats["requests"]["file"] == 1


def test_an_output_on_an_untrusted_host_is_not_fetched(emu: RunwayEmulator, tmp_path: Path) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, runway_trusted_hosts=[])) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    assert "RUNWAY_TRUSTED_HOSTS" in error_of(resp)["message"]
    assert emu.stats()["submissions"] == 1 and emu.stats()["files_served"] == 0


def test_a_fake_output_file_is_refused(gw: RunningGateway, emu: RunwayEmulator) -> None:
    emu.add_faults([{"match": "file", "image": "html"}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert error_of(resp)["code"] == "invalid_image_output"


# --- the emulator on its own ---------------------------------------------------------------------


def _post(emu: RunwayEmulator, body: dict[str, Any], **headers: str) -> httpx.Response:
    sent_headers = {"authorization": f"Bearer {RUNWAY_TEST_KEY}", **headers}
    return httpx.post(f"{emu.base_url}/v1/text_to_image", json=body, headers=sent_headers)


BODY = {"model": "gen4_image", "promptText": "a fox", "ratio": "1024:1024"}
VERSION = {"x-runway-version": "2024-11-06"}


def test_a_call_without_the_version_header_is_refused(emu: RunwayEmulator) -> None:
    missing = _post(emu, BODY)
    other = _post(emu, BODY, **{"x-runway-version": "2023-01-01"})
    assert missing.status_code == 400 and "X-Runway-Version" in missing.json()["error"]
    assert other.status_code == 400
    assert emu.stats()["missing_version"] == 1 and emu.stats()["submissions"] == 0


def test_the_emulators_task_lifecycle(emu: RunwayEmulator) -> None:
    emu.book.generation_seconds = 30.0  # still running at the DELETE, under any load
    task_id = _post(emu, BODY, **VERSION).json()["id"]
    headers = {"authorization": f"Bearer {RUNWAY_TEST_KEY}", **VERSION}
    url = f"{emu.base_url}/v1/tasks/{task_id}"
    running = httpx.get(url, headers=headers).json()
    assert running["status"] == "RUNNING" and 0 <= running["progress"] < 1
    assert httpx.delete(url, headers=headers).status_code == 204
    assert httpx.get(url, headers=headers).json()["status"] == "CANCELLED"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({**BODY, "ratio": "1920:1088"}, "ratio"),
        ({**BODY, "model": "gen4_image_turbo"}, "referenceImages"),
        ({**BODY, "referenceImages": [{"uri": "http://x/a.png"}]}, "referenceImages.0.uri"),
        ({**BODY, "promptText": "x" * 1001}, "promptText"),
        ({**BODY, "model": "gpt_image_2", "ratio": "auto", "outputCount": 11}, "outputCount"),
        ({**BODY, "foo": 1}, "foo"),  # strict
    ],
)
def test_the_emulator_validates_as_runway_does(
    emu: RunwayEmulator, body: dict[str, Any], says: str
) -> None:
    resp = _post(emu, body, **VERSION)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"].startswith(says)


# --- pure translation ---------------------------------------------------------------------


def test_to_vendor_sends_the_default_ratio_when_none_is_asked() -> None:
    task = ImageTask(provider="runway", model="gpt_image_2", prompt="a fox", n=4)
    assert translate.to_vendor(task, MODELS["gpt_image_2"]) == {
        "model": "gpt_image_2",
        "promptText": "a fox",
        "ratio": "auto",
        "outputCount": 4,
    }


def test_a_task_answer_reads_as_an_outcome() -> None:
    running = translate.parse_task({"status": "RUNNING", "progress": 0.4}, "runway", [])
    assert getattr(running, "progress", None) == 0.4
    throttled = translate.parse_task({"status": "THROTTLED"}, "runway", [])
    assert getattr(throttled, "status", None) == "THROTTLED"
    with pytest.raises(Exception, match="cancelled"):
        translate.parse_task({"status": "CANCELLED"}, "runway", [])
