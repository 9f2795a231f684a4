"""The Luma adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating through the gateway (sizes as Luma's ratios, `format`, the reference
fields as URLs), the edit upload refused with how to edit instead, the gateway's 400s, each
failure form (a submission's refusals, a `failed` generation, Luma's `detail` bodies, expired and
untrusted result files), the DELETE that stops a generation nobody waits for, and the
emulator's own rules.

Servers: the real gateway and the Luma emulator on loopback (`tests/contract/harness.py`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from emulators.luma import LumaEmulator
from image_gateway.errors import UNKNOWN_OUTCOME
from image_gateway.providers.luma import translate
from image_gateway.providers.luma.models import MODELS
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.providers.support import decoded, fetched, provider_fixtures

LUMA_TEST_KEY = "luma-test-canary-7d1f3b9e2a"
PHOTON = "luma/photon-1"
REF = "https://example.com/in.png"


emu, gw, _reset, sdk = provider_fixtures(
    "luma", lambda: LumaEmulator(api_key=LUMA_TEST_KEY, strict=True, generation_seconds=0.05)
)


def settings_for(emulator: LumaEmulator, **extra: Any) -> dict[str, Any]:
    return {**provider_settings(CONTRACTS["luma"], emulator), **extra}


def submissions(emu: LumaEmulator) -> list[dict[str, Any]]:
    return [r["fields"] for r in emu.requests() if r["path"].endswith("/generations/image")]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    body.setdefault("prompt", "a lighthouse")
    body.setdefault("model", PHOTON)
    with gw.client() as http:
        return http.post("/v1/images/generations", json=body)


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_a_size_as_lumas_ratio(sdk: openai.OpenAI, emu: LumaEmulator) -> None:
    result = sdk.images.generate(
        model=PHOTON,
        prompt="a fox",
        n=2,
        size="1024x768",  # 4:3, one of Luma's ratios
        response_format="b64_json",
        extra_body={"output_format": "png"},
    )
    assert len(result.data) == 2
    image = decoded(result.data[0].b64_json)
    assert image.format == "PNG" and abs(image.size[0] / image.size[1] - 4 / 3) < 0.02
    assert (
        submissions(emu)
        == [{"model": "photon-1", "prompt": "a fox", "aspect_ratio": "4:3", "format": "png"}] * 2
    )
    stats = emu.stats()
    assert stats["submissions"] == 2 and stats["files_served"] == 2
    assert stats["file_requests_with_key"] == 0 and stats["requests"]["poll"] >= 2


def test_sdk_url_answers_are_the_gateways_stored_images(
    sdk: openai.OpenAI, emu: LumaEmulator
) -> None:
    result = sdk.images.generate(
        model=PHOTON,
        prompt="a fox",
        response_format="url",
        extra_body={"aspect_ratio": "1:1", "output_format": "png"},
    )
    image = fetched(result.data[0].url)
    assert (image.format, image.size) == ("PNG", (992, 992))
    assert emu.stats()["files_served"] == 1


def test_references_go_to_luma_as_urls(sdk: openai.OpenAI, emu: LumaEmulator) -> None:
    refs = {
        "modify_image_ref": {"url": REF, "weight": 0.9},
        "style_ref": [{"url": "https://example.com/style.jpg"}],
        "character_ref": {"identity0": {"images": ["https://example.com/me.jpg"]}},
    }
    result = sdk.images.generate(
        model="luma/photon-flash-1",
        prompt="make it night",
        extra_body={"aspect_ratio": "21:9", "provider_params": refs},
    )
    assert result.data[0].b64_json or result.data[0].url
    [fields] = submissions(emu)
    assert fields == {
        "model": "photon-flash-1",
        "prompt": "make it night",
        "aspect_ratio": "21:9",
        **refs,
    }


def test_an_uploaded_edit_is_refused_saying_how_to_edit(
    sdk: openai.OpenAI, emu: LumaEmulator
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.edit(model=PHOTON, prompt="p", image=("in.png", png((64, 64)), "image/png"))
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "image" and "modify_image_ref" in error["message"]
    assert emu.stats()["requests"]["submit"] == 0


def test_the_catalogue_lists_photon(gw: RunningGateway) -> None:
    with gw.client() as http:
        providers = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
    cards = {card["id"]: card for card in providers["luma"]["models"]}
    assert set(cards) == set(MODELS) and providers["luma"]["default_model"] == "photon-1"
    card = cards["photon-1"]
    assert card["edits"] is False and card["seed"] is False and card["n"]["per_upstream_call"] == 1
    assert card["provider_params"] == [
        "image_ref",
        "style_ref",
        "character_ref",
        "modify_image_ref",
    ]
    assert card["provider_params_schema"]["image_ref"]["maxItems"] == 4


# --- the gateway's own 400s ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"size": "1536x1024"}, "size"),  # 3:2 is not Luma's
        ({"aspect_ratio": "5:4"}, "aspect_ratio"),
        ({"size": "1024x1024", "aspect_ratio": "1:1"}, "aspect_ratio"),
        ({"seed": 3}, "seed"),
        ({"negative_prompt": "fog"}, "negative_prompt"),
        ({"quality": "high"}, "quality"),
        ({"output_format": "webp"}, "output_format"),
        (
            {"provider_params": {"modify_image_ref": {"url": "data:image/png;base64,AAAA"}}},
            "provider_params.modify_image_ref",
        ),
        (
            {"provider_params": {"modify_image_ref": {"url": REF, "weight": 2}}},
            "provider_params.modify_image_ref",
        ),
        (
            {"provider_params": {"modify_image_ref": {"url": "https://u:p@example.com/a.png"}}},
            "provider_params.modify_image_ref",
        ),
        ({"provider_params": {"image_ref": {"url": REF}}}, "provider_params.image_ref"),
        ({"provider_params": {"image_ref": [{"url": REF}] * 5}}, "provider_params.image_ref"),
        ({"provider_params": {"style_ref": [{"uri": REF}]}}, "provider_params.style_ref"),
        (
            {"provider_params": {"character_ref": {"images": [REF]}}},
            "provider_params.character_ref",
        ),
        (
            {"provider_params": {"callback_url": "https://example.com/hook"}},
            "provider_params.callback_url",
        ),
    ],
)
def test_what_luma_cannot_honour_is_refused_before_anything_is_sent(
    gw: RunningGateway, emu: LumaEmulator, body: dict[str, Any], param: str
) -> None:
    resp = generate(gw, **body)
    assert resp.status_code == 400, resp.text[:300]
    assert resp.json()["error"]["param"] == param, resp.text[:300]
    assert emu.stats()["requests"]["submit"] == 0


# --- Luma's failures ------------------------------------------------------------------------------


def test_a_moderated_prompt_is_refused_unbilled(gw: RunningGateway, emu: LumaEmulator) -> None:
    resp = generate(gw, prompt="[moderate] a fox")
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == ("content_policy_violation", "luma")
    assert emu.stats()["submissions"] == 0


@pytest.mark.parametrize(
    ("marker", "status", "code"),
    [
        ("[moderate-output]", 400, "content_policy_violation"),
        ("[fail]", 502, "generation_failed"),
    ],
)
def test_a_failed_generation_ends_once_and_is_never_sent_again(
    gw: RunningGateway, emu: LumaEmulator, marker: str, status: int, code: str
) -> None:
    resp = generate(gw, prompt=f"a fox {marker}")
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code
    assert resp.headers["x-should-retry"] == "false"
    assert emu.stats()["submissions"] == 1


@pytest.mark.parametrize(
    ("fault", "status", "code", "param"),
    [
        (
            {
                "status": 422,
                "body": {
                    "detail": [
                        {
                            "type": "literal_error",
                            "loc": ["body", "format"],
                            "msg": "Input should be 'jpg' or 'png'",
                        }
                    ]
                },
            },
            400,
            "literal_error",
            "output_format",
        ),
        (
            {
                "status": 400,
                "body": {
                    "detail": [
                        {
                            "type": "value_error",
                            "loc": ["body", "image_ref", 0, "url"],
                            "msg": "could not fetch the image",
                        }
                    ]
                },
            },
            400,
            "value_error",
            "provider_params.image_ref",
        ),
        ({"status": 401, "body": {"detail": "Invalid API key"}}, 502, "provider_auth_failed", None),
        (
            {"status": 402, "body": {"detail": "Insufficient credits"}},
            402,
            "provider_quota_exhausted",
            None,
        ),
        (
            {"status": 400, "body": {"detail": "Insufficient credits to run this generation"}},
            402,
            "provider_quota_exhausted",
            None,
        ),
        (
            {"status": 400, "body": {"error": {"message": "prompt flagged by moderation"}}},
            400,
            "content_policy_violation",
            None,
        ),
        ({"status": 500, "times": 10}, 502, "upstream_error", None),
    ],
)
def test_lumas_error_bodies_end_as_the_right_error(
    gw: RunningGateway,
    emu: LumaEmulator,
    fault: dict[str, Any],
    status: int,
    code: str,
    param: str | None,
) -> None:
    emu.add_faults([{"match": "submit", **fault}])
    resp = generate(gw)
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert code in (error["code"], error["type"]), error
    if param is not None:
        assert error["param"] == param
    assert LUMA_TEST_KEY not in resp.text


def test_a_rate_limit_is_a_429_with_lumas_retry_hint(gw: RunningGateway, emu: LumaEmulator) -> None:
    emu.add_faults(
        [{"match": "submit", "status": 429, "headers": {"retry-after": "9"}, "times": 5}]
    )
    resp = generate(gw)
    assert resp.status_code == 429, resp.text
    assert int(resp.headers["retry-after"]) >= 9


def test_polls_that_fail_are_retried_until_the_generation_ends(
    gw: RunningGateway, emu: LumaEmulator
) -> None:
    emu.add_faults([{"match": "poll", "status": 503, "times": 2}])
    resp = generate(gw)
    assert resp.status_code == 200, resp.text
    assert emu.stats()["submissions"] == 1


def test_a_generation_luma_no_longer_knows_is_lost(gw: RunningGateway, emu: LumaEmulator) -> None:
    emu.add_faults(
        [{"match": "poll", "status": 404, "body": {"detail": "Generation not found"}, "times": 99}]
    )
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert resp.json()["error"]["code"] == "task_not_found"
    assert emu.stats()["submissions"] == 1 and emu.stats()["requests"]["submit"] == 1


def test_a_wrong_key_names_the_variable(emu: LumaEmulator, tmp_path: Path) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, luma_api_key="wrong-key-1234")) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "LUMA_API_KEY" in error["message"]
    assert "wrong-key" not in resp.text and emu.stats()["auth_failures"] == 1


def test_a_generation_stopped_by_its_deadline_is_deleted(emu: LumaEmulator, tmp_path: Path) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, request_deadline_seconds=1.5)) as gateway:
        resp = generate(gateway, prompt="a fox [never]")
    assert resp.status_code == 504, resp.text
    for _ in range(40):  # the delete runs as the request ends (at most 3 s)
        if emu.stats()["deletes"]:
            break
        time.sleep(0.1)
    stats = emu.stats()
    assert stats["deletes"] == 1 and stats["requests"]["delete"] == 1


def test_an_expired_result_is_an_unknown_outcome(tmp_path: Path) -> None:
    with LumaEmulator(api_key=LUMA_TEST_KEY, generation_seconds=0.05, retention=-60) as expired:
        with serve_gateway(tmp_path, **settings_for(expired)) as gateway:
            resp = generate(gateway)
        stats = expired.stats()
    assert resp.status_code == 502, resp.text
    assert "HTTP 403" in resp.json()["error"]["message"]
    assert stats["submissions"] == 1 and stats["files_served"] == 0


def test_files_on_an_untrusted_host_are_not_fetched(emu: LumaEmulator, tmp_path: Path) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, luma_trusted_hosts=[])) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    assert UNKNOWN_OUTCOME in resp.json()["error"]["message"]
    assert emu.stats()["submissions"] == 1 and emu.stats()["files_served"] == 0


def test_a_fake_image_file_is_refused(gw: RunningGateway, emu: LumaEmulator) -> None:
    emu.add_faults([{"match": "file", "image": "html"}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert resp.json()["error"]["code"] == "invalid_image_output"


# --- pure translations ----------------------------------------------------------------------------


def test_generations_read_as_outcomes() -> None:
    pending = translate.parse_poll({"id": "g", "state": "dreaming"}, "g", [])
    assert getattr(pending, "status", None) == "dreaming"
    done = translate.parse_poll(
        {"id": "g", "state": "completed", "assets": {"image": "https://cdn/x.jpg"}}, "g", []
    )
    assert getattr(done, "outputs")[0].url == "https://cdn/x.jpg"
    with pytest.raises(Exception, match="without an image"):
        translate.parse_poll({"id": "g", "state": "completed", "assets": {}}, "g", [])
    assert translate.size_ratio((2048, 878)) == "21:9" and translate.size_ratio((100, 90)) is None


# --- the emulator on its own --------------------------------------------------------------------


def call(emulator: LumaEmulator, body: Any, key: str = LUMA_TEST_KEY) -> httpx.Response:
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
        return http.post(
            "/generations/image", json=body, headers={"Authorization": f"Bearer {key}"}
        )


def test_the_emulator_validates_like_pydantic(emu: LumaEmulator) -> None:
    bad = call(emu, {"model": "photon-9", "prompt": "p"})
    extra = call(emu, {"model": "photon-1", "prompt": "p", "seed": 1})
    data_uri = call(
        emu, {"model": "photon-1", "modify_image_ref": {"url": "data:image/png;base64,AA"}}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "model"]
    assert extra.status_code == 422 and extra.json()["detail"][0]["type"] == "extra_forbidden"
    assert data_uri.status_code == 422 and data_uri.json()["detail"][0]["type"] == "url_scheme"


def test_the_emulator_keeps_keys_and_deletes(emu: LumaEmulator) -> None:
    with httpx.Client(base_url=emu.base_url, timeout=10) as http:
        missing = http.post("/generations/image", json={"model": "photon-1"})
    created = call(emu, {"model": "photon-1", "prompt": "a fox [never]"})
    assert missing.status_code == 401 and created.status_code == 201
    generation = created.json()
    assert (
        generation["state"] in ("queued", "dreaming") and generation["generation_type"] == "image"
    )
    headers = {"Authorization": f"Bearer {LUMA_TEST_KEY}"}
    with httpx.Client(base_url=emu.base_url, timeout=10) as http:
        deleted = http.delete(f"/generations/{generation['id']}", headers=headers)
        gone = http.get(f"/generations/{generation['id']}", headers=headers)
    assert deleted.status_code == 204 and gone.status_code == 404
