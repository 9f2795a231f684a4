"""The Seedream adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating and editing through the gateway with Ark's own fields, the sizes and
rules checked before anything is sent, each of Ark's failure forms (its error codes, refusals
given with HTTP 200, quota, rate limit, expired result URLs), Volcengine's ids and base URL
form, and the pure translations.

Servers: the real gateway and the Seedream emulator on loopback (`tests/contract/harness.py`).
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.seedream import SeedreamEmulator
from image_gateway.errors import UNKNOWN_OUTCOME, ContentPolicyViolation, UpstreamError
from image_gateway.providers.seedream import translate
from image_gateway.providers.seedream.models import MODELS, lookup
from image_gateway.schemas import ImageTask
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.providers import support
from tests.providers.support import decoded, fetched, provider_fixtures

ARK_TEST_KEY = "ark-test-canary-5e1d9c7b3a"
V4 = "seedream-4-0-250828"


emu, gw, _reset, sdk = provider_fixtures(
    "seedream", lambda: SeedreamEmulator(api_key=ARK_TEST_KEY, strict=True)
)


def sent(emu: SeedreamEmulator) -> list[dict[str, Any]]:
    return [r["fields"] for r in emu.requests() if r["path"] == "/api/v3/images/generations"]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    return support.generate(gw, f"seedream/{V4}", **body)


def settings_for(emu: SeedreamEmulator, **extra: Any) -> dict[str, Any]:
    return {**provider_settings(CONTRACTS["seedream"], emu), **extra}


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_and_the_result_url_is_downloaded_without_the_key(
    sdk: openai.OpenAI, emu: SeedreamEmulator
) -> None:
    result = sdk.images.generate(
        model=f"seedream/{V4}",
        prompt="a fox",
        size="1920x1080",
        response_format="b64_json",
        extra_body={"provider_params": {"watermark": False}},
    )
    image = decoded(result.data[0].b64_json)
    assert (image.format, image.size) == ("JPEG", (1920, 1080))
    assert result.model_extra is not None
    assert result.model_extra["cost"] == {"usd": 0.03, "basis": "price_table"}
    [fields] = sent(emu)
    assert fields == {
        "model": V4,
        "prompt": "a fox",
        "response_format": "url",
        "size": "1920x1080",
        "watermark": False,
    }
    stats = emu.stats()
    assert (stats["submissions"], stats["results_served"]) == (1, 1)
    assert stats["result_requests_with_key"] == 0


def test_sdk_url_answers_are_the_gateways_stored_images(
    sdk: openai.OpenAI, emu: SeedreamEmulator
) -> None:
    made = sdk.images.generate(
        model=f"seedream/{V4}", prompt="a fox", size="1920x1080", response_format="url"
    )
    edited = sdk.images.edit(
        model=f"seedream/{V4}",
        prompt="make it night",
        image=("a.png", png((64, 48)), "image/png"),
        response_format="url",
    )
    made_image, edited_image = fetched(made.data[0].url), fetched(edited.data[0].url)
    assert (made_image.format, made_image.size) == ("JPEG", (1920, 1080))
    assert (edited_image.format, edited_image.size) == ("JPEG", (2048, 2048))
    assert emu.stats()["results_served"] == 2


def test_sdk_n_fans_out_one_image_per_call(sdk: openai.OpenAI, emu: SeedreamEmulator) -> None:
    result = sdk.images.generate(model=f"seedream/{V4}", prompt="two foxes", n=2)
    assert len(result.data) == 2
    assert emu.stats()["submissions"] == 2
    assert all("sequential_image_generation" not in f and "n" not in f for f in sent(emu))


def test_sdk_edits_with_reference_images_as_data_uris(
    sdk: openai.OpenAI, emu: SeedreamEmulator
) -> None:
    one = sdk.images.edit(
        model=f"seedream/{V4}", prompt="make it night", image=("a.png", png((64, 48)), "image/png")
    )
    two = sdk.images.edit(
        model="seedream/seedream-4-5-251128",
        prompt="put them together",
        image=[("a.png", png((64, 48)), "image/png"), ("b.png", png((32, 32)), "image/png")],
        extra_body={"aspect_ratio": "3:2"},
    )
    assert decoded(one.data[0].b64_json).size == (2048, 2048)  # Ark's default size
    assert decoded(two.data[0].b64_json).size == (2512, 1680)
    first, second = sent(emu)
    assert isinstance(first["image"], str)  # one image: a string, as the SDK sends it
    assert isinstance(second["image"], list) and len(second["image"]) == 2
    assert second["size"] == "2512x1680"


def test_seededit_keeps_the_input_images_size(sdk: openai.OpenAI, emu: SeedreamEmulator) -> None:
    result = sdk.images.edit(
        model="seedream/seededit-3-0-i2i-250628",
        prompt="add a hat",
        image=("a.png", png((320, 240)), "image/png"),
        extra_body={"seed": 7, "provider_params": json.dumps({"guidance_scale": 5.5})},
    )
    assert decoded(result.data[0].b64_json).size == (320, 240)
    [fields] = sent(emu)
    assert (fields["size"], fields["seed"], fields["guidance_scale"]) == ("adaptive", 7, 5.5)
    assert isinstance(fields["image"], str)  # one image, as a data URI
    assert fields["image"].startswith("data:image/png;base64,")


def test_the_catalogue_shows_each_models_rules(gw: RunningGateway) -> None:
    with gw.client() as http:
        providers = http.get("/v1/providers").json()
    [seedream] = [p for p in providers["data"] if p["id"] == "seedream"]
    cards = {m["id"]: m for m in seedream["models"]}
    assert set(cards) == set(MODELS)
    assert cards[V4]["provider_params_schema"]["resolution"]["enum"] == ["1K", "2K", "3K", "4K"]
    assert cards["seedream-3-0-t2i-250415"]["seed"] is True and cards[V4]["seed"] is False
    assert cards["seedream-5-0-260128"]["output_formats"] == ["jpeg", "png"]
    assert cards["seededit-3-0-i2i-250628"]["requires_input_image"] is True


# --- refused before anything is sent ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "says"),
    [
        ({"size": "1024x1024", "model": "seedream/seedream-4-5-251128"}, "size", "3,686,400"),
        ({"size": "4096x240"}, "size", "aspect ratio"),
        ({"size": "3000x500", "model": "seedream/seedream-3-0-t2i-250415"}, "size", "512-2048"),
        ({"aspect_ratio": "1:20"}, "aspect_ratio", "1:16 to 16:1"),
        ({"size": "2048x2048", "aspect_ratio": "1:1"}, "aspect_ratio", "not both"),
        (
            {"provider_params": {"resolution": "1K"}, "model": "seedream/seedream-4-5-251128"},
            "provider_params.resolution",
            "2K, 4K",
        ),
        (
            {"size": "2048x2048", "provider_params": {"resolution": "2K"}},
            "provider_params.resolution",
            "not both",
        ),
        ({"seed": 3}, "seed", "not supported"),
        ({"provider_params": {"guidance_scale": 3}}, "provider_params.guidance_scale", "accepted"),
        ({"provider_params": {"watermark": "no"}}, "provider_params.watermark", "true or false"),
        (
            {
                "provider_params": {"guidance_scale": 11},
                "model": "seedream/seedream-3-0-t2i-250415",
            },
            "provider_params.guidance_scale",
            "1 to 10",
        ),
        ({"seed": 2**31, "model": "seedream/seedream-3-0-t2i-250415"}, "seed", "2147483647"),
        ({"output_format": "webp"}, "output_format", "jpeg"),
        ({"negative_prompt": "fog"}, "negative_prompt", "not supported"),
        ({"style": "natural"}, "style", "not supported"),
        ({"model": "seedream/seededit-3-0-i2i-250628"}, "model", "input image"),
    ],
)
def test_what_a_model_cannot_honour_is_a_400_naming_it(
    gw: RunningGateway, emu: SeedreamEmulator, body: dict[str, Any], param: str, says: str
) -> None:
    resp = generate(gw, **body)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["param"] == param, error
    assert says in error["message"], error
    assert emu.stats()["requests"]["generate"] == 0


def test_an_edit_mask_is_refused(gw: RunningGateway, emu: SeedreamEmulator) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"model": f"seedream/{V4}", "prompt": "fill it"},
            files={
                "image": ("a.png", png((64, 64)), "image/png"),
                "mask": ("m.png", png((64, 64), "RGBA"), "image/png"),
            },
        )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == "mask"
    assert emu.stats()["requests"]["generate"] == 0


# --- Ark's failure forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "status", "code", "submissions"),
    [
        ("[moderate]", 400, "content_policy_violation", 0),  # input text, nothing made
        ("[moderate-image]", 400, "content_policy_violation", 1),  # the output image
        ("[moderate-200]", 400, "content_policy_violation", 1),  # a failed `data` entry
        ("[fail-200]", 502, "upstream_error", 1),  # a top-level `error` with HTTP 200
    ],
)
def test_refusals_and_failures_in_each_form(
    gw: RunningGateway, emu: SeedreamEmulator, marker: str, status: int, code: str, submissions: int
) -> None:
    resp = generate(gw, prompt=f"a {marker} scene")
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == (code, "seedream")
    assert emu.stats()["requests"]["generate"] == 1  # never sent again
    assert emu.stats()["submissions"] == submissions
    if marker == "[fail-200]":
        assert UNKNOWN_OUTCOME in error["message"]  # after Ark took the call
    if marker == "[moderate-200]":
        assert "OutputImageSensitiveContentDetected" in error["message"]


def _ark(status: int, code: str, message: str = "m", **extra: Any) -> dict[str, Any]:
    body = {"error": {"code": code, "message": message, "param": "", "type": "X"}}
    return {"match": "submit", "status": status, "body": body, **extra}


@pytest.mark.parametrize(
    ("fault", "status", "code", "sends"),
    [
        (_ark(400, "InvalidParameter", "bad size", param="size"), 400, "InvalidParameter", 1),
        (_ark(400, "InputImageSensitiveContentDetected"), 400, "content_policy_violation", 1),
        (_ark(401, "AuthenticationError"), 502, "provider_auth_failed", 1),
        (_ark(403, "AccountOverdueError"), 402, "provider_quota_exhausted", 1),
        (_ark(429, "QuotaExceeded"), 402, "provider_quota_exhausted", 1),
        (_ark(429, "SetLimitExceeded"), 402, "provider_quota_exhausted", 1),
        (
            _ark(429, "RateLimitExceeded.EndpointRPMExceeded", times=3),
            429,
            "provider_rate_limited",
            2,
        ),
        (_ark(429, "ServerOverloaded", times=3), 429, "provider_rate_limited", 2),
        (
            _ark(400, "OutputImageSensitiveContentDetected.SevereViolation"),
            400,
            "content_policy_violation",
            1,
        ),
        (_ark(403, "AccessDenied"), 502, "provider_auth_failed", 1),
        (_ark(404, "ModelNotOpen"), 404, "ModelNotOpen", 1),
        (_ark(500, "InternalServiceError", times=2), 502, "upstream_error", 2),
    ],
)
def test_arks_error_codes_end_as_the_right_error(
    gw: RunningGateway,
    emu: SeedreamEmulator,
    fault: dict[str, Any],
    status: int,
    code: str,
    sends: int,
) -> None:
    fault.pop("param", None)
    emu.add_faults([fault])
    resp = generate(gw)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code
    assert emu.stats()["requests"]["generate"] == sends
    if status == 404:
        assert "SEEDREAM_BASE_URL" in resp.json()["error"]["message"]


def test_the_rate_limit_passes_its_retry_hint(gw: RunningGateway, emu: SeedreamEmulator) -> None:
    emu.scenario("rate_limited", times=3)
    resp = generate(gw)
    assert resp.status_code == 429, resp.text
    assert resp.json()["error"]["code"] == "provider_rate_limited"
    assert resp.headers["retry-after"] == "1"


def test_the_emulators_own_rate_limit_is_a_429(emu: SeedreamEmulator, tmp_path: Path) -> None:
    with SeedreamEmulator(api_key=ARK_TEST_KEY, rate_limit=1) as limited:
        with serve_gateway(tmp_path, **settings_for(limited)) as gateway:
            assert generate(gateway).status_code == 200
            resp = generate(gateway)
    assert resp.status_code == 429, resp.text
    assert float(resp.headers["retry-after"]) >= 1


def test_a_wrong_key_is_provider_auth_failed(emu: SeedreamEmulator, tmp_path: Path) -> None:
    settings = settings_for(emu, seedream_api_key="ark-wrong-key-123456")
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "SEEDREAM_API_KEY" in error["message"]
    assert "ARK_API_KEY" in error["message"] and "wrong-key" not in resp.text
    assert emu.stats()["auth_failures"] == 1


def test_a_malformed_answer_is_never_sent_again(gw: RunningGateway, emu: SeedreamEmulator) -> None:
    emu.scenario("malformed_json")
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert UNKNOWN_OUTCOME in resp.json()["error"]["message"]
    assert emu.stats()["requests"]["generate"] == 1


def test_an_expired_result_url_fails_after_acceptance(tmp_path: Path) -> None:
    with SeedreamEmulator(api_key=ARK_TEST_KEY, url_ttl=0.0) as expiring:
        with serve_gateway(tmp_path, **settings_for(expiring)) as gateway:
            resp = generate(gateway)
        stats = expiring.stats()
    assert resp.status_code == 502, resp.text
    assert "download failed (HTTP 403)" in resp.json()["error"]["message"]
    assert UNKNOWN_OUTCOME in resp.json()["error"]["message"]
    assert (stats["submissions"], stats["results_served"]) == (1, 0)


def test_a_result_host_that_is_not_trusted_is_not_fetched(
    emu: SeedreamEmulator, tmp_path: Path
) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, seedream_trusted_hosts=[])) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    assert "add it to SEEDREAM_TRUSTED_HOSTS" in resp.json()["error"]["message"]
    assert emu.stats()["results_served"] == 0


# --- regions, Volcengine, b64_json --------------------------------------------------------------


def test_volcengine_ids_the_sdk_base_url_form_and_b64_json(
    emu: SeedreamEmulator, tmp_path: Path
) -> None:
    settings = settings_for(
        emu, seedream_base_url=emu.base_url + "/api/v3", seedream_response_format="b64_json"
    )
    with serve_gateway(tmp_path, **settings) as gateway:
        plain = generate(gateway, model="seedream/doubao-seedream-4-5-251128")
        emu.add_faults([{"match": "submit", "created_at": True}])  # the SDK's field name
        second = generate(gateway, model="seedream/doubao-seedream-4-5-251128", aspect_ratio="1:1")
    for resp in (plain, second):
        assert resp.status_code == 200, resp.text
        assert decoded(resp.json()["data"][0]["b64_json"]).size == (2048, 2048)
    assert [f["model"] for f in sent(emu)] == ["doubao-seedream-4-5-251128"] * 2
    assert [f["response_format"] for f in sent(emu)] == ["b64_json"] * 2
    assert emu.stats()["results_served"] == 0


def test_ark_sdk_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from image_gateway.settings import Settings

    monkeypatch.setenv("ARK_API_KEY", "ark-from-sdk-variable")
    monkeypatch.setenv("ARK_BASE_URL", "https://ark.eu-west.bytepluses.com/api/v3")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.seedream_api_key is not None
    assert settings.seedream_api_key.get_secret_value() == "ark-from-sdk-variable"
    assert settings.seedream_base_url == "https://ark.eu-west.bytepluses.com/api/v3"


# --- pure translations --------------------------------------------------------------------------


def _task(**fields: Any) -> ImageTask:
    return ImageTask(provider="seedream", model=V4, prompt="p", **fields)


@pytest.mark.parametrize(
    ("model", "fields", "size"),
    [
        (V4, {}, None),
        (V4, {"size": (1920, 1080)}, "1920x1080"),
        (V4, {"params": {"resolution": "4K"}}, "4K"),
        (V4, {"aspect_ratio": "16:9"}, "2736x1536"),
        (V4, {"aspect_ratio": "1:1", "params": {"resolution": "1K"}}, "1024x1024"),
        ("seedream-4-5-251128", {"aspect_ratio": "16:9"}, "2736x1536"),
        ("seedream-3-0-t2i-250415", {"aspect_ratio": "1:4"}, "512x2048"),
        ("seedream-3-0-t2i-250415", {"aspect_ratio": "21:9"}, "1568x672"),
        ("seededit-3-0-i2i-250628", {}, "adaptive"),
    ],
)
def test_wire_size(model: str, fields: dict[str, Any], size: str | None) -> None:
    assert translate.wire_size(_task(**fields), MODELS[model]) == size


def test_aspect_ratios_stay_within_the_models_pixel_range() -> None:
    spec = MODELS["seedream-4-5-251128"]
    for ratio in ("1:1", "16:9", "21:9", "1:16", "16:1", "4:5"):
        size = translate.wire_size(_task(aspect_ratio=ratio), spec)
        assert size is not None
        width, height = (int(v) for v in size.split("x"))
        assert translate.check_size((width, height), spec) is None, (ratio, size)


def test_from_vendor_reads_either_timestamp_and_ignores_empty_fields() -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, "JPEG")
    b64 = base64.b64encode(jpeg.getvalue()).decode()
    for stamp in ("created", "created_at"):
        answer = translate.from_vendor(
            {stamp: 1, "data": [{"url": "", "b64_json": b64, "size": "8x8"}], "usage": {}},
            "seedream",
            [],
        )
        assert answer.result.images[0].data == jpeg.getvalue() and answer.urls == {}
    answer = translate.from_vendor({"data": [{"url": "https://x/y.jpeg", "b64_json": ""}]}, "s", [])
    assert answer.urls == {0: "https://x/y.jpeg"}


def test_from_vendor_failures_inside_a_200() -> None:
    moderated = {"data": [{"error": {"code": "OutputImageSensitiveContentDetected"}}]}
    with pytest.raises(ContentPolicyViolation):
        translate.from_vendor(moderated, "seedream", [])
    failed = {"data": [], "error": {"code": "InternalServiceError", "message": "boom"}}
    with pytest.raises(UpstreamError, match="boom"):
        translate.from_vendor(failed, "seedream", [])
    with pytest.raises(UpstreamError, match="no images"):
        translate.from_vendor({"data": []}, "seedream", [])


def test_volcengine_lookup_keeps_the_asked_id() -> None:
    spec = lookup("doubao-seedream-4-0-250828")
    assert spec is not None and spec.id == "doubao-seedream-4-0-250828"
    assert lookup("doubao-unknown") is None and lookup("seedream-9") is None
