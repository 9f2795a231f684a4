"""The `gemini` provider end to end: the real gateway and the Gemini emulator on loopback, the
official `openai` SDK (`model="gemini/<model>"`). What the contract suite does not cover: its
sizes and tiers, edits, the text beside the image, its HTTP-200 refusals, its 429 forms, a key
Google refuses, and validation before any call."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from PIL import Image

from emulators.gemini import GeminiEmulator
from image_gateway.settings import Settings
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway

KEY = "AIza-test-gemini-4f1c9b2e7d"


@pytest.fixture(scope="module")
def emulator() -> Iterator[GeminiEmulator]:
    with GeminiEmulator(api_key=KEY) as emu:
        yield emu


@pytest.fixture
def emu(emulator: GeminiEmulator) -> GeminiEmulator:
    emulator.reset()
    return emulator


@pytest.fixture
def gw(start_gateway: Callable[..., RunningGateway], emu: GeminiEmulator) -> RunningGateway:
    return start_gateway(gemini_api_key=KEY, gemini_base_url=emu.base_url)


@pytest.fixture
def sdk(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)


def decode(b64: str | None) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64 or "")))


def png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (9, 8, 7)).save(buf, "PNG")
    return buf.getvalue()


def sent(emu: GeminiEmulator) -> list[dict[str, Any]]:
    """The bodies the emulator received, oldest first."""
    return [record["fields"] for record in emu.requests()]


def image_config(body: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = body["generationConfig"].get("imageConfig", {})
    return config


def test_sdk_generates_through_gemini(sdk: openai.OpenAI, emu: GeminiEmulator) -> None:
    result = sdk.images.generate(
        model="gemini/gemini-2.5-flash-image", prompt="a fox", size="1344x768"
    )
    image = decode(result.data[0].b64_json)
    assert image.size == (1344, 768) and image.format == "PNG"
    # The text Gemini writes beside the image is its revised_prompt.
    assert result.data[0].revised_prompt and "a fox" in result.data[0].revised_prompt
    assert result.usage is not None and result.usage.output_tokens_details is not None
    assert result.usage.output_tokens_details.image_tokens == 1290
    assert result.model_extra is not None
    assert result.model_extra["cost"] == {"usd": 0.039, "basis": "price_table"}
    (body,) = sent(emu)
    assert image_config(body) == {"aspectRatio": "16:9"}  # one tier: no imageSize
    assert body["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]
    assert body["contents"][0]["parts"] == [{"text": "a fox"}]
    assert emu.stats()["auth_failures"] == 0


def test_n_is_fanned_out_one_image_per_call(sdk: openai.OpenAI, emu: GeminiEmulator) -> None:
    result = sdk.images.generate(model="gemini/gemini-2.5-flash-image", prompt="p", n=3)
    assert len(result.data) == 3 and emu.stats()["submissions"] == 3
    assert all(decode(item.b64_json).size == (1024, 1024) for item in result.data)


def test_gemini_3_pro_takes_the_final_image_not_the_thought(
    sdk: openai.OpenAI, emu: GeminiEmulator
) -> None:
    result = sdk.images.generate(model="gemini/gemini-3-pro-image", prompt="p", size="2752x1536")
    assert decode(result.data[0].b64_json).size == (2752, 1536)  # the draft is a quarter of it
    assert result.data[0].revised_prompt and "Composing" not in result.data[0].revised_prompt
    assert image_config(sent(emu)[0]) == {"aspectRatio": "16:9", "imageSize": "2K"}
    assert result.model_extra is not None and result.model_extra["cost"]["usd"] == 0.134


def test_aspect_ratio_and_tier_from_provider_params(
    gw: RunningGateway, emu: GeminiEmulator
) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={
                "model": "gemini/gemini-3.1-flash-image",
                "prompt": "a banner",
                "aspect_ratio": "8:1",
                "provider_params": {"image_size": "512", "response_modalities": ["IMAGE"]},
            },
        )
    assert resp.status_code == 200, resp.text
    item = resp.json()["data"][0]
    assert item["size"] == "1408x176" and item.get("revised_prompt") is None
    assert resp.json()["cost"] == {"usd": 0.045, "basis": "price_table"}
    body = sent(emu)[0]
    assert image_config(body) == {"aspectRatio": "8:1", "imageSize": "512"}
    assert body["generationConfig"]["responseModalities"] == ["IMAGE"]


def test_sdk_edit_sends_every_image_inline(sdk: openai.OpenAI, emu: GeminiEmulator) -> None:
    result = sdk.images.edit(
        model="gemini/gemini-3.1-flash-image",
        prompt="put the cat on the beach",
        image=[("a.png", png((300, 200)), "image/png"), ("b.png", png((64, 64)), "image/png")],
    )
    # No ratio asked: Gemini matches the first input's proportions (3:2 at 1K).
    assert decode(result.data[0].b64_json).size == (1248, 832)
    parts = sent(emu)[0]["contents"][0]["parts"]
    assert parts[0] == {"text": "put the cat on the beach"}
    assert [p["inlineData"]["mimeType"] for p in parts[1:]] == ["image/png", "image/png"]
    assert base64.b64decode(parts[1]["inlineData"]["data"]) == png((300, 200))
    assert "imageConfig" not in sent(emu)[0]["generationConfig"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"model": "gemini-2.5-flash-image", "size": "1024x768"}, "size"),
        ({"model": "gemini-2.5-flash-image", "quality": "high"}, "quality"),
        ({"model": "gemini-2.5-flash-image", "seed": 3}, "seed"),
        ({"model": "gemini-2.5-flash-image", "output_format": "jpeg"}, "output_format"),
        ({"model": "gemini-2.5-flash-image", "aspect_ratio": "1:8"}, "aspect_ratio"),
        ({"model": "gemini-3-pro-image", "aspect_ratio": "4:1"}, "aspect_ratio"),
        (
            {"model": "gemini-3-pro-image", "size": "2048x2048", "aspect_ratio": "16:9"},
            "aspect_ratio",
        ),
        (
            {
                "model": "gemini-3-pro-image",
                "size": "2048x2048",
                "provider_params": {"image_size": "4K"},
            },
            "provider_params.image_size",
        ),
        (
            {"model": "gemini-3-pro-image", "provider_params": {"image_size": "512"}},
            "provider_params.image_size",
        ),
        (
            {"model": "gemini-2.5-flash-image", "provider_params": {"image_size": "1K"}},
            "provider_params.image_size",
        ),
        (
            {"model": "gemini-3-pro-image", "provider_params": {"thinking_level": "HIGH"}},
            "provider_params.thinking_level",
        ),
        (
            {"model": "gemini-3.1-flash-image", "provider_params": {"thinking_level": "MAX"}},
            "provider_params.thinking_level",
        ),
        (
            {
                "model": "gemini-3.1-flash-image",
                "provider_params": {"response_modalities": ["TEXT"]},
            },
            "provider_params.response_modalities",
        ),
    ],
)
def test_what_a_model_cannot_honour_is_a_400_before_any_call(
    gw: RunningGateway, emu: GeminiEmulator, fields: dict[str, Any], param: str
) -> None:
    body = {"prompt": "p", **fields, "model": f"gemini/{fields['model']}"}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert emu.stats()["requests"]["generate"] == 0


def test_a_mask_is_refused(sdk: openai.OpenAI, emu: GeminiEmulator) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        sdk.images.edit(
            model="gemini/gemini-3.1-flash-image",
            prompt="p",
            image=("a.png", png((64, 64)), "image/png"),
            mask=("m.png", png((64, 64)), "image/png"),
        )
    assert err.value.body["param"] == "mask"  # type: ignore[index]
    assert emu.stats()["requests"]["generate"] == 0


def test_a_newer_id_is_passed_through_conservatively(
    gw: RunningGateway, emu: GeminiEmulator
) -> None:
    with gw.client() as http:
        listed = http.post(
            "/v1/images/generations",
            json={"model": "gemini/gemini-4-flash-image", "prompt": "p", "size": "2048x2048"},
        )
        served = http.post(
            "/v1/images/generations", json={"model": "gemini/gemini-4-flash-image", "prompt": "p"}
        )
    assert listed.status_code == 400 and listed.json()["error"]["param"] == "size"
    # The emulator does not know the id: Google's 404, the gateway's model_not_found.
    assert served.status_code == 404, served.text
    assert served.json()["error"]["code"] == "model_not_found"
    assert emu.stats()["requests"]["generate"] == 1


@pytest.mark.parametrize(
    ("marker", "status", "code", "needle"),
    [
        ("[block-prompt]", 400, "content_policy_violation", "blockReason PROHIBITED_CONTENT"),
        ("[image-safety]", 400, "content_policy_violation", "finishReason IMAGE_SAFETY"),
        ("[no-image]", 502, "no_image_generated", "did not make an image"),
        ("[image-other]", 502, "no_image_generated", "finishReason IMAGE_OTHER"),
    ],
)
def test_http_200_refusals_end_as_errors_never_empty_data(
    gw: RunningGateway, emu: GeminiEmulator, marker: str, status: int, code: str, needle: str
) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={"model": "gemini/gemini-2.5-flash-image", "prompt": f"a scene {marker}"},
        )
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == (code, "gemini") and needle in error["message"]
    assert resp.headers["x-should-retry"] == "false"
    assert emu.stats()["submissions"] == 1  # accepted once, never sent again


def test_no_image_is_the_providers_failure_so_a_fallback_serves(
    gw: RunningGateway, emu: GeminiEmulator
) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={
                "model": "gemini/gemini-2.5-flash-image",
                "prompt": "a lighthouse [no-image]",
                "fallbacks": ["local"],
            },
        )
    assert resp.status_code == 200, resp.text
    assert resp.json()["provider"] == "local"
    assert resp.json()["fallback_from"] == "gemini/gemini-2.5-flash-image"


def test_the_retry_delay_in_the_body_is_the_retry_hint(
    sdk: openai.OpenAI, emu: GeminiEmulator
) -> None:
    emu.add_faults([{"status": 429, "body": _rate_limit_body("7s")}])
    with pytest.raises(openai.RateLimitError) as err:
        sdk.images.generate(model="gemini/gemini-2.5-flash-image", prompt="p")
    assert err.value.code == "provider_rate_limited"
    assert err.value.response.headers["retry-after"] == "7"
    assert err.value.response.headers["x-should-retry"] == "true"


def test_a_daily_quota_is_exhausted_not_retried(
    start_gateway: Callable[..., RunningGateway], emu: GeminiEmulator
) -> None:
    gw = start_gateway(gemini_api_key=KEY, gemini_base_url=emu.base_url, retry_max_attempts=3)
    emu.add_faults([{"daily_quota": True}])
    with gw.client() as http:
        answers = [
            http.post(
                "/v1/images/generations",
                json={"model": "gemini/gemini-2.5-flash-image", "prompt": "p"},
            )
            for _ in range(2)
        ]
    for resp in answers:  # the second without a fault: the day's quota stays used up
        assert resp.status_code == 402, resp.text
        assert resp.json()["error"]["code"] == "provider_quota_exhausted"
        assert "daily quota" in resp.json()["error"]["message"]
    assert emu.stats()["requests"]["generate"] == 2  # once each, whatever RetryInfo said


def test_a_key_google_refuses_is_the_gateways_credentials(
    start_gateway: Callable[..., RunningGateway], emu: GeminiEmulator
) -> None:
    gw = start_gateway(gemini_api_key="AIza-not-the-key", gemini_base_url=emu.base_url)
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"model": "gemini/gemini-2.5-flash-image", "prompt": "p"}
        )
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "GEMINI_API_KEY" in error["message"]
    assert "AIza-not" not in resp.text
    assert resp.headers["x-should-retry"] == "false"


def test_billing_or_country_precondition_is_the_accounts(
    gw: RunningGateway, emu: GeminiEmulator
) -> None:
    message = "Gemini API free tier is not available in your country. Please enable billing."
    emu.add_faults(
        [
            {
                "status": 400,
                "body": {
                    "error": {"code": 400, "message": message, "status": "FAILED_PRECONDITION"}
                },
            }
        ]
    )
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"model": "gemini/gemini-2.5-flash-image", "prompt": "p"}
        )
    assert resp.status_code == 402, resp.text
    assert "FAILED_PRECONDITION" in resp.json()["error"]["message"]
    assert "enable billing" in resp.json()["error"]["message"]


def test_googles_invalid_argument_is_the_callers_400(
    gw: RunningGateway, emu: GeminiEmulator
) -> None:
    emu.add_faults(
        [
            {
                "status": 400,
                "body": {
                    "error": {"code": 400, "message": "Bad prompt.", "status": "INVALID_ARGUMENT"}
                },
            }
        ]
    )
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"model": "gemini/gemini-2.5-flash-image", "prompt": "p"}
        )
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "invalid_value" and "Bad prompt." in error["message"]


def test_google_api_key_is_read_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    key = settings.gemini_api_key  # type: ignore[attr-defined]
    assert key is not None and key.get_secret_value() == KEY


def test_the_catalogue_lists_the_models_and_their_sizes(gw: RunningGateway) -> None:
    with gw.client() as http:
        providers = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
        models = {m["id"] for m in http.get("/v1/models").json()["data"]}
    cards = {card["id"]: card for card in providers["gemini"]["models"]}
    assert set(cards) == {"gemini-2.5-flash-image", "gemini-3-pro-image", "gemini-3.1-flash-image"}
    assert "11264x1408" in cards["gemini-3.1-flash-image"]["sizes"]
    assert cards["gemini-3-pro-image"]["provider_params"] == ["image_size", "response_modalities"]
    assert "shutdown" in cards["gemini-3.1-flash-image"]["description"]
    assert {"gemini/gemini-3-pro-image", "gemini-3-pro-image"} & models


def _rate_limit_body(delay: str) -> dict[str, Any]:
    return {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
            ],
        }
    }


@pytest.mark.parametrize(
    ("status", "google", "expected", "code", "retry"),
    [
        (403, "PERMISSION_DENIED", 502, "provider_auth_failed", "false"),
        (402, "RESOURCE_EXHAUSTED", 402, "provider_quota_exhausted", "false"),
        (404, "NOT_FOUND", 404, "model_not_found", "false"),
        (503, "UNAVAILABLE", 502, "upstream_error", "true"),
        (504, "DEADLINE_EXCEEDED", 502, "upstream_error", "true"),
    ],
)
def test_googles_statuses_end_as_the_tables_errors(
    gw: RunningGateway,
    emu: GeminiEmulator,
    status: int,
    google: str,
    expected: int,
    code: str,
    retry: str,
) -> None:
    body = [{"error": {"code": status, "message": "m", "status": google}}]  # list-wrapped too
    emu.add_faults([{"status": status, "body": body}])
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"model": "gemini/gemini-2.5-flash-image", "prompt": "p"}
        )
    assert resp.status_code == expected, resp.text
    assert resp.json()["error"]["code"] == code
    assert resp.headers["x-should-retry"] == retry
    if code == "model_not_found":
        assert "GEMINI_BASE_URL" in resp.json()["error"]["message"]
