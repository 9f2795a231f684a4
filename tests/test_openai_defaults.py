"""What the OpenAI Images API accepts with its documented default (or JSON null), the gateway
accepts on every provider, as "not given"; a value the chosen model cannot honour stays a 400
naming the field. Real gateway, provider emulators and the official SDK, over loopback."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import openai
import pytest
from PIL import Image

from image_gateway.schemas import FREE_TEXT_FIELDS, OPENAI_DEFAULTS, GenerationBody
from tests.conftest import (
    GATEWAY_TEST_KEY,
    OpenAIEmulatorHandle,
    RunningGateway,
    emulator_settings,
)
from tests.jobs.support import submit, wait_job

# Each optional field of openai-python 3.57.0's `images.generate` with its documented default.
SDK_GENERATE_DEFAULTS: dict[str, Any] = {
    "n": 1,
    "size": "auto",
    "quality": "auto",
    "style": "vivid",
    "background": "auto",
    "moderation": "auto",
    "output_format": "png",
    "output_compression": 100,
    "stream": False,
    "partial_images": 0,
    "frame_count": 9,
    "frame_duration_ms": 200,
}
# ... and of `images.edit` (which has no style or moderation, and adds input_fidelity).
SDK_EDIT_DEFAULTS: dict[str, Any] = {
    "n": 1,
    "size": "auto",
    "quality": "auto",
    "background": "auto",
    "output_format": "png",
    "output_compression": 100,
    "input_fidelity": "low",
    "stream": False,
    "partial_images": 0,
    "frame_count": 9,
    "frame_duration_ms": 200,
}
# Never forwarded to a provider with their defaults (`stream: true` is: tests/test_streaming.py).
GATEWAY_ONLY = ("stream", "partial_images", "frame_count", "frame_duration_ms")


@pytest.fixture
def gw(start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any) -> RunningGateway:
    return start_gateway(
        **emulator_settings(openai_emu, bfl),
    )


@pytest.fixture
def sdk(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)


def png(size: tuple[int, int] = (64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(buf, "PNG")
    return buf.getvalue()


def decoded(b64: str | None) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64 or "")))


def openai_sent(emu: OpenAIEmulatorHandle) -> dict[str, Any]:
    """What the gateway sent the OpenAI emulator last (JSON body or multipart values)."""
    last = emu.stats()["last_request"]
    sent: dict[str, Any] = last.get("json") or last.get("form_values") or {}
    return sent


def upstream_calls(emu: OpenAIEmulatorHandle, bfl: Any) -> int:
    return int(sum(emu.stats()["requests"].values()) + bfl.stats()["submits"])


# --- the official SDK with every default spelled out -------------------------------------------


def sent_to_gpt(emu: OpenAIEmulatorHandle, bfl: Any) -> dict[str, Any]:
    sent = openai_sent(emu)
    # Defaults a GPT image model honours go on as they are; the rest never leave the gateway.
    assert (sent["quality"], sent["background"], sent["moderation"]) == ("auto",) * 3
    assert sent["output_format"] == "png" and "output_compression" not in sent  # png: n/a
    return sent


def sent_to_dalle(emu: OpenAIEmulatorHandle, bfl: Any) -> dict[str, Any]:
    sent = openai_sent(emu)
    assert sent["style"] == "vivid" and sent["response_format"] == "b64_json"
    for name in ("quality", "background", "moderation", "output_format", "output_compression"):
        assert name not in sent, name  # dall-e-3 lacks these (and `auto` quality)
    return sent


def sent_to_flux(emu: OpenAIEmulatorHandle, bfl: Any) -> dict[str, Any]:
    sent: dict[str, Any] = bfl.stats()["last_submit"]["json"]
    assert sent["output_format"] == "png"  # honoured: FLUX's own default is jpeg
    for name in ("quality", "style", "background", "moderation", "output_compression"):
        assert name not in sent, name
    return sent


def sent_nowhere(emu: OpenAIEmulatorHandle, bfl: Any) -> dict[str, Any]:
    assert upstream_calls(emu, bfl) == 0
    return {}


GENERATE_TARGETS: dict[str, Callable[[OpenAIEmulatorHandle, Any], dict[str, Any]]] = {
    "gpt-image-1.5": sent_to_gpt,
    "dall-e-3": sent_to_dalle,
    "bfl-flux/flux-pro-1.1": sent_to_flux,
    "local/local-art": sent_nowhere,
}


@pytest.mark.parametrize("model", list(GENERATE_TARGETS))
def test_sdk_generate_with_every_default_spelled_out(
    gw: RunningGateway,
    sdk: openai.OpenAI,
    openai_emu: OpenAIEmulatorHandle,
    bfl: Any,
    model: str,
) -> None:
    result = sdk.images.generate(model=model, prompt="a fox", user="u1", **SDK_GENERATE_DEFAULTS)
    assert result.data is not None and len(result.data) == 1
    item = result.data[0]
    if item.url:  # DALL·E's default response_format
        with gw.client() as http:
            data = http.get(item.url).content
    else:
        data = base64.b64decode(item.b64_json or "")
    assert Image.open(io.BytesIO(data)).format == "PNG"
    sent = GENERATE_TARGETS[model](openai_emu, bfl)
    assert not set(GATEWAY_ONLY) & set(sent)


def test_sdk_generate_dalle_standard_quality_is_its_own_default(
    sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle
) -> None:
    sdk.images.generate(model="dall-e-3", prompt="p", quality="standard", style="vivid")
    assert openai_sent(openai_emu)["quality"] == "standard"
    # ... and an old DALL·E client's `standard` means "not given" to a GPT image model.
    sdk.images.generate(model="gpt-image-1", prompt="p", quality="standard", style="vivid")
    sent = openai_sent(openai_emu)
    assert "quality" not in sent and "style" not in sent


def test_sdk_generate_with_nulls(sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle) -> None:
    """The SDK sends `None` as JSON null: every optional field may be null."""
    nulls = dict.fromkeys(SDK_GENERATE_DEFAULTS)
    for model in ("gpt-image-1", "dall-e-3", "flux-dev", "local-art"):
        result = sdk.images.generate(model=model, prompt="p", **nulls, response_format=None)
        assert result.data is not None and len(result.data) == 1, model
    assert set(openai_sent(openai_emu)) == {"model", "prompt", "n", "response_format"}


EDIT_TARGETS = ("gpt-image-1.5", "gpt-image-2", "flux-kontext-pro", "local-art")


@pytest.mark.parametrize("model", EDIT_TARGETS)
def test_sdk_edit_with_every_default_spelled_out(
    sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle, bfl: Any, model: str
) -> None:
    result = sdk.images.edit(
        model=model,
        prompt="make it night",
        image=("in.png", png(), "image/png"),
        **SDK_EDIT_DEFAULTS,
    )
    assert result.data is not None and len(result.data) == 1
    assert decoded(result.data[0].b64_json).format == "PNG"
    if model.startswith("gpt"):
        sent = openai_sent(openai_emu)
        # gpt-image-1.5 takes input_fidelity (low is sent); gpt-image-2 does not ("omit it",
        # and the emulator refuses it), so its default is dropped.
        assert sent.get("input_fidelity") == ("low" if model == "gpt-image-1.5" else None)
        assert not set(GATEWAY_ONLY) & set(sent)
    elif model.startswith("flux"):
        sent = bfl.stats()["last_submit"]["json"]
        assert "input_image" in sent and "input_fidelity" not in sent
        assert not set(GATEWAY_ONLY) & set(sent)


def test_async_job_with_sdk_defaults(gw: RunningGateway, bfl: Any) -> None:
    """The same body as a job (`Prefer: respond-async`): accepted, stored without the fields
    that meant "not given", and run."""
    body = {"prompt": "p", "model": "flux-dev", "user": "u1", **SDK_GENERATE_DEFAULTS}
    with gw.client() as http:
        job = submit(http, body)
        done = wait_job(http, job["id"])
    assert done["status"] == "succeeded", done
    assert done["result"]["model"] == "flux-dev" and len(done["result"]["data"]) == 1
    sent = bfl.stats()["last_submit"]["json"]
    assert not {"quality", "style", "stream", "partial_images"} & set(sent)


# --- raw bodies: null for every optional field ---------------------------------------------------

OPTIONAL_FIELDS = sorted(
    name for name, info in GenerationBody.model_fields.items() if not info.is_required()
)


@pytest.mark.parametrize("model", ["gpt-image-1", "dall-e-3", "flux-2-pro", "local-art"])
def test_json_null_in_every_optional_field(gw: RunningGateway, model: str) -> None:
    body = {**dict.fromkeys(OPTIONAL_FIELDS), "prompt": "p", "model": model}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == model and len(resp.json()["data"]) == 1


def test_null_inside_provider_params_and_for_our_own_fields(gw: RunningGateway) -> None:
    body = {
        "prompt": "p",
        "provider_params": {"model": "local-art", "seed": None, "input_fidelity": None},
        "fallbacks": None,
        "seed": None,
        "aspect_ratio": None,
        "negative_prompt": None,
        "user_id": None,
    }
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == "local-art"


def test_null_keeps_unknown_fields_refused(gw: RunningGateway) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"prompt": "p", "api_base": None, "n": None}
        )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "api_base"


def test_json_edit_with_nulls(gw: RunningGateway) -> None:
    image_url = "data:image/png;base64," + base64.b64encode(png()).decode()
    edit_fields = [*SDK_EDIT_DEFAULTS, "response_format", "user", "provider_params", "fallbacks"]
    body = {
        **dict.fromkeys(edit_fields),
        "images": [{"image_url": image_url}],
        "mask": None,
        "prompt": "p",
        "model": "local-art",
    }
    with gw.client() as http:
        resp = http.post("/v1/images/edits", json=body)
    assert resp.status_code == 200, resp.text
    assert decoded(resp.json()["data"][0]["b64_json"]).size == (64, 64)


# The string forms of the defaults in a multipart edit, as the SDK and curl send them.
FORM_DEFAULTS = {
    "stream": "false",
    "partial_images": "0",
    "n": "1",
    "size": "auto",
    "quality": "auto",
    "background": "auto",
    "output_format": "png",
    "output_compression": "100",
    "input_fidelity": "low",
    "frame_count": "9",
    "frame_duration_ms": "200",
}


@pytest.mark.parametrize("model", EDIT_TARGETS)
def test_multipart_edit_with_string_defaults(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, model: str
) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": model, **FORM_DEFAULTS},
            files={"image": ("in.png", png(), "image/png")},
        )
    assert resp.status_code == 200, resp.text
    assert decoded(resp.json()["data"][0]["b64_json"]).format == "PNG"
    if model.startswith("gpt"):
        assert not set(GATEWAY_ONLY) & set(openai_sent(openai_emu))


# --- what no model here offers: a 400 naming the field, never "unrecognized" --------------------

NOT_OFFERED_VALUES = [
    ("frame_count", 4, "GIF"),
    ("frame_duration_ms", 100, "GIF"),
    ("complexity", "high", "complexity"),
    ("svg", {"model": "x"}, "SVG"),
]


@pytest.mark.parametrize(("field", "value", "words"), NOT_OFFERED_VALUES)
@pytest.mark.parametrize("model", ["gpt-image-1", "flux-dev", "local-art"])
def test_not_offered_values_name_the_field(
    gw: RunningGateway,
    openai_emu: OpenAIEmulatorHandle,
    bfl: Any,
    model: str,
    field: str,
    value: Any,
    words: str,
) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"prompt": "p", "model": model, field: value}
        )
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["param"], error["code"]) == (field, "unsupported_parameter")
    assert words in error["message"] and "Unrecognized" not in error["message"]
    assert upstream_calls(openai_emu, bfl) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("frame_count", "3"), ("svg[model]", "x")],
)
def test_multipart_not_offered_values_name_the_field(
    gw: RunningGateway, field: str, value: str
) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art", field: value},
            files={"image": ("in.png", png(), "image/png")},
        )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == field.split("[")[0]


# --- a value the model cannot honour stays a 400 naming it, before any upstream call -----------

REFUSED = [
    ("bfl-flux/flux-pro-1.1", {"style": "natural"}, "style"),
    ("bfl-flux/flux-pro-1.1", {"quality": "high"}, "quality"),
    ("bfl-flux/flux-pro-1.1", {"background": "transparent"}, "background"),
    ("bfl-flux/flux-pro-1.1", {"moderation": "low"}, "moderation"),
    ("bfl-flux/flux-pro-1.1", {"output_compression": 80, "output_format": "jpeg"},
     "output_compression"),
    ("bfl-flux/flux-pro-1.1", {"negative_prompt": "fog"}, "negative_prompt"),
    ("gpt-image-1", {"style": "natural"}, "style"),
    ("gpt-image-1", {"seed": 7}, "seed"),
    ("gpt-image-1", {"output_compression": 50}, "output_compression"),  # png
    ("gpt-image-1", {"input_fidelity": "high"}, "input_fidelity"),  # edits only
    ("dall-e-3", {"background": "opaque"}, "background"),
    ("dall-e-3", {"moderation": "low"}, "moderation"),
    ("dall-e-3", {"output_format": "webp"}, "output_format"),
    ("dall-e-3", {"quality": "low"}, "quality"),
    ("dall-e-3", {"style": "anime"}, "style"),
]  # fmt: skip


@pytest.mark.parametrize(("model", "extra", "param"), REFUSED)
def test_values_the_model_cannot_honour_are_refused(
    gw: RunningGateway,
    openai_emu: OpenAIEmulatorHandle,
    bfl: Any,
    model: str,
    extra: dict[str, Any],
    param: str,
) -> None:
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={"prompt": "p", "model": model, **extra})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert upstream_calls(openai_emu, bfl) == 0


@pytest.mark.parametrize(
    ("model", "fidelity"), [("gpt-image-2", "high"), ("gpt-image-1-mini", "high")]
)
def test_edit_input_fidelity_the_model_lacks_is_refused(
    sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle, model: str, fidelity: str
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        sdk.images.edit(
            model=model, prompt="p", image=("a.png", png(), "image/png"), input_fidelity=fidelity
        )
    assert err.value.param == "input_fidelity"
    assert sum(openai_emu.stats()["requests"].values()) == 0


# --- defaults are decided per candidate: a fallback without the feature drops them --------------


def test_a_fallback_without_the_feature_treats_defaults_as_not_given(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    body = {
        "prompt": "p",
        "model": "gpt-image-1",
        "quality": "auto",
        "moderation": "auto",
        "background": "auto",
        "fallbacks": ["local"],
    }
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
        assert resp.status_code == 200, resp.text
        assert resp.json()["model"] == "local-art"
        assert resp.json()["fallback_from"] == "openai/gpt-image-1"
        assert openai_emu.stats()["requests"]["generate"] == 1  # the primary was called
        refused = http.post("/v1/images/generations", json={**body, "quality": "high"})
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "fallbacks[0]"


def test_the_defaults_table_names_every_field_the_body_knows() -> None:
    assert set(OPENAI_DEFAULTS) <= set(GenerationBody.model_fields)


# --- forms: empty and "null" mean "not given" (schemas.form_value); free text keeps "null" ------

# Every optional field whose valid values can never be the text "null", as a form sends it.
TYPED_FORM_FIELDS = sorted(
    set(OPTIONAL_FIELDS) - FREE_TEXT_FIELDS - {"model", "svg"} | {"svg[model]"}
)


@pytest.mark.parametrize("text", ["null", ""], ids=["null", "empty"])
@pytest.mark.parametrize("model", ["gpt-image-1.5", "local-art"])
def test_multipart_null_and_empty_typed_fields_are_not_given(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, model: str, text: str
) -> None:
    """What `FormData.append(name, null)` sends ("null") and what a browser sends for an empty
    input (""), in every typed field at once: each means "not given"."""
    assert {"stream", "partial_images", "n", "size", "quality", "input_fidelity"} <= set(
        TYPED_FORM_FIELDS
    )
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": model, **dict.fromkeys(TYPED_FORM_FIELDS, text)},
            files={"image": ("in.png", png(), "image/png")},
        )
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == model and len(resp.json()["data"]) == 1
    assert decoded(resp.json()["data"][0]["b64_json"]).format == "PNG"
    if model.startswith("gpt"):
        sent = openai_sent(openai_emu)
        assert "null" not in sent.values() and "" not in sent.values(), sent
        assert set(sent) == {"model", "prompt", "n"}, sent


@pytest.mark.parametrize("field", TYPED_FORM_FIELDS)
def test_multipart_null_in_each_typed_field_alone(gw: RunningGateway, field: str) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art", field: "null"},
            files={"image": ("in.png", png(), "image/png")},
        )
    assert resp.status_code == 200, resp.text


def test_multipart_free_text_keeps_the_text_null(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "null", "model": "gpt-image-1.5", "user": "null", "n": "null"},
            files={"image": ("in.png", png(), "image/png")},
        )
        assert resp.status_code == 200, resp.text
        sent = openai_sent(openai_emu)
        assert (sent["prompt"], sent["user"], sent["n"]) == ("null", "null", "1")
        empty_prompt = http.post(
            "/v1/images/edits",
            data={"prompt": "", "model": "local-art", "user": ""},
            files={"image": ("in.png", png(), "image/png")},
        )
    assert empty_prompt.status_code == 400 and empty_prompt.json()["error"]["param"] == "prompt"


def test_multipart_model_null_is_the_default_provider(gw: RunningGateway) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "null", "provider": "", "fallbacks": "null"},
            files={"image": ("in.png", png(), "image/png")},
        )
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == "local-art"  # DEFAULT_PROVIDER's default model


@pytest.mark.parametrize("text", ["null", ""], ids=["null", "empty"])
def test_multipart_mask_and_image_as_null_text_are_not_given(gw: RunningGateway, text: str) -> None:
    image_url = "data:image/png;base64," + base64.b64encode(png()).decode()
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art", "mask": text, "image": text,
                  "image_url": [image_url, text]},
        )  # fmt: skip
        assert resp.status_code == 200, resp.text
        # A browser's empty file inputs (no file chosen): an empty part without a filename.
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art"},
            files=[
                ("image", ("in.png", png(), "image/png")),
                ("mask", ("", b"", "application/octet-stream")),
                ("image[]", ("", b"", "application/octet-stream")),
            ],
        )
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    ("field", "words"),
    [("mask", "mask must be an uploaded image file"), ("image", "image_url")],
)
def test_multipart_text_where_a_file_belongs_says_what_is_wrong(
    gw: RunningGateway, field: str, words: str
) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art", field: "https://example.com/m.png"},
            files={"image[]": ("in.png", png(), "image/png")},
        )
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["param"] == field and words in error["message"], error
    assert "Unrecognized" not in error["message"]


def test_multipart_null_and_empty_provider_params(gw: RunningGateway) -> None:
    with gw.client() as http:
        for text in ("null", ""):
            resp = http.post(
                "/v1/images/edits",
                data={"prompt": "p", "model": "local-art", "provider_params": text},
                files={"image": ("in.png", png(), "image/png")},
            )
            assert resp.status_code == 200, (text, resp.text)
        unknown = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art", "api_base": "null"},
            files={"image": ("in.png", png(), "image/png")},
        )
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "api_base"


def test_json_edit_null_file_id_beside_image_url_is_not_given(gw: RunningGateway) -> None:
    image_url = "data:image/png;base64," + base64.b64encode(png()).decode()
    with gw.client() as http:
        for mask in (
            {"image_url": image_url, "file_id": None},
            {"image_url": None, "file_id": None},  # nothing given: no mask
        ):
            resp = http.post(
                "/v1/images/edits",
                json={
                    "prompt": "p",
                    "model": "local-art",
                    "images": [{"image_url": image_url, "file_id": None}],
                    "mask": mask,
                },
            )
            assert resp.status_code == 200, (mask, resp.text)
        for images, param in (
            ([{"image_url": None, "file_id": None}], "images[0]"),
            ([{"image_url": image_url, "file_id": "file-1"}], "images[0]"),
        ):
            resp = http.post(
                "/v1/images/edits", json={"prompt": "p", "model": "local-art", "images": images}
            )
            assert resp.status_code == 400 and resp.json()["error"]["param"] == param, resp.text
