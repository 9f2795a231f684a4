"""Pure request/response translations and validation of the OpenAI adapter, per model."""

from __future__ import annotations

import base64

import pytest

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    InvalidRequest,
    NotFound,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    UpstreamError,
)
from image_gateway.providers.openai.adapter import OpenAIProvider
from image_gateway.providers.openai.models import MODELS, passthrough_spec
from image_gateway.providers.openai.translate import from_vendor, to_vendor
from image_gateway.schemas import ImageTask, InputImage
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamResponse

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 10


def task(**kwargs) -> ImageTask:
    return ImageTask(provider="openai", model="x", prompt=kwargs.pop("prompt", "a cat"), **kwargs)


def make_provider(**settings: object) -> OpenAIProvider:
    return OpenAIProvider(Settings(_env_file=None, **settings), http=None)  # type: ignore[arg-type,call-arg]


@pytest.fixture
def provider() -> OpenAIProvider:
    return make_provider()


def test_gpt_body_carries_gpt_fields_only() -> None:
    body = to_vendor(
        task(
            n=2,
            size=(1536, 1024),
            quality="high",
            output_format="webp",
            output_compression=80,
            background="opaque",
            user="u1",
        ),
        MODELS["gpt-image-1"],
    )
    assert body == {
        "model": "gpt-image-1",
        "prompt": "a cat",
        "n": 2,
        "size": "1536x1024",
        "quality": "high",
        "output_format": "webp",
        "output_compression": 80,
        "background": "opaque",
        "user": "u1",
    }


def test_dalle_is_asked_for_base64() -> None:
    body = to_vendor(task(style="natural"), MODELS["dall-e-3"])
    assert body["response_format"] == "b64_json" and body["style"] == "natural"


@pytest.mark.parametrize(
    ("model", "kwargs", "param"),
    [
        ("gpt-image-1", {"size": (1792, 1024)}, "size"),
        ("gpt-image-1", {"quality": "hd"}, "quality"),
        ("gpt-image-1", {"style": "natural"}, "style"),
        ("gpt-image-1", {"seed": 1}, "seed"),
        ("gpt-image-1", {"negative_prompt": "x"}, "negative_prompt"),
        ("gpt-image-1", {"output_compression": 50, "output_format": "png"}, "output_compression"),
        ("gpt-image-1", {"background": "transparent", "output_format": "jpeg"}, "background"),
        ("gpt-image-1", {"prompt": "x" * 32_001}, "prompt"),
        ("dall-e-3", {"size": (1024, 1536)}, "size"),
        ("dall-e-3", {"quality": "high"}, "quality"),
        ("dall-e-3", {"output_format": "jpeg"}, "output_format"),
        ("dall-e-3", {"background": "opaque"}, "background"),
        ("dall-e-3", {"prompt": "x" * 4_001}, "prompt"),
        ("dall-e-2", {"size": (1024, 1792)}, "size"),
        ("dall-e-2", {"prompt": "x" * 1_001}, "prompt"),
        ("dall-e-2", {"aspect_ratio": "16:9"}, "aspect_ratio"),
        ("gpt-image-2", {"size": (1000, 1000)}, "size"),
        ("gpt-image-2", {"size": (3840, 1024)}, "size"),
        ("gpt-image-2", {"size": (512, 512)}, "size"),
        (
            "gpt-image-1-mini",
            {"input_fidelity": "high", "images": [InputImage(PNG, "image/png")]},
            "input_fidelity",
        ),
        (
            "gpt-image-2",
            {"input_fidelity": "low", "images": [InputImage(PNG, "image/png")]},
            "input_fidelity",
        ),
        ("gpt-image-1", {"input_fidelity": "high"}, "input_fidelity"),
        ("gpt-image-1", {"moderation": "low", "style": "natural"}, "style"),
        ("dall-e-2", {"moderation": "auto"}, "moderation"),
        ("dall-e-2", {"output_compression": 100}, "output_compression"),
    ],
)
def test_validation_per_model(
    provider: OpenAIProvider, model: str, kwargs: dict, param: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        provider.validate(task(**kwargs), MODELS[model])
    assert err.value.param == param


def test_valid_requests_pass(provider: OpenAIProvider) -> None:
    provider.validate(task(size=(2048, 1152)), MODELS["gpt-image-2"])
    provider.validate(task(quality="hd", style="vivid", size=(1792, 1024)), MODELS["dall-e-3"])
    edit = task(images=[InputImage(PNG, "image/png")], input_fidelity="high")
    provider.validate(edit, MODELS["gpt-image-1"])
    assert to_vendor(edit, MODELS["gpt-image-1"])["input_fidelity"] == "high"
    mini = task(images=[InputImage(PNG, "image/png")], input_fidelity="low")
    provider.validate(mini, MODELS["gpt-image-1-mini"])


def test_aspect_ratio_picks_the_closest_supported_size(provider: OpenAIProvider) -> None:
    wide = task(aspect_ratio="16:9")
    provider.normalize(wide, MODELS["gpt-image-1"])
    assert wide.size == (1536, 1024)
    tall = task(aspect_ratio="9:16")
    provider.normalize(tall, MODELS["dall-e-3"])
    assert tall.size == (1024, 1792)
    flexible = task(aspect_ratio="16:9")
    provider.normalize(flexible, MODELS["gpt-image-2"])
    assert flexible.size is not None
    provider.validate(flexible, MODELS["gpt-image-2"])  # within gpt-image-2's size rule
    # A model that takes no aspect ratio keeps none: validate refuses it, naming the field.
    square = task(aspect_ratio="16:9")
    provider.normalize(square, MODELS["dall-e-2"])
    assert square.size is None


def test_new_gpt_ids_pass_through() -> None:
    spec = passthrough_spec("gpt-image-3-preview")
    assert spec is not None and spec.id == "gpt-image-3-preview"
    assert passthrough_spec("flux-dev") is None


USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"text_tokens": 12, "image_tokens": 0},
    "output_tokens": 272,
    "total_tokens": 284,
}


