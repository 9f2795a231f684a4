"""`replicate` translations, pure: a task to a prediction's input per model, Replicate's
predictions to outcomes, its problem-JSON errors to the field they name."""

from __future__ import annotations

from typing import Any

import pytest

from image_gateway.errors import ContentPolicyViolation, UpstreamError, UpstreamTimeout
from image_gateway.providers.kit.tasks import Finished, Pending
from image_gateway.providers.replicate import translate
from image_gateway.providers.replicate.models import MODELS, versioned
from image_gateway.schemas import ImageTask, InputImage

SECRET = "r8_secret-token-0123456789"


def task(model: str, **fields: Any) -> ImageTask:
    return ImageTask(provider="replicate", model=model, prompt="a fox", **fields)


@pytest.mark.parametrize(
    ("model", "fields", "expected"),
    [
        ("black-forest-labs/flux-schnell", {"size": (1024, 576)}, {"aspect_ratio": "16:9"}),
        ("black-forest-labs/flux-schnell", {"n": 4}, {"num_outputs": 4}),
        (
            "black-forest-labs/flux-1.1-pro",
            {"size": (2048, 1024)},
            {"aspect_ratio": "custom", "width": 1440, "height": 704},
        ),
        ("black-forest-labs/flux-1.1-pro", {"aspect_ratio": "9:16"}, {"aspect_ratio": "9:16"}),
        ("recraft-ai/recraft-v3", {"size": (1707, 1024)}, {"size": "1707x1024"}),
        ("black-forest-labs/flux-dev", {"output_format": "jpeg"}, {"output_format": "jpg"}),
    ],
)
def test_common_fields_become_each_models_own(
    model: str, fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    sent = translate.to_input(task(model, **fields), MODELS[model])
    assert {k: sent[k] for k in expected} == expected


def test_an_edit_sends_its_image_as_a_data_uri_and_keeps_its_shape() -> None:
    image = InputImage(b"\x89PNG\r\n\x1a\n...", "image/png")
    model = MODELS["black-forest-labs/flux-kontext-pro"]
    sent = translate.to_input(task(model.id, images=[image]), model)
    assert sent["input_image"].startswith("data:image/png;base64,")
    assert sent["aspect_ratio"] == "match_input_image"


def test_versions_pin_a_catalogue_model_or_describe_another() -> None:
    known = versioned("black-forest-labs/flux-schnell:" + "a" * 64)
    other = versioned("acme/model:" + "b" * 64)
    assert known is not None and known.version == "a" * 64 and known.images_per_call == 4
    assert other is not None and other.size_mode == "wh" and other.name == "acme/model"
    assert versioned("acme/model") is None and versioned("acme/model:" + "c" * 10) is None
    body = translate.to_vendor(task(other.id, size=(640, 480)), other)
    assert body == {"version": "b" * 64, "input": {"prompt": "a fox", "width": 640, "height": 480}}


@pytest.mark.parametrize(
    "output",
    [
        "https://replicate.delivery/a.webp",
        ["https://replicate.delivery/a.webp"],
        ["data:image/png;base64,iVBORw0KGgo="],
    ],
)
def test_every_output_shape_is_read(output: Any) -> None:
    outcome = translate.parse_poll({"status": "succeeded", "output": output}, "p1", [])
    assert isinstance(outcome, Finished) and len(outcome.outputs) == 1


def test_statuses() -> None:
    for status in ("starting", "processing", "queued-someday"):  # the word goes to the journal
        assert translate.parse_poll({"status": status}, "p1", []) == Pending(status=status)
    with pytest.raises(ContentPolicyViolation):
        translate.parse_poll({"status": "failed", "error": "NSFW content detected."}, "p1", [])
    with pytest.raises(UpstreamError) as failed:
        translate.parse_poll({"status": "failed", "error": f"bad key {SECRET}"}, "p1", [SECRET])
    assert failed.value.code == "generation_failed" and SECRET not in failed.value.message
    with pytest.raises(UpstreamError) as canceled:
        translate.parse_poll({"status": "canceled"}, "p1", [])
    assert canceled.value.code == "prediction_canceled"
    with pytest.raises(UpstreamTimeout):
        translate.parse_poll({"status": "aborted"}, "p1", [])


def test_problem_json_names_the_field_in_the_gateways_terms() -> None:
    extra = translate.error_detail(
        {
            "title": "Input validation failed",
            "status": 422,
            "invalid_fields": [
                {
                    "type": "additional_property_not_allowed",
                    "field": "",
                    "description": "Additional property signal is not allowed",
                }
            ],
        },
        [],
    )
    assert extra is not None and extra.param == "provider_params.signal"
    quality = translate.error_detail(
        {"invalid_fields": [{"type": "number_lte", "field": "output_quality"}]}, []
    )
    assert quality is not None and quality.param == "output_compression"
    version = translate.error_detail(
        {"title": "Invalid version or not permitted", "detail": "does not exist", "status": 422}, []
    )
    assert version is not None and version.code == translate.INVALID_VERSION
    assert translate.rate_limit_hint({"detail": "Your rate limit resets in ~30s."}) == 30.0
    assert translate.cancel_after(60, 300) == "360s"
