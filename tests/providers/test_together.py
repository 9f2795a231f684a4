"""The Together adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating and editing (Kontext) through the gateway with Together's own fields,
the FLUX ids passed through, the gateway's 400s for what a model cannot honour, each error form
Together answers, `url` results from the result host (trusted, expired, untrusted), malformed
answers, and the emulator's own rules (keys, strict mode, signed URLs, its rate limit).

Servers: the real gateway and the Together emulator on loopback (`tests/contract/harness.py`).
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

from emulators.together import TogetherEmulator
from image_gateway.errors import UNKNOWN_OUTCOME
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.together import translate
from image_gateway.providers.together.models import MODELS, spec_for
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.providers import support
from tests.providers.support import decoded, fetched, provider_fixtures

TOGETHER_TEST_KEY = "together-test-canary-5e2b8d1c7a94"
SCHNELL = "together/black-forest-labs/FLUX.1-schnell"
KONTEXT = "together/black-forest-labs/FLUX.1-kontext-pro"


emu, gw, _reset, sdk = provider_fixtures(
    "together", lambda: TogetherEmulator(api_key=TOGETHER_TEST_KEY, strict=True)
)


def settings_for(emulator: TogetherEmulator, **extra: Any) -> dict[str, Any]:
    return {**provider_settings(CONTRACTS["together"], emulator), **extra}


def sent(emu: TogetherEmulator) -> list[dict[str, Any]]:
    return [record["fields"] for record in emu.requests() if record["path"].startswith("/v1/")]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    return support.generate(gw, SCHNELL, **body)


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_with_togethers_own_fields(sdk: openai.OpenAI, emu: TogetherEmulator) -> None:
    result = sdk.images.generate(
        model=SCHNELL,
        prompt="a fox",
        n=2,
        size="768x512",
        response_format="b64_json",
        extra_body={"seed": 7, "output_format": "png", "provider_params": {"steps": 4}},
    )
    assert len(result.data) == 2
    image = decoded(result.data[0].b64_json)
    assert (image.format, image.size) == ("PNG", (768, 512))
    [fields] = sent(emu)
    assert fields == {
        "model": "black-forest-labs/FLUX.1-schnell",
        "prompt": "a fox",
        "n": 2,
        "response_format": "base64",
        "width": 768,
        "height": 512,
        "seed": 7,
        "output_format": "png",
        "steps": 4,
    }
    assert emu.stats()["submissions"] == 1


def test_sdk_url_answers_are_the_gateways_stored_images(
    sdk: openai.OpenAI, emu: TogetherEmulator
) -> None:
    made = sdk.images.generate(model=SCHNELL, prompt="a fox", size="512x384", response_format="url")
    edited = sdk.images.edit(
        model=KONTEXT,
        prompt="make it night",
        image=("in.png", png((96, 64)), "image/png"),
        response_format="url",
    )
    assert (fetched(made.data[0].url).format, fetched(made.data[0].url).size) == (
        "JPEG",
        (512, 384),
    )
    assert fetched(edited.data[0].url).format == "JPEG"
    assert [f["response_format"] for f in sent(emu)] == ["base64"] * 2  # TOGETHER_RESPONSE_FORMAT


def test_n_beyond_four_is_fanned_out_with_consecutive_seeds(
    gw: RunningGateway, emu: TogetherEmulator
) -> None:
    resp = generate(gw, n=6, seed=100)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["data"]) == 6
    calls = sorted(sent(emu), key=lambda f: f["seed"])
    assert [(c["n"], c["seed"]) for c in calls] == [(4, 100), (2, 104)]


def test_sdk_edits_with_kontext_sending_the_image_as_a_data_uri(
    sdk: openai.OpenAI, emu: TogetherEmulator
) -> None:
    result = sdk.images.edit(
        model=KONTEXT,
        prompt="make it night",
        image=("in.png", png((96, 64)), "image/png"),
        response_format="b64_json",
        extra_body={"aspect_ratio": "3:2", "provider_params": json.dumps({"guidance_scale": 2.5})},
    )
    image = decoded(result.data[0].b64_json)
    assert image.format == "JPEG" and abs(image.size[0] / image.size[1] - 1.5) < 0.02
    [fields] = sent(emu)
    assert fields["model"] == "black-forest-labs/FLUX.1-kontext-pro"
    assert fields["guidance_scale"] == 2.5 and (fields["width"], fields["height"]) == (1232, 816)
    data = fields["image_url"]
    assert isinstance(data, str) and data.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(data.partition(",")[2]))).size == (96, 64)


def test_flux_ids_not_listed_are_passed_through(gw: RunningGateway, emu: TogetherEmulator) -> None:
    resp = generate(gw, model="together/black-forest-labs/FLUX.1-krea-dev", size="512x512")
    assert resp.status_code == 200, resp.text
    [fields] = sent(emu)
    assert fields["model"] == "black-forest-labs/FLUX.1-krea-dev"
    kontext = spec_for("black-forest-labs/FLUX.1-Kontext-Next")
    assert kontext is not None and kontext.edits
    assert spec_for("stabilityai/stable-diffusion-xl-base-1.0") is None


def test_the_catalogue_lists_the_models_and_their_params(gw: RunningGateway) -> None:
    with gw.client() as http:
        providers = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
    together = providers["together"]
    cards = {card["id"]: card for card in together["models"]}
    assert set(cards) == set(MODELS)
    schnell = cards["black-forest-labs/FLUX.1-schnell"]
    assert schnell["provider_params"] == ["steps", "disable_safety_checker"]
    assert schnell["provider_params_schema"]["steps"]["maximum"] == 50
    assert cards["black-forest-labs/FLUX.1-kontext-max"]["edits"] is True
    assert schnell["negative_prompt"] is False and schnell["output_formats"] == ["jpeg", "png"]


# --- the gateway's own 400s, before anything is sent ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"negative_prompt": "fog"}, "negative_prompt"),
        ({"quality": "high"}, "quality"),
        ({"style": "photographic"}, "style"),
        ({"output_format": "webp"}, "output_format"),
        ({"size": "2048x1024"}, "size"),
        ({"size": "32x512"}, "size"),
        ({"size": "1024x1024", "aspect_ratio": "1:1"}, "aspect_ratio"),
        ({"provider_params": {"steps": 20}}, "provider_params.steps"),  # schnell: 1-12
        ({"provider_params": {"steps": 4.5}}, "provider_params.steps"),
        ({"provider_params": {"disable_safety_checker": "yes"}}, "provider_params"),
        ({"provider_params": {"guidance_scale": 3}}, "provider_params.guidance_scale"),
        ({"provider_params": {"image_loras": []}}, "provider_params.image_loras"),
        ({"model": "together/black-forest-labs/FLUX.1-dev", "n": 11}, "n"),
        (
            {"model": "together/black-forest-labs/FLUX.1-dev", "provider_params": {"steps": 51}},
            "provider_params.steps",
        ),
    ],
)
def test_what_a_model_cannot_honour_is_refused_before_anything_is_sent(
    gw: RunningGateway, emu: TogetherEmulator, body: dict[str, Any], param: str
) -> None:
    resp = generate(gw, **body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"].startswith(param), resp.text
    assert emu.stats()["requests"]["generate"] == 0


def test_edits_a_model_cannot_make_are_refused(gw: RunningGateway, emu: TogetherEmulator) -> None:
    image = {"image": ("in.png", png((64, 64)), "image/png")}
    with gw.client() as http:
        schnell = http.post("/v1/images/edits", data={"model": SCHNELL, "prompt": "p"}, files=image)
        masked = http.post(
            "/v1/images/edits",
            data={"model": KONTEXT, "prompt": "p"},
            files={**image, "mask": ("m.png", png((64, 64)), "image/png")},
        )
    assert schnell.status_code == 400 and schnell.json()["error"]["param"] == "model"
    assert masked.status_code == 400 and masked.json()["error"]["param"] == "mask"
    assert emu.stats()["requests"]["generate"] == 0


# --- Together's error answers --------------------------------------------------------------------


def _error(status: int, message: str, kind: str, param: Any = None, code: Any = None) -> Any:
    return {
        "match": "generate",
        "status": status,
        "body": {"error": {"message": message, "type": kind, "param": param, "code": code}},
    }


@pytest.mark.parametrize(
    ("fault", "status", "code", "param"),
    [
        (
            _error(400, "width must be a multiple of 8", "invalid_request_error", "width"),
            400,
            "invalid_request_error",
            "size",
        ),
        (
            _error(422, "steps too high", "invalid_request_error", "steps"),
            400,
            "invalid_request_error",
            "provider_params.steps",
        ),
        (
            _error(
                401, "Invalid API key provided", "invalid_request_error", None, "invalid_api_key"
            ),
            502,
            "provider_auth_failed",
            None,
        ),
        (
            _error(
                404,
                "Unable to access model",
                "invalid_request_error",
                "model",
                "model_not_available",
            ),
            404,
            "model_not_available",  # Together's own code, passed on
            None,
        ),
        (
            _error(402, "Credit limit exceeded", "credit_limit", None, "credit_limit"),
            402,
            "provider_quota_exhausted",
            None,
        ),
        (
            _error(400, "Your account has reached its credit limit", "invalid_request_error"),
            402,
            "provider_quota_exhausted",
            None,
        ),
        (
            _error(400, "Image was flagged as NSFW", "invalid_request_error"),
            400,
            "content_policy_violation",
            None,
        ),
        (
            {**_error(503, "The server is overloaded", "server_error"), "times": 10},
            502,
            "upstream_error",
            None,
        ),
    ],
)
def test_togethers_error_bodies_end_as_the_right_error(
    gw: RunningGateway,
    emu: TogetherEmulator,
    fault: dict[str, Any],
    status: int,
    code: str,
    param: str | None,
) -> None:
    emu.add_faults([fault])
    resp = generate(gw)
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert code in (error["code"], error["type"]), error
    if param is not None:
        assert error["param"] == param
    if status == 404:
        assert "TOGETHER_BASE_URL" in error["message"]
    assert TOGETHER_TEST_KEY not in resp.text


def test_the_emulators_moderation_is_a_content_policy_violation(
    gw: RunningGateway, emu: TogetherEmulator
) -> None:
    resp = generate(gw, prompt="[moderate] a fox")
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == ("content_policy_violation", "together")
    assert emu.stats()["submissions"] == 0


def test_a_rate_limit_is_a_429_with_togethers_retry_hint(
    gw: RunningGateway, emu: TogetherEmulator
) -> None:
    emu.add_faults(
        [
            {
                **_error(429, "rate limit", "rate_limit_exceeded"),
                "headers": {"retry-after": "7"},
                "times": 5,
            }
        ]
    )
    resp = generate(gw)
    assert resp.status_code == 429, resp.text
    assert int(resp.headers["retry-after"]) >= 7


def test_a_wrong_key_is_provider_auth_failed_naming_the_variable(
    emu: TogetherEmulator, tmp_path: Path
) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, together_api_key="wrong-key-1234")) as gw:
        resp = generate(gw)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "TOGETHER_API_KEY" in error["message"]
    assert emu.stats()["auth_failures"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"id": "x", "object": "list", "data": []},
        {"id": "x", "object": "list", "data": [{"index": 0}]},
        {"id": "x", "object": "list", "data": [{"index": 0, "b64_json": "bm90IGFuIGltYWdl"}]},
        ["not", "an", "object"],
    ],
)
def test_a_malformed_answer_is_an_unknown_outcome(
    gw: RunningGateway, emu: TogetherEmulator, body: Any
) -> None:
    emu.add_faults([{"match": "generate", "status": 200, "body": body}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert resp.headers["x-should-retry"] == "false"
    assert emu.stats()["requests"]["generate"] == 1


# --- url results ------------------------------------------------------------------------------


def test_url_results_are_downloaded_at_once_without_the_key(
    emu: TogetherEmulator, tmp_path: Path
) -> None:
    settings = settings_for(emu, together_response_format="url")
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway, n=3, output_format="png")
    assert resp.status_code == 200, resp.text
    assert all(decoded(item["b64_json"]).format == "PNG" for item in resp.json()["data"])
    assert sent(emu)[0]["response_format"] == "url"
    stats = emu.stats()
    assert stats["results_served"] == 3 and stats["result_requests_with_key"] == 0


def test_an_untrusted_result_host_is_not_fetched(emu: TogetherEmulator, tmp_path: Path) -> None:
    settings = settings_for(emu, together_response_format="url", together_trusted_hosts=[])
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert UNKNOWN_OUTCOME in error["message"] and "TOGETHER_TRUSTED_HOSTS" in error["message"]
    assert emu.stats()["submissions"] == 1 and emu.stats()["results_served"] == 0


def test_an_expired_result_url_is_an_unknown_outcome_never_sent_again(tmp_path: Path) -> None:
    with TogetherEmulator(api_key=TOGETHER_TEST_KEY, url_ttl=-60) as expired:
        settings = settings_for(expired, together_response_format="url")
        with serve_gateway(tmp_path, **settings) as gateway:
            resp = generate(gateway)
        stats = expired.stats()
    assert resp.status_code == 502, resp.text
    assert "HTTP 403" in resp.json()["error"]["message"]
    assert stats["submissions"] == 1 and stats["requests"]["result"] == 1


def test_a_fake_image_from_the_result_host_is_refused(
    emu: TogetherEmulator, tmp_path: Path
) -> None:
    emu.add_faults([{"match": "result", "image": "html"}])
    with serve_gateway(tmp_path, **settings_for(emu, together_response_format="url")) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    assert resp.json()["error"]["code"] == "invalid_image_output"


# --- pure translations ----------------------------------------------------------------------------


def test_answers_are_read_in_index_order_and_data_uris_accepted() -> None:
    a, b = png((8, 8)), png((16, 16))
    payload = {
        "data": [
            {"index": 1, "b64_json": base64.b64encode(b).decode(), "type": "b64_json"},
            {"index": 0, "b64_json": "data:image/png;base64," + base64.b64encode(a).decode()},
        ]
    }
    answer = translate.from_vendor(payload, "together")
    assert [image.data for image in answer.result.images] == [a, b]


def test_togethers_params_are_named_in_the_gateways_terms() -> None:
    assert translate.gateway_param("height") == "size"
    assert translate.gateway_param("image_url") == "image"
    assert translate.gateway_param("guidance_scale") == "provider_params.guidance_scale"
    detail = ErrorDetail("disable_safety_checker must be a boolean", "invalid_request_error")
    assert translate.refusal(400, detail, "together") is None  # no moderation word in it


# --- the emulator on its own --------------------------------------------------------------------


def call(emulator: TogetherEmulator, body: Any, key: str = TOGETHER_TEST_KEY) -> httpx.Response:
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
        return http.post(
            "/images/generations", json=body, headers={"Authorization": f"Bearer {key}"}
        )


@pytest.fixture(scope="module")
def lenient() -> Iterator[TogetherEmulator]:
    with TogetherEmulator(api_key=TOGETHER_TEST_KEY) as emulator:
        yield emulator


def test_unknown_fields_are_ignored_or_refused_when_strict(
    lenient: TogetherEmulator, emu: TogetherEmulator
) -> None:
    body = {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "p", "cfg": 3}
    assert call(lenient, body).status_code == 200
    strict = call(emu, body)
    assert strict.status_code == 400 and strict.json()["error"]["param"] == "cfg"


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": "black-forest-labs/FLUX.1-schnell"}, 400, "prompt"),
        ({"model": "acme/other", "prompt": "p"}, 404, "model"),
        (
            {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "p", "width": 4096},
            400,
            "width",
        ),
        ({"model": "black-forest-labs/FLUX.1-schnell", "prompt": "p", "steps": 13}, 400, "steps"),
        (
            {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "p", "image_url": "x"},
            400,
            "image_url",
        ),
        (
            {
                "model": "black-forest-labs/FLUX.1-kontext-pro",
                "prompt": "p",
                "image_url": "data:image/png;base64,AAAA",
            },
            400,
            "image_url",
        ),
    ],
)
def test_what_together_refuses_the_emulator_refuses(
    lenient: TogetherEmulator, body: dict[str, Any], status: int, param: str
) -> None:
    resp = call(lenient, body)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["param"] == param


def test_keys_are_checked_and_never_echoed(lenient: TogetherEmulator) -> None:
    body = {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "p"}
    with httpx.Client(base_url=lenient.base_url, timeout=10) as http:
        missing = http.post("/images/generations", json=body)
    wrong = call(lenient, body, key="tgp-not-the-key-9876")
    assert missing.status_code == 401 and wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key" and "not-the-key" not in wrong.text


def test_the_rate_limit_is_a_429_with_a_retry_hint() -> None:
    body = {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "p"}
    with TogetherEmulator(api_key=TOGETHER_TEST_KEY, rate_limit=1) as limited:
        first, second = call(limited, body), call(limited, body)
        stats = limited.stats()
    assert first.status_code == 200, first.text
    assert second.status_code == 429 and int(second.headers["retry-after"]) >= 1
    assert second.json()["error"]["type"] == "rate_limit_exceeded"
    assert stats["submissions"] == 1


def test_result_urls_are_signed(lenient: TogetherEmulator) -> None:
    body = {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "p", "width": 512}
    url = call(lenient, body).json()["data"][0]["url"]
    assert url.startswith(lenient.poll_base_url + "/imgproxy/")
    with httpx.Client(timeout=10) as http:
        good = http.get(url)
        altered = http.get(url.replace("&w=512&", "&w=1024&"))
    assert good.status_code == 200 and good.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(good.content)).size == (512, 1024)
    assert altered.status_code == 403
