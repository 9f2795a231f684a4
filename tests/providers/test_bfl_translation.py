"""Pure request/response translations of the BFL adapter, per model, and its error hooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_gateway.errors import (
    ContentPolicyViolation,
    InvalidRequest,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    UpstreamError,
)
from image_gateway.providers.bfl.adapter import BFLProvider
from image_gateway.providers.bfl.models import MODELS
from image_gateway.providers.bfl.translate import parse_poll, parse_submit, to_vendor
from image_gateway.providers.kit.tasks import NOT_FOUND, Finished, Output, Pending, Submitted
from image_gateway.schemas import ImageTask, InputImage
from image_gateway.upstream.client import UpstreamClient, UpstreamResponse
from tests.conftest import make_settings


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
    assert all(spec.path == spec.id for spec in MODELS.values())


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


def provider(tmp_path: Path, key: str = "bfl_unused-key-0000") -> BFLProvider:
    """The adapter itself (its hooks are pure; nothing here is sent)."""
    http = UpstreamClient(
        connect_timeout=1, read_timeout=1, max_connections=1, max_response_bytes=1 << 20
    )
    return BFLProvider(make_settings(tmp_path, bfl_api_key=key), http)


def test_parse_submit() -> None:
    ok = parse_submit(
        {"id": "t1", "polling_url": "https://api.eu2.bfl.ai/v1/get_result?id=t1", "cost": 4.0}
    )
    assert ok == Submitted("t1", "https://api.eu2.bfl.ai/v1/get_result?id=t1", credits=4.0)
    assert parse_submit({"id": "t2"}).polling_url is None  # BFL's answers of 2024-25


def test_credits_are_charged_at_bfls_rate(tmp_path: Path) -> None:
    charge = provider(tmp_path).charge(Submitted("t", credits=4.0))
    assert charge is not None and (charge.usd, charge.credits) == (pytest.approx(0.04), 4.0)
    assert provider(tmp_path).charge(Submitted("t")) is None  # no figure: priced by the table


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, b'{"polling_url":"x"}'), (200, b"<html>"), (200, b""), (200, b"[1]"),
     (200, b'{"id":""}'), (200, b'{"id":7}'), (202, b"queued")],
)  # fmt: skip
def test_an_accepted_submission_we_cannot_use_may_have_been_charged(
    tmp_path: Path, status: int, body: bytes
) -> None:
    with pytest.raises(UpstreamError) as err:
        provider(tmp_path)._accepted(response(status, body))
    assert err.value.billed_unknown and not err.value.should_retry


def test_submit_errors_map_to_gateway_errors(tmp_path: Path) -> None:
    bfl = provider(tmp_path, key="secret-abc")
    detail = (
        b'{"detail":[{"loc":["body","width"],"msg":"Input should be a multiple of 32",'
        b'"type":"multiple_of"}]}'
    )
    with pytest.raises(InvalidRequest) as err:
        bfl._accepted(response(422, detail))
    assert err.value.param == "size" and "multiple of 32" in err.value.message
    nested = b'{"detail":[{"loc":["body","safety_tolerance"],"msg":"too high"}]}'
    with pytest.raises(InvalidRequest) as err:
        bfl._accepted(response(422, nested))
    assert err.value.param == "provider_params.safety_tolerance"
    with pytest.raises(ProviderQuotaExhausted):
        bfl._accepted(response(402, b'{"detail":"Insufficient credits"}'))
    with pytest.raises(ProviderRateLimited) as limited:
        bfl._accepted(response(429, b'{"detail":"busy"}', {"retry-after": "7"}))
    assert limited.value.headers == {"Retry-After": "7"} and limited.value.should_retry
    with pytest.raises(UpstreamError) as auth:
        bfl._accepted(response(401, b'{"detail":"Invalid key secret-abc"}'))
    assert auth.value.code == "provider_auth_failed" and "secret-abc" not in auth.value.message
    for status in (408, 409):  # the one table: not taken, so sent again
        with pytest.raises(UpstreamError) as busy:
            bfl._accepted(response(status, b'{"detail":"busy"}'))
        assert busy.value.should_retry and not busy.value.billed_unknown


def test_parse_poll_statuses() -> None:
    # BFL's status word is reported with the fraction (a job's provider_status).
    assert parse_poll({"status": "Pending"}, "t", []) == Pending(status="Pending")
    assert parse_poll({"status": "Pending", "progress": 0.4}, "t", []) == Pending(
        progress=0.4, status="Pending"
    )
    assert parse_poll({"status": "Generating"}, "t", []) == Pending(status="Generating")
    assert parse_poll({"status": "Task not found"}, "t", []) == NOT_FOUND
    ready = parse_poll({"status": "Ready", "result": {"sample": "https://d/x", "seed": 3}}, "t", [])
    assert ready == Finished((Output(url="https://d/x", seed=3),))
    for status in ("Request Moderated", "Content Moderated"):
        with pytest.raises(ContentPolicyViolation):
            parse_poll({"status": status}, "t", [])
    for status in ("Error", "Failed"):
        with pytest.raises(UpstreamError) as failed:
            parse_poll({"status": status, "details": "boom bfl_leaked-key"}, "t", [])
        assert failed.value.code == "generation_failed" and "leaked-key" not in str(failed.value)
    for result in ({"status": "Ready"}, {"status": "Ready", "result": {"sample": 5}}):
        with pytest.raises(UpstreamError):
            parse_poll(result, "t", [])