def test_from_vendor_reads_images_usage_and_echoes() -> None:
    payload = {
        "created": 1,
        "data": [{"b64_json": base64.b64encode(PNG).decode()}],
        "usage": USAGE,
        "size": "1024x1024",
        "quality": "low",
    }
    result = from_vendor(payload, "openai").result
    assert result.images[0].data == PNG and result.images[0].content_type == "image/png"
    assert result.usage == USAGE
    assert result.extra == {"size": "1024x1024", "quality": "low"}
    # A compatible server's usage of another shape is not passed on as OpenAI's: the SDK
    # would hold None in its integer fields.
    for odd in (
        {"total_tokens": 5},
        {"cost_credits": 4.0},
        {**USAGE, "output_tokens": "1056"},
        {**USAGE, "input_tokens": True},
        {**USAGE, "input_tokens_details": None},
        [USAGE],
    ):
        assert from_vendor({**payload, "usage": odd}, "openai").result.usage is None
    for bad in ({}, {"data": []}, {"data": [{}]}, {"data": [{"b64_json": "!!"}]}, []):
        with pytest.raises(UpstreamError):
            from_vendor(bad, "openai")


def test_from_vendor_leaves_images_answered_by_url_to_download() -> None:
    b64 = base64.b64encode(PNG).decode()
    answer = from_vendor({"data": [{"b64_json": b64}, {"url": "https://x.test/1.png"}]}, "openai")
    assert answer.urls == {1: "https://x.test/1.png"}
    assert answer.result.images[0].data == PNG and answer.result.images[1].data == b""


def err(status: int, body: str, headers: dict[str, str] | None = None) -> GatewayError:
    provider = make_provider(openai_api_key="sk-secret-1")
    return provider.error_from(UpstreamResponse(status, headers or {}, body.encode()))


def test_error_mapping() -> None:
    assert isinstance(
        err(400, '{"error":{"code":"moderation_blocked","message":"no"}}'), ContentPolicyViolation
    )
    assert isinstance(
        err(400, '{"error":{"code":"content_policy_violation"}}'), ContentPolicyViolation
    )
    bad = err(400, '{"error":{"code":"invalid_value","param":"size","message":"Invalid size"}}')
    assert isinstance(bad, InvalidRequest) and bad.param == "size"
    auth = err(401, '{"error":{"message":"Incorrect API key provided: sk-secret-1"}}')
    assert isinstance(auth, UpstreamError) and "sk-secret-1" not in auth.message
    assert isinstance(err(404, '{"error":{"code":"model_not_found"}}'), NotFound)
    assert isinstance(err(429, '{"error":{"code":"insufficient_quota"}}'), ProviderQuotaExhausted)
    limited = err(429, '{"error":{"code":"rate_limit_exceeded"}}', {"retry-after-ms": "1500"})
    assert isinstance(limited, ProviderRateLimited) and limited.headers == {"Retry-After": "2"}
    assert isinstance(err(500, "<html>oops</html>"), UpstreamError)
    # 408 and 409 are retried, as openai-python retries them (the one status table).
    for status in (408, 409, 500):
        again = err(status, "{}")
        assert isinstance(again, UpstreamError) and again.retryable, status
    teapot = err(418, "{}")
    assert isinstance(teapot, UpstreamError) and not teapot.retryable
