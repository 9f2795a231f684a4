"""The Recraft adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating and editing through the gateway with Recraft's own fields, its size
lists and prompt limits, the gateway's 400s for what a model cannot honour (Recraft would
reject or ignore them), its error bodies in both readings, its image host, the vector models
left out, and the emulator's lenient and strict modes.

Servers: the real gateway and the Recraft emulator on loopback (`tests/contract/harness.py`).
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.recraft import RecraftEmulator
from image_gateway.errors import UNKNOWN_OUTCOME
from image_gateway.providers.recraft import translate
from image_gateway.providers.recraft.models import MODELS
from image_gateway.schemas import ImageTask
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.providers import support
from tests.providers.support import decoded, fetched, provider_fixtures

RECRAFT_TEST_KEY = "recraft-test-canary-5e1d9c3b7a"


emu, gw, _reset, sdk = provider_fixtures(
    "recraft", lambda: RecraftEmulator(api_key=RECRAFT_TEST_KEY, strict=True)
)


def sent(emu: RecraftEmulator) -> list[dict[str, Any]]:
    return [record["fields"] for record in emu.requests() if record["path"].startswith("/v1/")]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    return support.generate(gw, "recraft/recraftv4_1", **body)


def mask_png(size: tuple[int, int]) -> bytes:
    """An OpenAI mask: transparent (edit) on the left half, opaque elsewhere."""
    img = Image.new("RGBA", size, (0, 0, 0, 255))
    img.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_with_recrafts_own_fields(sdk: openai.OpenAI, emu: RecraftEmulator) -> None:
    result = sdk.images.generate(
        model="recraft/recraftv3",
        prompt="a fox",
        n=8,  # 6 a call: fanned out as 6 + 2
        size="1820x1024",  # type: ignore[arg-type]
        style="digital_illustration",  # type: ignore[arg-type]
        response_format="b64_json",
        extra_body={
            "negative_prompt": "fog",
            "provider_params": {
                "substyle": "2d_art_poster",
                "controls": {"colors": [{"rgb": [255, 10, 0]}], "artistic_level": 3},
            },
        },
    )
    assert len(result.data) == 8
    image = decoded(result.data[0].b64_json)
    assert (image.format, image.size) == ("PNG", (1820, 1024))
    assert result.model_extra is not None
    assert result.model_extra["cost"] == {"usd": 0.32, "basis": "provider", "credits": 320.0}
    fields = sorted(sent(emu), key=lambda f: -f["n"])
    assert [f["n"] for f in fields] == [6, 2]
    assert fields[0] == {
        "prompt": "a fox",
        "model": "recraftv3",
        "n": 6,
        "response_format": "url",
        "size": "1820x1024",
        "style": "digital_illustration",
        "negative_prompt": "fog",
        "substyle": "2d_art_poster",
        "controls": {"colors": [{"rgb": [255, 10, 0]}], "artistic_level": 3},
    }
    stats = emu.stats()
    assert stats["submissions"] == 2 and stats["results_served"] == 8
    assert stats["result_requests_with_key"] == 0


@pytest.mark.parametrize(
    ("model", "ratio", "size"),
    [
        ("recraftv4_1", "3:5", "832x1344"),  # Recraft's 6:10
        ("recraftv4_1", "7:5", "1280x896"),  # Recraft's 14:10
        ("recraftv4_pro", "16:9", "2688x1536"),
        ("recraftv3", "5:3", "1707x1024"),
        ("recraftv2", "4:3", "1365x1024"),
    ],
)
def test_an_aspect_ratio_is_sent_as_the_models_size(
    sdk: openai.OpenAI, emu: RecraftEmulator, model: str, ratio: str, size: str
) -> None:
    result = sdk.images.generate(
        model=f"recraft/{model}", prompt="a fox", extra_body={"aspect_ratio": ratio}
    )
    image = fetched(result.data[0].url)  # a url by default on Recraft, as Recraft's own API
    assert (image.format, f"{image.size[0]}x{image.size[1]}") == ("PNG", size)
    [fields] = sent(emu)
    assert (fields["model"], fields["size"]) == (model, size)


def test_sdk_edits_by_image_to_image(sdk: openai.OpenAI, emu: RecraftEmulator) -> None:
    result = sdk.images.edit(
        model="recraft/recraftv4_1",
        prompt="make it winter",
        image=("in.png", png((300, 200)), "image/png"),
        n=2,
        response_format="b64_json",
        extra_body={
            "provider_params": json.dumps({"strength": 0.3, "controls": {"no_text": True}})
        },
    )
    assert [decoded(d.b64_json).size for d in result.data] == [(300, 200)] * 2
    [record] = [r for r in emu.requests() if r["path"].startswith("/v1/")]
    assert record["path"] == "/v1/images/imageToImage"
    fields = record["fields"]
    assert fields["strength"] == "0.3" and fields["model"] == "recraftv4_1"
    assert fields["controls"] == '{"no_text":true}' and fields["n"] == "2"
    assert fields["image"]["content_type"] == "image/png"


def test_sdk_inpaints_with_recrafts_black_and_white_mask(
    sdk: openai.OpenAI, emu: RecraftEmulator
) -> None:
    result = sdk.images.edit(
        model="recraft/recraftv3",
        prompt="a bicycle",
        image=("in.png", png((300, 200)), "image/png"),
        mask=("mask.png", mask_png((300, 200)), "image/png"),
    )
    assert fetched(result.data[0].url).size == (300, 200)
    [record] = [r for r in emu.requests() if r["path"].startswith("/v1/")]
    assert record["path"] == "/v1/images/inpaint"
    assert "strength" not in record["fields"] and record["fields"]["mask"]["bytes"] > 0
    assert emu.stats()["submissions"] == 1  # the emulator checked the mask: pure black and white


def test_the_catalogue_lists_raster_models_only(gw: RunningGateway) -> None:
    with gw.client() as http:
        providers = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
    cards = {card["id"]: card for card in providers["recraft"]["models"]}
    assert set(cards) == set(MODELS)
    assert not any(name.endswith("_vector") for name in cards)
    assert cards["recraftv4_1_pro"]["sizes"][0] == "2048x2048"
    assert cards["recraftv3"]["style"] == ["realistic_image", "digital_illustration", "logo_raster"]
    assert cards["recraftv4_1"]["provider_params"] == ["controls", "strength"]


def test_a_vector_model_is_refused_before_anything_is_sent(
    gw: RunningGateway, emu: RecraftEmulator
) -> None:
    resp = generate(gw, model="recraft/recraftv4_1_vector")
    assert resp.status_code in (400, 404), resp.text
    assert "recraftv4_1_vector" in resp.json()["error"]["message"]
    assert emu.stats()["requests"].get("generate", 0) == 0


# --- what a model cannot honour: refused before anything is sent --------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": "x" * 10001}, "prompt"),
        ({"model": "recraft/recraftv3", "prompt": "x" * 1001}, "prompt"),
        ({"size": "1820x1024"}, "size"),  # a V3 size, not V4.1's
        ({"aspect_ratio": "21:9"}, "aspect_ratio"),
        ({"size": "1344x768", "aspect_ratio": "1:1"}, "aspect_ratio"),
        ({"style": "digital_illustration"}, "style"),  # V2/V3 only
        ({"negative_prompt": "fog"}, "negative_prompt"),
        ({"seed": 3}, "seed"),
        ({"quality": "high"}, "quality"),
        ({"output_format": "jpeg"}, "output_format"),
        ({"model": "recraft/recraftv3", "style": "icon"}, "style"),  # icons are SVG
        ({"provider_params": {"substyle": "hdr"}}, "provider_params.substyle"),
        ({"provider_params": {"strength": 0.5}}, "provider_params.strength"),
        (
            {
                "model": "recraft/recraftv3",
                "style": "realistic_image",
                "provider_params": {"style_id": "a"},
            },
            "provider_params.style_id",
        ),
        (
            {"provider_params": {"controls": {"artistic_level": 6}}},
            "provider_params.controls.artistic_level",
        ),
        (
            {"provider_params": {"controls": {"colors": [{"rgb": [1, 2]}]}}},
            "provider_params.controls.colors",
        ),
        ({"provider_params": {"controls": {"contrast": 1}}}, "provider_params.controls.contrast"),
    ],
)
def test_what_recraft_would_reject_or_ignore_is_refused_here(
    gw: RunningGateway, emu: RecraftEmulator, body: dict[str, Any], param: str
) -> None:
    resp = generate(gw, **body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param, resp.text
    assert emu.stats()["requests"].get("generate", 0) == 0


@pytest.mark.parametrize(
    ("model", "fields", "mask", "param"),
    [
        ("recraftv4_1", {}, False, "provider_params.strength"),
        ("recraftv4_1", {"provider_params": '{"strength": 2}'}, False, "provider_params.strength"),
        ("recraftv4_1", {"provider_params": '{"strength": 0.5}'}, True, "mask"),
        ("recraftv3", {"provider_params": '{"strength": 0.5}'}, True, "provider_params.strength"),
        ("recraftv2", {}, False, "model"),
        (
            "recraftv4_1",
            {"provider_params": '{"strength": 0.5}', "size": "1024x1024"},
            False,
            "size",
        ),
    ],
)
def test_edits_recraft_cannot_make_are_refused_before_anything_is_sent(
    gw: RunningGateway,
    emu: RecraftEmulator,
    model: str,
    fields: dict[str, str],
    mask: bool,
    param: str,
) -> None:
    files: dict[str, Any] = {"image": ("in.png", png((300, 200)), "image/png")}
    if mask:
        files["mask"] = ("mask.png", mask_png((300, 200)), "image/png")
    data = {"model": f"recraft/{model}", "prompt": "winter", **fields}
    with gw.client() as http:
        resp = http.post("/v1/images/edits", data=data, files=files)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param, resp.text
    assert emu.stats()["requests"].get("edit", 0) == 0


def test_a_mask_of_another_size_is_refused(gw: RunningGateway, emu: RecraftEmulator) -> None:
    files = {
        "image": ("in.png", png((300, 200)), "image/png"),
        "mask": ("mask.png", mask_png((64, 64)), "image/png"),
    }
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"model": "recraft/recraftv3", "prompt": "x"},
            files=files,
        )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "mask", resp.text
    assert emu.stats()["requests"].get("edit", 0) == 0


# --- Recraft's error answers ----------------------------------------------------------------------


def _fault(status: int, body: Any, times: int = 1, **extra: Any) -> dict[str, Any]:
    return {"match": "submit", "status": status, "body": body, "times": times, **extra}


def _plain(status: int, text: str) -> dict[str, Any]:
    return {**_fault(status, text), "headers": {"content-type": "text/plain; charset=utf-8"}}


@pytest.mark.parametrize(
    ("fault", "status", "code", "submits"),
    [
        (_fault(400, {"code": "invalid_size", "message": "size is bad"}), 400, "invalid_size", 1),
        (
            _fault(400, {"error": {"message": "bad", "code": "invalid_model", "param": "model"}}),
            400,
            "invalid_model",
            1,
        ),
        (
            _fault(400, {"code": "nsfw_content", "message": "NSFW content detected"}),
            400,
            "content_policy_violation",
            1,
        ),
        (
            _fault(422, {"error": {"message": "The prompt is inappropriate", "code": "x"}}),
            400,
            "content_policy_violation",
            1,
        ),
        (
            _fault(400, {"code": "not_enough_credits", "message": "Not enough credits"}),
            402,
            "provider_quota_exhausted",
            1,
        ),
        (_fault(402, {"message": "Payment required"}), 402, "provider_quota_exhausted", 1),
        (
            _fault(401, {"code": "not_authenticated", "message": "no"}),
            502,
            "provider_auth_failed",
            1,
        ),
        (
            _fault(500, {"code": "internal_error", "message": "boom"}, times=2),
            502,
            "upstream_error",
            2,
        ),
        (_fault(200, "<html>oops</html>"), 502, "upstream_error", 1),
        # Recraft's errors page: some bodies are plain text
        (_plain(400, "size 1000x1000 is not supported"), 400, "invalid_request_error", 1),
        (_plain(400, "the prompt contains NSFW content"), 400, "content_policy_violation", 1),
        (_plain(404, "404 page not found"), 404, "model_not_found", 1),
    ],
)
def test_recrafts_error_bodies_end_as_the_right_error(
    gw: RunningGateway,
    emu: RecraftEmulator,
    fault: dict[str, Any],
    status: int,
    code: str,
    submits: int,
) -> None:
    emu.add_faults([fault])
    resp = generate(gw)
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert code in (error["code"], error["type"]), error
    assert emu.stats()["requests"]["generate"] == submits
    if fault.get("headers"):  # plain text: its words are the message
        assert fault["body"] in error["message"]


def test_the_moderation_marker_is_a_content_policy_violation(
    gw: RunningGateway, emu: RecraftEmulator
) -> None:
    resp = generate(gw, prompt="a [moderate] scene")
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == ("content_policy_violation", "recraft")
    assert emu.stats()["submissions"] == 0


def test_a_rate_limit_is_retried_after_recrafts_hint(
    gw: RunningGateway, emu: RecraftEmulator
) -> None:
    emu.scenario("rate_limited")
    resp = generate(gw)
    assert resp.status_code == 200, resp.text  # retried after Retry-After: 1
    assert emu.stats()["requests"]["generate"] == 2 and emu.stats()["submissions"] == 1


def test_a_wrong_key_ends_as_provider_auth_failed(emu: RecraftEmulator, tmp_path: Path) -> None:
    settings = {
        **provider_settings(CONTRACTS["recraft"], emu),
        "recraft_api_key": "recraft-wrong-key-1234",
    }
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "RECRAFT_API_KEY" in error["message"]
    assert "wrong-key" not in resp.text and emu.stats()["auth_failures"] == 1


# --- where results come from --------------------------------------------------------------------


def test_b64_json_answers_need_no_download(emu: RecraftEmulator, tmp_path: Path) -> None:
    settings = {
        **provider_settings(CONTRACTS["recraft"], emu),
        "recraft_response_format": "b64_json",
    }
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway, response_format="b64_json", output_format="webp")
    assert resp.status_code == 200, resp.text
    assert decoded(resp.json()["data"][0]["b64_json"]).format == "WEBP"
    [fields] = sent(emu)
    assert (fields["response_format"], fields["image_format"]) == ("b64_json", "webp")
    assert emu.stats()["results_served"] == 0


def test_an_untrusted_image_host_is_not_fetched(emu: RecraftEmulator, tmp_path: Path) -> None:
    settings = {**provider_settings(CONTRACTS["recraft"], emu), "recraft_trusted_hosts": []}
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert UNKNOWN_OUTCOME in error["message"] and "RECRAFT_TRUSTED_HOSTS" in error["message"]
    assert emu.stats()["submissions"] == 1 and emu.stats()["results_served"] == 0


def test_an_expired_result_url_is_an_unknown_outcome_never_sent_again(tmp_path: Path) -> None:
    with RecraftEmulator(api_key=RECRAFT_TEST_KEY, url_ttl=-60) as expired:
        settings = provider_settings(CONTRACTS["recraft"], expired)
        with serve_gateway(tmp_path, **settings) as gateway:
            resp = generate(gateway)
        stats = expired.stats()
    assert resp.status_code == 502, resp.text
    assert "HTTP 403" in resp.json()["error"]["message"]
    assert stats["submissions"] == 1 and stats["requests"]["result"] == 1


def test_a_fake_image_from_the_image_host_is_refused(
    gw: RunningGateway, emu: RecraftEmulator
) -> None:
    emu.add_faults([{"match": "result", "image": "svg"}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert resp.json()["error"]["code"] == "invalid_image_output"


# --- the emulator on its own --------------------------------------------------------------------


@pytest.fixture(scope="module")
def lenient() -> Iterator[RecraftEmulator]:
    with RecraftEmulator(api_key=RECRAFT_TEST_KEY) as emulator:
        yield emulator


def _post(
    emu: RecraftEmulator, body: dict[str, Any], key: str = RECRAFT_TEST_KEY
) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(f"{emu.base_url}/images/generations", json=body, headers=headers)


def test_vector_models_answer_svg(lenient: RecraftEmulator) -> None:
    resp = _post(lenient, {"prompt": "a logo", "model": "recraftv4_1_vector"})
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["credits"] == 80
    image = httpx.get(answer["data"][0]["url"])
    assert image.headers["content-type"] == "image/svg+xml" and image.content.startswith(b"<svg")


def test_what_a_model_ignores_is_ignored_or_refused_when_strict(
    lenient: RecraftEmulator, emu: RecraftEmulator
) -> None:
    body = {"prompt": "a fox", "model": "recraftv4", "style": "realistic_image", "foo": 1}
    assert _post(lenient, body).status_code == 200
    assert lenient.stats()["silently_ignored"] == 2
    refused = _post(emu, body)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_parameter"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"prompt": "a", "model": "recraftv4", "size": "1820x1024"}, "size"),
        ({"prompt": "a", "model": "recraftv3", "size": "16:9"}, None),  # w:h from the list
        ({"prompt": "a", "n": 7}, "n:"),
        ({"prompt": "x" * 1001, "model": "recraftv2"}, "prompt"),
        ({"prompt": "a", "model": "recraftv9"}, "model"),
    ],
)
def test_the_emulator_validates_as_recraft_does(
    lenient: RecraftEmulator, body: dict[str, Any], says: str | None
) -> None:
    resp = _post(lenient, body)
    if says is None:
        assert resp.status_code == 200, resp.text
        return
    assert resp.status_code == 400, resp.text
    assert resp.json()["message"].startswith(says)


def test_keys_are_checked_and_never_echoed(lenient: RecraftEmulator) -> None:
    resp = _post(lenient, {"prompt": "a"}, key="wrong-key-123456")
    assert resp.status_code == 401 and "wrong-key" not in resp.text
    # Recraft's errors page: these two answer text/plain
    assert (resp.headers["content-type"], resp.text) == (
        "text/plain; charset=utf-8",
        "request unauthorized",
    )
    headers = {"authorization": f"Bearer {RECRAFT_TEST_KEY}"}
    missing = httpx.post(f"{lenient.base_url}/images/generatons", json={}, headers=headers)
    assert (missing.status_code, missing.text) == (404, "404 page not found")


def test_the_rate_limit_is_a_429_with_a_retry_hint() -> None:
    with RecraftEmulator(api_key=RECRAFT_TEST_KEY, rate_limit=1) as limited:
        first = _post(limited, {"prompt": "a"})
        second = _post(limited, {"prompt": "a"})
    assert first.status_code == 200, first.text
    assert second.status_code == 429 and int(second.headers["retry-after"]) >= 1


# --- pure translation ---------------------------------------------------------------------


def test_to_vendor_always_names_the_model_and_sends_only_what_was_asked() -> None:
    task = ImageTask(provider="recraft", model="recraftv4_1", prompt="a fox", aspect_ratio="9:16")
    assert translate.to_vendor(task, MODELS["recraftv4_1"], "url") == {
        "prompt": "a fox",
        "model": "recraftv4_1",
        "n": 1,
        "response_format": "url",
        "size": "768x1344",
    }


def test_credits_become_the_charge_in_usd() -> None:
    item = {"image_id": "i", "b64_json": base64.b64encode(png((8, 8))).decode()}
    answer = translate.from_vendor({"created": 1, "credits": 70, "data": [item, item]}, "recraft")
    assert answer.result.charge is not None
    assert (answer.result.charge.usd, answer.result.charge.credits) == (0.07, 70)
