"""The Gemini emulator over real sockets: auth, Google's parser (both casings, unknown names),
per-model image checks, sizes, thought parts, HTTP-200 refusals, 429s and the daily quota."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from PIL import Image

from emulators.gemini import GeminiEmulator, GenerateContent
from emulators.gemini.errors import GoogleError
from emulators.kit.faults import FAKE_IMAGES
from emulators.kit.records import RequestLog

KEY = "AIza-test-gemini-emulator"


@pytest.fixture(scope="module")
def emu() -> Iterator[GeminiEmulator]:
    with GeminiEmulator(api_key=KEY) as e:
        yield e


@pytest.fixture(autouse=True)
def _reset(emu: GeminiEmulator) -> None:
    emu.reset()


def png_b64(width: int, height: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (1, 2, 3)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def call(
    emu: GeminiEmulator,
    body: dict[str, Any],
    model: str = "gemini-2.5-flash-image",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> httpx.Response:
    url = f"{emu.base_url}/models/{model}:generateContent{query}"
    return httpx.post(
        url, json=body, headers={"x-goog-api-key": KEY} if headers is None else headers
    )


def prompt(text: str, **generation: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if generation:
        body["generationConfig"] = generation
    return body


def images_of(answer: dict[str, Any]) -> list[tuple[bool, Image.Image]]:
    """(thought, image) of each image part of the first candidate."""
    parts = answer["candidates"][0]["content"]["parts"]
    return [
        (bool(p.get("thought")), Image.open(io.BytesIO(base64.b64decode(p["inlineData"]["data"]))))
        for p in parts
        if "inlineData" in p
    ]


def error_of(resp: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = resp.json()["error"]
    assert error["code"] == resp.status_code
    return error


def test_an_image_of_the_exact_size_with_text_and_usage(emu: GeminiEmulator) -> None:
    resp = call(emu, prompt("a fox", imageConfig={"aspectRatio": "21:9"}))
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    ((thought, image),) = images_of(answer)
    assert not thought and image.size == (1536, 672) and image.format == "PNG"
    texts = [p["text"] for p in answer["candidates"][0]["content"]["parts"] if "text" in p]
    assert texts and "a fox" in texts[0]
    usage = answer["usageMetadata"]
    assert {"modality": "IMAGE", "tokenCount": 1290} in usage["candidatesTokensDetails"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    assert answer["candidates"][0]["finishReason"] == "STOP"
    assert emu.stats()["submissions"] == 1


def test_gemini_3_answers_thought_parts_before_the_final_image(emu: GeminiEmulator) -> None:
    body = prompt("a fox", imageConfig={"aspectRatio": "16:9", "imageSize": "2K"})
    answer = call(emu, body, "gemini-3-pro-image").json()
    found = images_of(answer)
    assert [thought for thought, _ in found] == [True, False]
    assert found[-1][1].size == (2752, 1536) and found[0][1].size != (2752, 1536)
    assert answer["usageMetadata"]["thoughtsTokenCount"] > 0


@pytest.mark.parametrize(
    ("model", "config", "size"),
    [
        ("gemini-3.1-flash-image", {"aspectRatio": "8:1", "imageSize": "512"}, (1408, 176)),
        ("gemini-3.1-flash-image", {"aspectRatio": "1:4"}, (512, 2048)),
        ("gemini-3-pro-image", {"imageSize": "2K"}, (2048, 2048)),
        ("gemini-2.5-flash-image", {}, (1024, 1024)),
    ],
)
def test_sizes_per_model_tier_and_ratio(
    emu: GeminiEmulator, model: str, config: dict[str, str], size: tuple[int, int]
) -> None:
    answer = call(emu, prompt("p", imageConfig=config), model).json()
    assert images_of(answer)[-1][1].size == size


def test_snake_case_and_query_key_are_accepted_and_an_edit_matches_its_input(
    emu: GeminiEmulator,
) -> None:
    body = {
        "contents": [
            {
                "parts": [
                    {"text": "make it blue"},
                    {"inline_data": {"mime_type": "image/png", "data": png_b64(300, 200)}},
                ]
            }
        ],
        "generation_config": {"response_modalities": ["IMAGE"]},
    }
    resp = call(emu, body, headers={}, query=f"?key={KEY}")
    assert resp.status_code == 200, resp.text
    parts = resp.json()["candidates"][0]["content"]["parts"]
    assert [p for p in parts if "text" in p] == []  # IMAGE only: no text
    assert images_of(resp.json())[0][1].size == (1248, 832)  # 3:2, the input's proportions
    assert resp.json()["usageMetadata"]["promptTokensDetails"][-1]["modality"] == "IMAGE"


@pytest.mark.parametrize(
    ("body", "model", "needle"),
    [
        (prompt("p", imageConfig={"imageSize": "1k"}), "gemini-3-pro-image", "'1k'"),
        (prompt("p", imageConfig={"imageSize": "2K"}), "gemini-2.5-flash-image", "'2K'"),
        (prompt("p", imageConfig={"aspectRatio": "8:1"}), "gemini-3-pro-image", "'8:1'"),
        (prompt("p", imageConfig={"personGeneration": "ALLOW_ALL"}), None, "personGeneration"),
        (prompt("p", imageConfig={"imageOutputOptions": {}}), None, "imageOutputOptions"),
        (prompt("p", thinkingConfig={"thinkingLevel": "HIGH"}), None, "Thinking level"),
        (prompt("p", candidateCount=2), None, "Multiple candidates"),
        (prompt("p", responseModalities=["text"]), None, "'text'"),
        ({**prompt("p"), "n": 2}, None, 'Unknown name "n"'),
        ({"contents": []}, None, "contents is not specified"),
        (
            {
                "contents": [
                    {
                        "parts": [
                            {"text": "p"},
                            {"inlineData": {"mimeType": "image/png", "data": "eA=="}},
                        ]
                    }
                ]
            },
            None,
            "Unable to process input image",
        ),
        (
            {
                "contents": [
                    {
                        "parts": [{"text": "p"}]
                        + [{"inlineData": {"mimeType": "image/png", "data": png_b64(8, 8)}}] * 4
                    }
                ]
            },
            None,
            "at most 3 input images",
        ),
        (
            {"contents": [{"parts": [{"text": "p"}]}], "generationConfig": {"seed": 1, "seed_": 2}},
            None,
            "seed_",
        ),
    ],
)
def test_what_google_refuses_is_a_400_invalid_argument(
    emu: GeminiEmulator, body: dict[str, Any], model: str | None, needle: str
) -> None:
    resp = call(emu, body, model or "gemini-2.5-flash-image")
    assert resp.status_code == 400, resp.text
    error = error_of(resp)
    assert error["status"] == "INVALID_ARGUMENT" and needle in error["message"]
    assert emu.stats()["submissions"] == 0


def test_keys_and_models(emu: GeminiEmulator) -> None:
    missing = call(emu, prompt("p"), headers={})
    assert (missing.status_code, error_of(missing)["status"]) == (403, "PERMISSION_DENIED")
    wrong = call(emu, prompt("p"), headers={"x-goog-api-key": "AIza-wrong"})
    assert wrong.status_code == 400
    assert error_of(wrong)["details"][0]["reason"] == "API_KEY_INVALID"
    unknown = call(emu, prompt("p"), "gemini-9-image")
    assert (unknown.status_code, error_of(unknown)["status"]) == (404, "NOT_FOUND")
    other = httpx.get(f"{emu.base_url}/models")
    assert other.status_code == 404 and error_of(other)["status"] == "NOT_FOUND"
    assert emu.stats()["auth_failures"] == 2 and emu.stats()["submissions"] == 0


@pytest.mark.parametrize(
    ("marker", "reason"),
    [
        ("[image-safety]", "IMAGE_SAFETY"),
        ("[image-other]", "IMAGE_OTHER"),
        ("[no-image]", "NO_IMAGE"),
    ],
)
def test_refusals_are_http_200_without_an_image(
    emu: GeminiEmulator, marker: str, reason: str
) -> None:
    resp = call(emu, prompt(f"a scene {marker}"))
    assert resp.status_code == 200
    candidate = resp.json()["candidates"][0]
    assert candidate["finishReason"] == reason
    assert not any("inlineData" in p for p in candidate["content"].get("parts", []))
    assert emu.stats()["submissions"] == 1  # accepted: its tokens are billed


def test_a_blocked_prompt_has_no_candidates(emu: GeminiEmulator) -> None:
    answer = call(emu, prompt("a scene [block-prompt]")).json()
    assert answer["promptFeedback"]["blockReason"] == "PROHIBITED_CONTENT"
    assert "candidates" not in answer and answer["usageMetadata"]["promptTokenCount"] > 0


def test_the_rate_limit_says_when_in_the_body_only() -> None:
    with GeminiEmulator(api_key=KEY, rate_limit=1) as emu:
        assert call(emu, prompt("p")).status_code == 200
        resp = call(emu, prompt("p"))
    assert resp.status_code == 429 and "retry-after" not in resp.headers
    error = error_of(resp)
    assert error["status"] == "RESOURCE_EXHAUSTED"
    delay = next(d for d in error["details"] if d["@type"].endswith("RetryInfo"))["retryDelay"]
    assert delay.endswith("s") and 1 <= int(delay[:-1]) <= 60
    quota = next(d for d in error["details"] if d["@type"].endswith("QuotaFailure"))
    assert "PerMinute" in quota["violations"][0]["quotaId"]


def test_the_daily_quota_is_sticky_until_reset() -> None:
    with GeminiEmulator(api_key=KEY, daily_quota=2) as emu:
        assert [call(emu, prompt("p")).status_code for _ in range(4)] == [200, 200, 429, 429]
        error = error_of(call(emu, prompt("p")))
        quota = next(d for d in error["details"] if d["@type"].endswith("QuotaFailure"))
        assert "PerDay" in quota["violations"][0]["quotaId"]
        assert emu.stats()["daily_quota_exhausted"] and emu.stats()["submissions"] == 2
        emu.reset()
        assert call(emu, prompt("p")).status_code == 200


def test_the_daily_quota_switch_and_a_fake_image(emu: GeminiEmulator) -> None:
    emu.add_faults([{"image": "html"}, {"daily_quota": True}])
    answer = call(emu, prompt("p")).json()
    data = answer["candidates"][0]["content"]["parts"][-1]["inlineData"]["data"]
    assert base64.b64decode(data) == FAKE_IMAGES["html"]
    assert call(emu, prompt("p")).status_code == 429
    assert call(emu, prompt("p")).status_code == 429  # sticky, without a fault


def test_scenarios(emu: GeminiEmulator) -> None:
    assert not emu.supports("moderated") and emu.supports("moderated_200")
    emu.scenario("rate_limited")
    error = error_of(call(emu, prompt("p")))
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"} in error[
        "details"
    ]
    emu.scenario("moderated_200")
    assert call(emu, prompt("p")).json()["candidates"][0]["finishReason"] == "IMAGE_SAFETY"
    emu.add_faults([{"status": 503}])
    assert error_of(call(emu, prompt("p")))["status"] == "UNAVAILABLE"


def test_gateway_environment(emu: GeminiEmulator) -> None:
    assert emu.gateway_environment() == {
        "GEMINI_BASE_URL": emu.base_url,
        "GEMINI_API_KEY": KEY,
    }
    assert emu.base_url.endswith("/v1beta")


async def test_generate_content_serves_another_apps_routes_with_vertex_fields() -> None:
    """What Vertex's emulator reuses: the handling without host, path or auth, with Vertex's
    own `imageConfig` fields accepted (`vertex=True`)."""
    log = RequestLog(("generate",))
    generator = GenerateContent(log, vertex=True)
    config = {
        "aspectRatio": "4:3",
        "personGeneration": "ALLOW_ADULT",
        "imageOutputOptions": {"mimeType": "image/jpeg", "compressionQuality": 80},
    }
    raw = prompt("a fox", imageConfig=config)
    answer = await generator.answer("gemini-2.5-flash-image", orjson.dumps(raw), "/v1/x", None)
    ((_, image),) = images_of(answer)
    assert image.format == "JPEG" and image.size == (1184, 864)
    assert log.records()[0]["path"] == "/v1/x" and log.snapshot()["submissions"] == 1
    with pytest.raises(GoogleError) as err:
        bad = prompt("p", imageConfig={"personGeneration": "EVERYONE"})
        await generator.answer("gemini-2.5-flash-image", orjson.dumps(bad), "/v1/x", None)
    assert err.value.code == 400
