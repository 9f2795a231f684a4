"""Pure translations of the `gemini` provider (what `vertex-ai` reuses too): the answer's
forms (thoughts, casing, refusals, usage), Google's error envelope, and the size tables."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from image_gateway.errors import (
    ContentPolicyViolation,
    InvalidRequest,
    NoImageGenerated,
    NotFound,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    UpstreamError,
)
from image_gateway.providers.gemini import DEFINITION, sizes
from image_gateway.providers.gemini.errors import classify, parse_duration, read_status
from image_gateway.providers.gemini.models import MODELS, passthrough_spec
from image_gateway.providers.gemini.translate import (
    check_task,
    fill_size,
    read_answer,
    to_vendor,
    usage_of,
)
from image_gateway.schemas import ImageTask, InputImage

SECRET = "AIza-secret-key-123456"


def png_b64(size: tuple[int, int] = (8, 8)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", size).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def answer(parts: list[dict[str, Any]], reason: str = "STOP", **extra: Any) -> dict[str, Any]:
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": reason, **extra}
    return {"candidates": [candidate]}


def test_the_last_image_that_is_not_a_thought_and_the_text_beside_it() -> None:
    final = png_b64((16, 9))
    result = read_answer(
        answer(
            [
                {"text": "thinking about it", "thought": True},
                {"inlineData": {"mimeType": "image/png", "data": png_b64((4, 4))}, "thought": True},
                {"text": "Here it is."},
                {"inline_data": {"mime_type": "image/png", "data": final}},  # snake_case too
                {"text": "Enjoy."},
            ]
        ),
        "gemini",
        [],
    )
    (image,) = result.images
    assert image.b64 == final and image.content_type == "image/png"
    assert image.revised_prompt == "Here it is.\n\nEnjoy."


@pytest.mark.parametrize(
    ("payload", "error", "needle"),
    [
        ({"promptFeedback": {"blockReason": "SAFETY"}}, ContentPolicyViolation, "SAFETY"),
        (
            {"promptFeedback": {"blockReason": "JAILBREAK", "blockReasonMessage": "no"}},
            ContentPolicyViolation,
            "JAILBREAK): no",
        ),
        (answer([], "IMAGE_PROHIBITED_CONTENT"), ContentPolicyViolation, "IMAGE_PROHIBITED"),
        # A safety finishReason refuses even beside an image.
        (
            answer([{"inlineData": {"mimeType": "image/png", "data": png_b64()}}], "SAFETY"),
            ContentPolicyViolation,
            "finishReason SAFETY",
        ),
        (answer([{"text": "Just words."}], "STOP"), NoImageGenerated, "Just words."),
        (answer([], "OTHER"), NoImageGenerated, "finishReason OTHER"),
        (answer([], "MAX_TOKENS"), NoImageGenerated, "MAX_TOKENS"),
        # Only a thought image: no image was given as the answer.
        (
            answer([{"inlineData": {"mimeType": "image/png", "data": png_b64()}, "thought": True}]),
            NoImageGenerated,
            "STOP",
        ),
        ({}, NoImageGenerated, "no candidate"),
        ({"candidates": "x"}, NoImageGenerated, "no candidate"),
        (answer([], "NO_IMAGE", finishMessage=f"key {SECRET}"), NoImageGenerated, "[redacted]"),
        ([], UpstreamError, "not an object"),
        (
            answer([{"inlineData": {"mimeType": "image/png", "data": "%%%"}}]),
            UpstreamError,
            "base64",
        ),
    ],
)
def test_answers_without_an_image_are_errors(payload: Any, error: type, needle: str) -> None:
    with pytest.raises(error) as raised:
        read_answer(payload, "gemini", [SECRET])
    assert needle in raised.value.message and SECRET not in raised.value.message


def test_usage_as_openai_tokens() -> None:
    usage = usage_of(
        {
            "promptTokenCount": 270,
            "candidatesTokenCount": 1300,
            "thoughtsTokenCount": 100,
            "totalTokenCount": 1670,
            "promptTokensDetails": [
                {"modality": "TEXT", "tokenCount": 12},
                {"modality": "IMAGE", "tokenCount": 258},
            ],
            "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}],
        }
    )
    assert usage == {
        "input_tokens": 270,
        "input_tokens_details": {"text_tokens": 12, "image_tokens": 258},
        "output_tokens": 1400,
        "output_tokens_details": {"text_tokens": 110, "image_tokens": 1290},
        "total_tokens": 1670,
    }
    assert usage_of(None) is None and usage_of({"trafficType": "ON_DEMAND"}) is None


def task(**fields: Any) -> ImageTask:
    return ImageTask(provider="gemini", model="m", prompt="a fox", **fields)


def test_request_body() -> None:
    spec = MODELS["gemini-3.1-flash-image"]
    edit = task(
        aspect_ratio="4:1",
        params={"image_size": "2k", "thinking_level": "high", "response_modalities": ["image"]},
        images=[InputImage(b"\x89PNG..", "image/png")],
    )
    fill_size(edit, spec)
    assert edit.size == (4096, 1024)
    check_task(edit, spec)
    assert to_vendor(edit, spec) == {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "a fox"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBORy4u"}},
                ],
            }
        ],
        "generationConfig": {
            "responseModalities": ["IMAGE"],
            "imageConfig": {"aspectRatio": "4:1", "imageSize": "2K"},
            "thinkingConfig": {"thinkingLevel": "HIGH"},
        },
    }
    plain = to_vendor(task(), MODELS["gemini-2.5-flash-image"])
    assert plain["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"]}


def test_a_tier_a_ratio_lacks_is_refused() -> None:
    spec = MODELS["gemini-3.1-flash-image"]
    asked = task(aspect_ratio="1:8", params={"image_size": "512"})
    fill_size(asked, spec)
    assert asked.size == (176, 1408)
    check_task(asked, spec)
    with pytest.raises(InvalidRequest) as err:
        check_task(task(aspect_ratio="1:8", params={"image_size": "3K"}), spec)
    assert err.value.param == "provider_params.image_size"


def test_size_tables_are_exact_and_one_to_one() -> None:
    for spec in MODELS.values():
        for text in spec.sizes:
            width, height = (int(n) for n in text.split("x"))
            ratio, tier = sizes.config_for((width, height), spec.tiers) or ("", "")
            a, b = (int(n) for n in ratio.split(":"))
            assert abs(width / height - a / b) < 0.06, (spec.id, text, ratio)
            assert spec.tiers[tier][ratio] == (width, height)
    assert len(MODELS["gemini-3.1-flash-image"].sizes) == 14 * 4
    assert sizes.tier_named(" 4k", sizes.PRO_3) == "4K" and sizes.tier_named(4, sizes.PRO_3) is None


def test_passthrough_ids() -> None:
    assert passthrough_spec("gemini-4-flash-image") is not None
    assert passthrough_spec("gemini-nano-banana-2.1") is not None
    for refused in ("gemini-2.5-pro", "imagen-4.0-generate-001", "gemini-image/../x", "x-image"):
        assert passthrough_spec(refused) is None


def envelope(status: str, code: int, *details: dict[str, Any]) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": f"m {SECRET}",
            "status": status,
            "details": list(details),
        }
    }


QUOTA_DAY = {
    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
    "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}],
}
RETRY_2S = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}
KEY_INVALID = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}


@pytest.mark.parametrize(
    ("status", "payload", "expected", "code"),
    [
        (
            429,
            envelope("RESOURCE_EXHAUSTED", 429, QUOTA_DAY, RETRY_2S),
            ProviderQuotaExhausted,
            None,
        ),
        (429, [envelope("RESOURCE_EXHAUSTED", 429, RETRY_2S)], ProviderRateLimited, None),
        (
            400,
            envelope("INVALID_ARGUMENT", 400, KEY_INVALID),
            UpstreamError,
            "provider_auth_failed",
        ),
        (
            403,
            envelope(
                "PERMISSION_DENIED", 403, {**KEY_INVALID, "reason": "API_KEY_SERVICE_BLOCKED"}
            ),
            UpstreamError,
            "provider_auth_failed",
        ),
        (400, envelope("FAILED_PRECONDITION", 400), ProviderQuotaExhausted, None),
        (503, envelope("UNAVAILABLE", 503, RETRY_2S), UpstreamError, "upstream_error"),
        (404, envelope("NOT_FOUND", 404, RETRY_2S), NotFound, "model_not_found"),
    ],
)
def test_googles_envelope_is_classified(
    status: int, payload: Any, expected: type, code: str | None
) -> None:
    google = read_status(payload, [SECRET])
    assert google is not None and SECRET not in google.message
    error = classify(DEFINITION, status, {}, google)
    assert isinstance(error, expected)
    if code is not None:
        assert error.code == code
    if isinstance(error, ProviderRateLimited) or status == 503:
        assert error.retry_after == 2.0 and error.retryable  # type: ignore[attr-defined]
    if isinstance(error, ProviderQuotaExhausted):
        assert not error.retryable


def test_what_the_table_decides_alone() -> None:
    assert classify(DEFINITION, 500, {}, read_status(envelope("INTERNAL", 500), [])) is None
    assert classify(DEFINITION, 500, {}, read_status({"error": "text"}, [])) is None
    assert read_status({"detail": "x"}, []) is None


def test_durations() -> None:
    assert parse_duration("26s") == 26.0 and parse_duration("0.5s") == 0.5
    assert parse_duration({"seconds": "3", "nanos": 500_000_000}) == 3.5
    assert parse_duration("soon") is None and parse_duration(7) is None
