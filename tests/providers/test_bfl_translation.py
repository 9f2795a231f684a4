"""Pure request/response translations of the BFL adapter, per model."""

from __future__ import annotations

import pytest

from image_gateway.errors import (
    ContentPolicyViolation,
    InvalidRequest,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    UpstreamError,
)
from image_gateway.providers.bfl.adapter import (
    NOT_FOUND,
    PENDING,
    parse_poll,
    parse_submit,
    to_vendor,
)
from image_gateway.providers.bfl.models import MODELS
from image_gateway.schemas import ImageTask, InputImage
from image_gateway.upstream.client import UpstreamResponse


def task(**kwargs) -> ImageTask:
    return ImageTask(provider="bfl-flux", model="x", prompt="a cat", **kwargs)


def response(status: int, body: bytes, headers: dict[str, str] | None = None) -> UpstreamResponse:
    return UpstreamResponse(status, headers or {}, body)


def test_every_openapi_generation_endpoint_is_offered() -> None:
    expected = {
        "flux-pro-1.1",
        "flux-pro-1.1-ultra",
        "flux-dev",
        "flux-pro-1.0-fill",
        "flux-pro-1.0-expand",
        "flux-kontext-pro",
        "flux-kontext-max",
        "flux-2-pro",
        "flux-2-pro-preview",
        "flux-2-max",
        "flux-2-flex",
        "flux-2-klein-4b",
        "flux-2-klein-9b",
        "flux-2-klein-9b-preview",
        "flux-pro-1.1-ultra-finetuned",
        "flux-pro-1.0-fill-finetuned",
    }
    assert set(MODELS) == expected
    assert all(spec.extra["path"] == spec.id for spec in MODELS.values())


def test_flux11_size_becomes_width_height_in_multiples_of_32() -> None:
    body = to_vendor(task(size=(1536, 1024), seed=7, output_format="png"), MODELS["flux-pro-1.1"])
    assert body == {
        "prompt": "a cat",
        "seed": 7,
        "output_format": "png",
        "width": 1440,
        "height": 960,
    }


def test_flux2_size_keeps_multiples_of_16() -> None:
    body = to_vendor(task(size=(1040, 784)), MODELS["flux-2-pro"])
    assert (body["width"], body["height"]) == (1040, 784)


@pytest.mark.parametrize("model", ["flux-kontext-pro", "flux-pro-1.1-ultra"])
def test_aspect_models_get_an_aspect_ratio(model: str) -> None:
    assert to_vendor(task(size=(1024, 768)), MODELS[model])["aspect_ratio"] == "4:3"
    assert to_vendor(task(aspect_ratio="21:9"), MODELS[model])["aspect_ratio"] == "21:9"
    assert "width" not in to_vendor(task(size=(1024, 768)), MODELS[model])


def test_aspect_ratio_for_width_height_models() -> None:
    body = to_vendor(task(aspect_ratio="16:9"), MODELS["flux-dev"])
    assert body["width"] % 32 == 0 and abs(body["width"] / body["height"] - 16 / 9) < 0.1


def test_input_images_map_to_reference_fields() -> None:
    images = [
        InputImage(b"\x89PNG\r\n\x1a\nA", "image/png"),
        InputImage(b"\x89PNG\r\n\x1a\nB", "image/png"),
    ]
    kontext = to_vendor(task(images=images), MODELS["flux-kontext-pro"])
    assert set(kontext) >= {"input_image", "input_image_2"} and "input_image_3" not in kontext
    fill = to_vendor(task(images=images[:1]), MODELS["flux-pro-1.0-fill"])
    assert "image" in fill and "input_image" not in fill


def test_provider_params_override_translated_fields() -> None:
    body = to_vendor(
        task(size=(1024, 768), params={"width": 512, "safety_tolerance": 1}), MODELS["flux-pro-1.1"]
    )
    assert body["width"] == 512 and body["safety_tolerance"] == 1


def test_parse_submit() -> None:
    ok = parse_submit(
        response(
            200,
            b'{"id":"t1","polling_url":"https://api.eu2.bfl.ai/v1/get_result?id=t1","cost":4.0}',
        ),
        [],
    )
    assert ok.task_id == "t1" and ok.polling_url and ok.cost_credits == 4.0
    old = parse_submit(response(200, b'{"id":"t2"}'), [])
    assert old.polling_url is None
    assert parse_submit(response(201, b'{"id":"t3"}'), []).task_id == "t3"  # any 2xx accepts


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, b'{"polling_url":"x"}'), (200, b"<html>"), (200, b""), (200, b"[1]"),
     (200, b'{"id":""}'), (200, b'{"id":7}'), (202, b"queued")],
)  # fmt: skip
def test_an_accepted_submission_we_cannot_use_may_have_been_charged(
    status: int, body: bytes
) -> None:
    with pytest.raises(UpstreamError) as err:
        parse_submit(response(status, body), [])
    assert err.value.billed_unknown and not err.value.should_retry


def test_submit_errors_map_to_gateway_errors() -> None:
    detail = (
        b'{"detail":[{"loc":["body","width"],"msg":"Input should be a multiple of 32",'
        b'"type":"multiple_of"}]}'
    )
    with pytest.raises(InvalidRequest) as err:
        parse_submit(response(422, detail), [])
    assert err.value.param == "size"
    with pytest.raises(ProviderQuotaExhausted):
        parse_submit(response(402, b'{"detail":"Insufficient credits"}'), [])
    with pytest.raises(ProviderRateLimited) as limited:
        parse_submit(response(429, b'{"detail":"busy"}', {"retry-after": "7"}), [])
    assert limited.value.headers == {"Retry-After": "7"}
    with pytest.raises(UpstreamError) as auth:
        parse_submit(response(401, b'{"detail":"Invalid key secret-abc"}'), ["secret-abc"])
    assert auth.value.code == "provider_auth_failed" and "secret-abc" not in auth.value.message


def test_parse_poll_statuses() -> None:
    assert parse_poll(response(200, b'{"status":"Pending"}'), "t", []) == PENDING
    assert parse_poll(response(200, b'{"status":"Generating"}'), "t", []) == PENDING
    assert parse_poll(response(202, b""), "t", []) == PENDING
    assert parse_poll(response(503, b""), "t", []) == PENDING
    assert parse_poll(response(200, b"not json"), "t", []) == PENDING
    assert parse_poll(response(200, b'{"status":"Task not found"}'), "t", []) == NOT_FOUND
    assert parse_poll(response(404, b""), "t", []) == NOT_FOUND
    ready = parse_poll(
        response(200, b'{"status":"Ready","result":{"sample":"u","seed":3}}'), "t", []
    )
    assert ready == {"sample": "u", "seed": 3}
    for status in ("Request Moderated", "Content Moderated"):
        with pytest.raises(ContentPolicyViolation):
            parse_poll(response(200, f'{{"status":"{status}"}}'.encode()), "t", [])
    for status in ("Error", "Failed"):
        with pytest.raises(UpstreamError):
            parse_poll(response(200, f'{{"status":"{status}","details":"boom"}}'.encode()), "t", [])
    with pytest.raises(UpstreamError):
        parse_poll(response(200, b'{"status":"Ready"}'), "t", [])
