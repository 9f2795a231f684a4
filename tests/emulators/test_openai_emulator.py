"""The OpenAI Images emulator over real sockets, driven by httpx and the official `openai` SDK."""

from __future__ import annotations

import base64
import io
import itertools
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import openai
import orjson
import pytest
from PIL import Image

from emulators.kit.faults import FAKE_IMAGES
from emulators.openai_images import MODERATION_MARKER, OpenAIEmulator, add_cli_arguments

KEY = "sk-emulator"
AUTH = {"Authorization": f"Bearer {KEY}"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emu() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator() as server:
        yield server


@pytest.fixture(scope="module")
def http(emu: OpenAIEmulator) -> Iterator[httpx.Client]:
    assert emu.url is not None
    with httpx.Client(base_url=emu.url, timeout=5.0) as client:
        yield client


@pytest.fixture(scope="module")
def sdk(emu: OpenAIEmulator) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=emu.base_url, api_key=KEY, max_retries=0, timeout=5.0) as client:
        yield client


@pytest.fixture(autouse=True)
def _fresh_state(http: httpx.Client) -> None:
    assert http.post("/_emulator/reset").status_code == 200


def png(width: int, height: int, mode: str = "RGB", fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (width, height), "red" if mode == "RGB" else (255, 0, 0, 128)).save(buf, fmt)
    return buf.getvalue()


def decode(b64: str | None) -> Image.Image:
    assert b64
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def generate(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post(
        "/v1/images/generations", json={"prompt": "a lighthouse", **body}, headers=AUTH
    )


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code >= 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def stats(http: httpx.Client) -> dict[str, Any]:
    result: dict[str, Any] = http.get("/_emulator/stats").json()
    return result


def add_faults(http: httpx.Client, *faults: dict[str, Any]) -> None:
    response = http.post("/_emulator/faults", json={"faults": list(faults)})
    assert response.status_code == 200, response.text


# --- generations -------------------------------------------------------------------------------


def test_gpt_image_1_via_sdk(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="gpt-image-1", prompt="a red fox in snow", size="1536x1024", quality="low", n=2
    )
    assert result.data is not None and len(result.data) == 2
    for item in result.data:
        image = decode(item.b64_json)
        assert (image.format, image.size) == ("PNG", (1536, 1024))
        assert item.url is None
    assert (result.size, result.quality, result.background, result.output_format) == (
        "1536x1024",
        "low",
        "opaque",
        "png",
    )
    assert result.usage is not None
    assert result.usage.output_tokens == 2 * 400  # REFERENCE §1.6: low, 1536x1024
    assert result.usage.input_tokens_details.text_tokens > 0
    assert result.usage.input_tokens_details.image_tokens == 0
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens


def test_gpt_auto_size_and_quality(http: httpx.Client) -> None:
    body = generate(http, model="gpt-image-1.5").json()
    assert (body["size"], body["quality"]) == ("1024x1024", "medium")
    assert decode(body["data"][0]["b64_json"]).size == (1024, 1024)
    assert body["usage"]["output_tokens"] == 1056
    assert "url" not in body["data"][0]


@pytest.mark.parametrize(
    ("fmt", "background", "pil_format", "mode"),
    [
        ("webp", "transparent", "WEBP", "RGBA"),
        ("jpeg", "opaque", "JPEG", "RGB"),
        ("png", "transparent", "PNG", "RGBA"),
    ],
)
def test_output_formats(
    http: httpx.Client, fmt: str, background: str, pil_format: str, mode: str
) -> None:
    extra = {"output_compression": 40} if fmt != "png" else {}
    response = generate(
        http,
        model="gpt-image-1-mini",
        size="1024x1536",
        output_format=fmt,
        background=background,
        **extra,
    )
    body = response.json()
    image = decode(body["data"][0]["b64_json"])
    assert (image.format, image.size, image.mode) == (pil_format, (1024, 1536), mode)
    assert (body["output_format"], body["background"]) == (fmt, background)


@pytest.mark.parametrize(
    "model", ["gpt-image-2", "gpt-image-2-2026-04-21", "chatgpt-image-latest", "gpt-image-7"]
)
def test_gpt_image_2_flexible_sizes(http: httpx.Client, model: str) -> None:
    body = generate(http, model=model, size="2048x1152").json()
    assert body["size"] == "2048x1152"
    assert decode(body["data"][0]["b64_json"]).size == (2048, 1152)
    for bad in ("1000x1000", "3856x1296", "2400x784", "800x800", "3840x2400", "big"):
        error = error_of(generate(http, model=model, size=bad))
        assert (error["param"], error["code"]) == ("size", "invalid_value"), bad


def test_dall_e_3_url_download_and_signature(http: httpx.Client, sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="dall-e-3", prompt="a castle", size="1024x1792", style="natural"
    )
    assert result.data is not None and len(result.data) == 1
    item = result.data[0]
    assert item.b64_json is None and item.url is not None
    assert item.revised_prompt and "a castle" in item.revised_prompt
    assert result.usage is None and result.size is None
    download = httpx.get(item.url)
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(download.content)).size == (1024, 1792)

    tampered = item.url.replace("sig=", "sig=x")
    denied = httpx.get(tampered)
    assert denied.status_code == 403
    assert b"<Code>AuthenticationFailed</Code>" in denied.content
    assert denied.headers["x-ms-error-code"] == "AuthenticationFailed"
    later = item.url.replace("se=", "se=9")  # a longer expiry breaks the signature too
    assert httpx.get(later).status_code == 403


def test_url_expires_after_ttl() -> None:
    with OpenAIEmulator(url_ttl=2) as short:
        response = httpx.post(
            f"{short.base_url}/images/generations",
            json={"model": "dall-e-2", "prompt": "x", "size": "256x256"},
            headers=AUTH,
        )
        url = response.json()["data"][0]["url"]
        expiry = int(parse_qs(urlsplit(url).query)["se"][0])
        assert 0 < expiry - response.json()["created"] <= 2
        assert httpx.get(url).status_code == 200
        short.app.files.clock = lambda: time.time() + 10  # jump past the expiry
        expired = httpx.get(url)
        assert expired.status_code == 403 and b"expired" in expired.content


def test_dall_e_2_b64_and_default_model(http: httpx.Client) -> None:
    body = generate(http, size="256x256", response_format="b64_json", n=3).json()
    assert len(body["data"]) == 3 and "usage" not in body
    assert decode(body["data"][0]["b64_json"]).size == (256, 256)
    assert "revised_prompt" not in body["data"][0]
    assert "url" in generate(http).json()["data"][0]  # no model: dall-e-2, url by default
    gpt = generate(http, output_format="webp").json()  # a GPT-only field: gpt-image-1
    assert gpt["output_format"] == "webp" and "usage" in gpt
    assert "url" in generate(http, model="dall-e-3", stream=False).json()["data"][0]
    assert error_of(generate(http, model="dall-e-3", stream=True))["param"] == "stream"


# What openai-python 3.57.0 documents as each field's default, as the SDK sends it explicitly.
SDK_DEFAULTS: dict[str, dict[str, Any]] = {
    "gpt-image-1": {
        "quality": "auto",
        "size": "auto",
        "background": "auto",
        "moderation": "auto",
        "output_format": "png",
        "output_compression": 100,
    },
    "dall-e-3": {"quality": "standard", "style": "vivid", "response_format": "url"},
    "dall-e-2": {"quality": "standard", "response_format": "url"},
}


@pytest.mark.parametrize("model", list(SDK_DEFAULTS))
def test_sdk_explicit_defaults_and_nulls_are_accepted(
    sdk: openai.OpenAI, http: httpx.Client, model: str
) -> None:
    """As the real API: the SDK's `stream=False`, `partial_images=0`, `n=1` and each documented
    default are what leaving the field out means, on every model; so is JSON null."""
    defaults = SDK_DEFAULTS[model]
    result = sdk.images.generate(
        model=model,
        prompt="p",
        n=1,
        stream=False,
        partial_images=0,
        user="u1",
        safety_identifier="user-hash",
        **defaults,
    )
    assert result.data is not None and len(result.data) == 1
    sent = stats(http)["last_request"]["json"]
    assert sent["stream"] is False and sent["partial_images"] == 0
    nulls = generate(http, model=model, **dict.fromkeys([*defaults, "n", "stream", "user"]))
    assert nulls.status_code == 200, nulls.text


@pytest.mark.parametrize(
    ("model", "fidelity"), [("gpt-image-1.5", "high"), ("gpt-image-1-mini", "low")]
)
def test_sdk_edit_explicit_defaults_are_accepted(
    sdk: openai.OpenAI, http: httpx.Client, model: str, fidelity: str
) -> None:
    result = sdk.images.edit(
        model=model,
        image=("a.png", png(64, 64), "image/png"),
        prompt="p",
        stream=False,
        partial_images=0,
        input_fidelity=fidelity,
        quality="auto",
        background="auto",
        output_compression=100,
        size="auto",
    )
    assert result.data is not None and decode(result.data[0].b64_json).size == (64, 64)
    values = stats(http)["last_request"]["form_values"]
    assert values["stream"] == "false" and values["partial_images"] == "0"


G1, D2, D3 = "gpt-image-1", "dall-e-2", "dall-e-3"
TOO_HIGH, TOO_LOW, BAD = "integer_above_max_value", "integer_below_min_value", "invalid_value"
TOO_LONG, UNKNOWN = "string_above_max_length", "unknown_parameter"


@pytest.mark.parametrize(
    ("model", "body", "param", "code"),
    [
        (D2, {"size": "1792x1024"}, "size", BAD),
        (D3, {"size": "512x512"}, "size", BAD),
        (G1, {"size": "2048x2048"}, "size", BAD),
        (D3, {"n": 2}, "n", BAD),
        (G1, {"n": 11}, "n", TOO_HIGH),
        (G1, {"n": 0}, "n", TOO_LOW),
        (G1, {"n": "2"}, "n", "invalid_type"),
        (G1, {"response_format": "b64_json"}, "response_format", UNKNOWN),
        (G1, {"style": "vivid"}, "style", UNKNOWN),
        (D3, {"output_format": "png"}, "output_format", UNKNOWN),
        (D2, {"style": "vivid"}, "style", UNKNOWN),
        (G1, {"quality": "hd"}, "quality", BAD),
        (D3, {"quality": "high"}, "quality", BAD),
        (D2, {"quality": "hd"}, "quality", BAD),
        (D3, {"style": "anime"}, "style", BAD),
        (G1, {"output_compression": 50}, "output_compression", BAD),
        (G1, {"output_compression": 101, "output_format": "jpeg"}, "output_compression", TOO_HIGH),
        (G1, {"background": "transparent", "output_format": "jpeg"}, "background", BAD),
        (G1, {"moderation": "none"}, "moderation", BAD),
        (G1, {"partial_images": 4, "stream": True}, "partial_images", TOO_HIGH),
        (D2, {"prompt": "x" * 1001}, "prompt", TOO_LONG),
        (D3, {"prompt": "x" * 4001}, "prompt", TOO_LONG),
        (G1, {"prompt": "x" * 32001}, "prompt", TOO_LONG),
        (G1, {"prompt": None}, "prompt", "missing_required_parameter"),
        (G1, {"prompt": ""}, "prompt", "empty_string"),
    ],
)
def test_generation_validation(
    http: httpx.Client, model: str, body: dict[str, Any], param: str, code: str
) -> None:
    error = error_of(generate(http, model=model, **body))
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert stats(http)["requests"]["generate"] == 1


def test_generation_request_shape_errors(http: httpx.Client) -> None:
    unknown = error_of(generate(http, model="gpt-image-1", api_base="http://attacker"))
    assert unknown["message"] == "Unrecognized request argument supplied: api_base"
    missing_model = generate(http, model="dall-e-4")
    assert missing_model.status_code == 404
    assert error_of(missing_model)["code"] == "model_not_found"
    bad_json = http.post("/v1/images/generations", content=b'{"prompt": ', headers=AUTH)
    assert (
        bad_json.status_code == 400 and "could not parse the JSON" in error_of(bad_json)["message"]
    )
    not_object = http.post("/v1/images/generations", json=["a"], headers=AUTH)
    assert not_object.status_code == 400
    wrong_path = http.post("/v1/images/generate", json={}, headers=AUTH)
    assert wrong_path.status_code == 404 and "Invalid URL" in error_of(wrong_path)["message"]


def test_sdk_validation_error_types(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.images.generate(model="dall-e-3", prompt="x", n=2)
    assert bad.value.param == "n"
    with pytest.raises(openai.BadRequestError) as fmt:
        sdk.images.generate(model="gpt-image-1", prompt="x", response_format="url")
    assert fmt.value.code == "unknown_parameter"
    with pytest.raises(openai.NotFoundError):
        sdk.images.generate(model="no-such-model", prompt="x")


# --- auth, moderation, request ids ---------------------------------------------------------------


def test_bad_key_is_401_and_masked(emu: OpenAIEmulator, http: httpx.Client) -> None:
    secret = "sk-wrong-secret-123456"
    with openai.OpenAI(base_url=emu.base_url, api_key=secret, max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError) as caught:
            bad.images.generate(model="gpt-image-1", prompt="x")
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "invalid_api_key"
    assert body["message"].startswith("Incorrect API key provided: sk-****.")
    assert "wrong" not in body["message"]
    missing = http.post("/v1/images/generations", json={"prompt": "x"})
    assert missing.status_code == 401
    error = error_of(missing)
    assert error["code"] is None and error["message"].startswith("You didn't provide an API key")
    basic = http.post(
        "/v1/images/generations", json={"prompt": "x"}, headers={"Authorization": f"Basic {KEY}"}
    )
    assert basic.status_code == 401
    snapshot = stats(http)
    assert snapshot["auth_failures"] == 3
    assert snapshot["requests"]["generate"] == 3
    assert snapshot["last_request"]["headers"]["authorization"] == "<redacted; did not match>"
    assert secret not in orjson.dumps(snapshot).decode()


@pytest.mark.parametrize(
    ("model", "code", "type_"),
    [
        ("dall-e-3", "content_policy_violation", "invalid_request_error"),
        ("dall-e-2", "content_policy_violation", "invalid_request_error"),
        ("gpt-image-1", "moderation_blocked", "image_generation_user_error"),
    ],
)
def test_moderation_marker(sdk: openai.OpenAI, model: str, code: str, type_: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.generate(model=model, prompt=f"a battle {MODERATION_MARKER}")
    assert caught.value.code == code and caught.value.type == type_ and caught.value.param is None
    assert "safety system" in caught.value.message
    if code == "moderation_blocked":
        assert "safety_violations=[violence]" in caught.value.message
        assert str(caught.value.request_id) in caught.value.message


def test_every_response_has_a_request_id(http: httpx.Client, sdk: openai.OpenAI) -> None:
    responses = [
        generate(http, model="gpt-image-1"),
        generate(http, model="gpt-image-1", size="1x1"),
        http.post("/v1/images/generations", json={}),
        http.get("/v1/nothing"),
        http.get("/_emulator/stats"),
        http.get("/_files/nope.png?se=1&sig=x"),
    ]
    ids = [r.headers["x-request-id"] for r in responses]
    assert all(i.startswith("req_") and len(i) == 36 for i in ids) and len(set(ids)) == len(ids)
    raw = sdk.images.with_raw_response.generate(model="gpt-image-1", prompt="x")
    assert raw.request_id is not None and raw.request_id.startswith("req_")


# --- edits and variations -----------------------------------------------------------------------


def test_edit_single_image_via_sdk(sdk: openai.OpenAI, http: httpx.Client) -> None:
    result = sdk.images.edit(
        model="gpt-image-1", image=("in.png", png(640, 480), "image/png"), prompt="add a hat"
    )
    assert result.data is not None
    assert decode(result.data[0].b64_json).size == (640, 480)  # no size: the first input's size
    assert result.usage is not None and result.usage.input_tokens_details.image_tokens > 0
    last = stats(http)["last_request"]
    assert last["path"] == "/v1/images/edits" and last["form"].count("image") == 1
    assert last["form_values"]["model"] == "gpt-image-1"


def test_edit_multiple_images_and_mask_via_sdk(sdk: openai.OpenAI, http: httpx.Client) -> None:
    images = [
        ("a.png", png(512, 512), "image/png"),
        ("b.jpg", png(300, 200, fmt="JPEG"), "image/jpeg"),
        ("c.webp", png(64, 64, fmt="WEBP"), "image/webp"),
    ]
    result = sdk.images.edit(
        model="gpt-image-1.5",
        image=images,
        mask=("mask.png", png(512, 512, mode="RGBA"), "image/png"),
        prompt="combine these",
        size="1024x1536",
        input_fidelity="high",
        output_format="jpeg",
        n=2,
    )
    assert result.data is not None and len(result.data) == 2
    image = decode(result.data[0].b64_json)
    assert (image.format, image.size) == ("JPEG", (1024, 1536))
    form = stats(http)["last_request"]["form"]
    assert form.count("image[]") == 3 and "mask" in form and "image" not in form


def multipart_edit(http: httpx.Client, files: list[tuple[str, Any]], **data: Any) -> httpx.Response:
    return http.post(
        "/v1/images/edits", files=files, data={"prompt": "edit it", **data}, headers=AUTH
    )


def test_edit_validation(http: httpx.Client, sdk: openai.OpenAI) -> None:
    good = ("a.png", png(256, 256), "image/png")
    rgba = ("a.png", png(256, 256, "RGBA"), "image/png")
    octet = ("a.bin", png(256, 256), "application/octet-stream")
    small_mask = ("m.png", png(128, 128, "RGBA"), "image/png")
    junk = ("a.png", b"not an image", "image/png")
    not_square = ("a.png", png(256, 128, "RGBA"), "image/png")
    cases: list[tuple[list[tuple[str, Any]], dict[str, Any], str | None, str | None]] = [
        ([("image", octet)], {"model": G1}, "image", "unsupported_file_mimetype"),
        ([("image", junk)], {"model": G1}, "image", "invalid_image_file"),
        ([("image", good), ("mask", small_mask)], {"model": G1}, "mask", BAD),
        ([("image", good)], {"model": "gpt-image-1-mini", "input_fidelity": "high"},
         "input_fidelity", "unsupported_value"),
        ([("image", good)], {"model": "gpt-image-2", "input_fidelity": "low"},
         "input_fidelity", "unsupported_parameter"),
        ([("image", good)], {"model": D3}, "model", BAD),
        ([("image", good)], {"model": G1, "n": "many"}, "n", "invalid_type"),
        ([("image", good)], {"model": G1, "stream": "maybe"}, "stream", "invalid_type"),
        ([("image", good)], {"model": G1, "colour": "red"}, None, None),
        ([("image[]", good)] * 17, {"model": G1}, "image", "array_above_max_length"),
        ([("user", (None, "u1"))], {"model": G1}, "image", "missing_required_parameter"),
        ([("image", good)], {"model": D2}, "image", BAD),  # RGB without a mask
        ([("image", not_square)], {"model": D2}, "image", BAD),
        ([("image[]", rgba)], {"model": D2}, "image", "invalid_type"),
    ]  # fmt: skip
    for files, data, param, code in cases:
        error = error_of(multipart_edit(http, files, **data))
        assert (error["param"], error["code"]) == (param, code), (data, error)
    json_body = http.post(
        "/v1/images/edits", json={"prompt": "x", "model": "gpt-image-1"}, headers=AUTH
    )
    assert "multipart/form-data" in error_of(json_body)["message"]
    with pytest.raises(openai.BadRequestError) as raw_bytes:  # bytes without a name: octet-stream
        sdk.images.edit(model="gpt-image-1", image=png(64, 64), prompt="x")
    assert raw_bytes.value.code == "unsupported_file_mimetype"


def test_dall_e_2_edit_and_variation(http: httpx.Client) -> None:
    square = ("a.png", png(512, 512, "RGBA"), "image/png")
    edit = multipart_edit(
        http, [("image", square)], model="dall-e-2", size="512x512", response_format="b64_json"
    )
    assert decode(edit.json()["data"][0]["b64_json"]).size == (512, 512)
    with_mask = multipart_edit(
        http,
        [
            ("image", ("b.png", png(256, 256), "image/png")),
            ("mask", ("m.png", png(256, 256, "RGBA"), "image/png")),
        ],
        model="dall-e-2",
    )
    assert with_mask.status_code == 200 and "url" in with_mask.json()["data"][0]

    variation = http.post(
        "/v1/images/variations",
        files=[("image", square)],
        data={"n": "2", "size": "256x256"},
        headers=AUTH,
    )
    assert variation.status_code == 200
    urls = [item["url"] for item in variation.json()["data"]]
    assert len(set(urls)) == 2
    assert Image.open(io.BytesIO(httpx.get(urls[1]).content)).size == (256, 256)
    wrong_model = http.post(
        "/v1/images/variations",
        files=[("image", square)],
        data={"model": "gpt-image-1"},
        headers=AUTH,
    )
    assert error_of(wrong_model)["param"] == "model"
    prompt = http.post(
        "/v1/images/variations", files=[("image", square)], data={"prompt": "x"}, headers=AUTH
    )
    assert error_of(prompt)["message"] == "Unrecognized request argument supplied: prompt"
    assert stats(http)["requests"] == {"generate": 0, "edit": 2, "variation": 3, "file": 1}


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK marks variations so
def test_variation_via_sdk(sdk: openai.OpenAI) -> None:
    result = sdk.images.create_variation(
        image=("v.png", png(256, 256), "image/png"), response_format="b64_json"
    )
    assert result.data is not None and decode(result.data[0].b64_json).size == (1024, 1024)


# --- streaming ----------------------------------------------------------------------------------


def sse_events(text: str) -> list[tuple[str | None, str]]:
    events = []
    for frame in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((lines.get("event"), lines["data"]))
    return events


def test_stream_generation_frames(http: httpx.Client) -> None:
    response = generate(
        http, model="gpt-image-1", stream=True, partial_images=2, n=2, quality="high"
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert [e for e, _ in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ] * 2 + [None]
    assert events[-1][1] == "[DONE]"
    payloads = [orjson.loads(data) for _, data in events[:-1]]
    assert [p.get("partial_image_index") for p in payloads[:3]] == [0, 1, None]
    assert all(p["type"] == name for p, (name, _) in zip(payloads, events, strict=False))
    completed = payloads[2]
    assert decode(completed["b64_json"]).size == (1024, 1024)
    assert completed["usage"]["output_tokens"] == 4160 + 2 * 100
    assert completed["size"] == "1024x1024" and completed["quality"] == "high"
    partial_pixel = decode(payloads[0]["b64_json"]).getpixel((0, 0))
    assert partial_pixel != decode(completed["b64_json"]).getpixel((0, 0))  # a distinct preview


def test_stream_via_sdk(sdk: openai.OpenAI) -> None:
    stream = sdk.images.generate(
        model="gpt-image-2", prompt="x", stream=True, partial_images=1, size="1536x1024"
    )
    types = [event.type for event in stream]
    assert types == ["image_generation.partial_image", "image_generation.completed"]
    edit_stream = sdk.images.edit(
        model="gpt-image-1", image=("a.png", png(64, 64), "image/png"), prompt="x", stream=True
    )
    completed = list(edit_stream)
    assert [e.type for e in completed] == ["image_edit.completed"]
    assert completed[0].usage.input_tokens_details.image_tokens > 0  # type: ignore[union-attr]


def test_stream_n2_partials_via_sdk(sdk: openai.OpenAI) -> None:
    """`n` > 1: each image's partials then its own completed event, whose `usage` is that
    image's (the SDK's event types, parsed as they are)."""
    events = list(
        sdk.images.generate(
            model="gpt-image-1", prompt="x", stream=True, partial_images=3, n=2, quality="low"
        )
    )
    partial, completed = "image_generation.partial_image", "image_generation.completed"
    assert [e.type for e in events] == ([partial] * 3 + [completed]) * 2
    assert [getattr(e, "partial_image_index", None) for e in events[:4]] == [0, 1, 2, None]
    for event in events:
        assert event.size == "1024x1024" and event.quality == "low"
        assert event.background == "opaque" and event.output_format == "png"
        assert decode(event.b64_json).size == (1024, 1024)
    done = [e for e in events if isinstance(e, openai.types.ImageGenCompletedEvent)]
    assert [e.usage.output_tokens for e in done] == [272 + 3 * 100] * 2


def test_stream_events_arrive_over_time(http: httpx.Client) -> None:
    """Each event waits the stream's interval (a fault's `stream_interval` here): the partials
    reach the client one by one, not as one body at the end."""
    add_faults(http, {"match": "generate", "stream_interval": 0.3})
    arrivals = []
    body = {"model": "gpt-image-1", "prompt": "x", "stream": True, "partial_images": 2}
    with http.stream("POST", "/v1/images/generations", json=body, headers=AUTH) as response:
        start = time.monotonic()
        for line in response.iter_lines():
            if line.startswith("event: "):
                arrivals.append((line[7:], time.monotonic() - start))
    assert [name for name, _ in arrivals] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(arrivals)]
    assert all(gap >= 0.25 for gap in gaps), gaps


def test_stream_fails_midway(http: httpx.Client, sdk: openai.OpenAI) -> None:
    """`stream_fail_after`: that many events, then an `error` event the SDK raises as an
    `APIError`; `stream_reset`: the connection dropped there instead."""
    add_faults(http, {"match": "generate", "stream_fail_after": 1})
    stream = sdk.images.generate(model="gpt-image-1", prompt="x", stream=True, partial_images=2)
    seen = []
    with pytest.raises(openai.APIError) as failed:
        for event in stream:
            seen.append(event.type)
    assert seen == ["image_generation.partial_image"]
    assert "server had an error" in failed.value.message
    assert failed.value.type == "server_error"  # type: ignore[attr-defined]
    add_faults(http, {"match": "edit", "stream_reset": True})
    image = ("a.png", png(64, 64), "image/png")
    edits = sdk.images.edit(model="gpt-image-1", image=image, prompt="x", stream=True)
    seen = []
    with pytest.raises(openai.APIConnectionError):
        for edit_event in edits:
            seen.append(edit_event.type)
    assert seen == ["image_edit.completed"]  # the one event before the cut
    assert http.get("/_emulator/stats").json()["submissions"] == 2  # both were accepted


@pytest.mark.parametrize(
    "fault",
    [{"stream_interval": -1}, {"stream_fail_after": "2"}, {"stream_interval": True}],
)
def test_stream_fault_numbers_are_checked(http: httpx.Client, fault: dict[str, Any]) -> None:
    response = http.post("/_emulator/faults", json={"faults": [fault]})
    assert response.status_code == 400
    assert next(iter(fault)) in response.json()["error"]["message"]


# --- faults -------------------------------------------------------------------------------------


def test_a_fault_may_be_posted_bare_or_as_a_list(http: httpx.Client) -> None:
    # emulators/README.md's example posts one fault object; a bare list works too.
    one = http.post("/_emulator/faults", content=b'{"match":"generate","stream_fail_after":1}')
    assert one.status_code == 200 and one.json() == {"queued": 1}
    listed = http.post("/_emulator/faults", json=[{"match": "edit", "status": 500}])
    assert listed.status_code == 200 and listed.json() == {"queued": 2}
    pending = http.get("/_emulator/faults").json()["faults"]
    assert [f["match"] for f in pending] == ["generate", "edit"]
    # A refused fault is a 400 (so `curl -f` fails) and queues nothing.
    for bad in ({"match": "nope"}, {}, "x"):
        refused = http.post("/_emulator/faults", json=bad)
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["message"].startswith("invalid faults")
    assert stats(http)["faults_pending"] == 2


def test_fault_status_headers_and_times(http: httpx.Client, sdk: openai.OpenAI) -> None:
    add_faults(
        http, {"match": "generate", "status": 429, "headers": {"retry-after": "2"}, "times": 2}
    )
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as caught:
            sdk.images.generate(model="gpt-image-1", prompt="x")
        assert caught.value.response.headers["retry-after"] == "2"
        assert caught.value.code == "rate_limit_exceeded"
    assert sdk.images.generate(model="gpt-image-1", prompt="x").data
    add_faults(
        http,
        {"match": "edit", "status": 500},
        {"status": 503, "body": {"error": {"message": "slow down"}}},
    )
    response = generate(http, model="gpt-image-1")  # skips the edit fault, takes the "any" one
    assert response.status_code == 503 and response.json() == {"error": {"message": "slow down"}}
    assert http.get("/_emulator/faults").json()["faults"][0]["match"] == "edit"
    assert http.delete("/_emulator/faults").status_code == 200
    assert stats(http)["faults_pending"] == 0


def test_fault_raw_bodies(http: httpx.Client, sdk: openai.OpenAI) -> None:
    add_faults(
        http,
        {"status": 200, "body": '{"created": 1, "data": ['},
        {"status": 502, "body": "<html><body>Bad Gateway</body></html>"},
    )
    truncated = generate(http, model="gpt-image-1")
    assert truncated.status_code == 200 and truncated.content == b'{"created": 1, "data": ['
    assert truncated.headers["content-type"] == "application/json"
    with pytest.raises(openai.InternalServerError) as caught:
        sdk.images.generate(model="gpt-image-1", prompt="x")
    assert caught.value.response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("fake", sorted(FAKE_IMAGES))
def test_fault_image_replaces_the_image_bytes(http: httpx.Client, fake: str) -> None:
    add_faults(http, {"match": "generate", "image": fake})
    response = generate(http, model="gpt-image-1", n=2)
    assert response.status_code == 200  # an otherwise normal answer, usage and all
    body = response.json()
    assert [base64.b64decode(item["b64_json"]) for item in body["data"]] == [FAKE_IMAGES[fake]] * 2
    assert body["usage"]["total_tokens"] > 0
    assert (
        generate(http, model="gpt-image-1").json()["data"][0]["b64_json"]
        != body["data"][0]["b64_json"]
    )  # used once


def test_fault_as_url_and_a_fake_download(http: httpx.Client) -> None:
    add_faults(http, {"match": "generate", "as_url": True, "times": 2})
    add_faults(http, {"match": "file", "image": "html"})
    downloads = []
    for _ in range(2):  # gpt-image-1 answers only b64_json, unless told otherwise
        item = generate(http, model="gpt-image-1").json()["data"][0]
        assert set(item) == {"url"} and "/_files/" in item["url"]
        page = http.get(item["url"])
        assert page.status_code == 200 and page.headers["content-type"] == "image/png"
        downloads.append(page.content)
    assert downloads[0] == FAKE_IMAGES["html"]  # the file fault is used by the first download
    assert Image.open(io.BytesIO(downloads[1])).format == "PNG"
    assert stats(http)["requests"]["file"] == 2 and stats(http)["faults_pending"] == 0


def test_fault_image_must_be_a_known_fake(http: httpx.Client) -> None:
    response = http.post("/_emulator/faults", json={"faults": [{"image": "bmp"}]})
    assert response.status_code == 400 and "image" in response.json()["error"]["message"]
    bad_flag = http.post("/_emulator/faults", json={"faults": [{"as_url": "yes"}]})
    assert bad_flag.status_code == 400


def test_fault_delay_then_normal_answer(http: httpx.Client) -> None:
    add_faults(http, {"match": "generate", "delay": 0.3})
    started = time.monotonic()
    response = generate(http, model="gpt-image-1")
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200 and response.json()["data"]


def test_fault_reset_is_a_transport_error(http: httpx.Client, sdk: openai.OpenAI) -> None:
    add_faults(http, {"match": "generate", "reset": True})
    with pytest.raises(httpx.TransportError):
        generate(http, model="gpt-image-1")
    add_faults(http, {"reset": True})
    with pytest.raises(openai.APIConnectionError):
        sdk.images.generate(model="gpt-image-1", prompt="x")
    assert generate(http, model="gpt-image-1").status_code == 200


def test_fault_stall_times_out_without_blocking_others(
    emu: OpenAIEmulator, http: httpx.Client
) -> None:
    add_faults(http, {"match": "generate", "stall": True})
    outcome: list[BaseException] = []

    def stalled() -> None:
        try:
            httpx.post(
                f"{emu.base_url}/images/generations",
                json={"prompt": "x"},
                headers=AUTH,
                timeout=1.0,
            )
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=stalled)
    worker.start()
    time.sleep(0.2)
    started = time.monotonic()
    # served while the other request hangs
    assert generate(http, model="gpt-image-1").status_code == 200
    assert time.monotonic() - started < 0.5
    assert stats(http)["in_flight"] == 1
    worker.join(3)
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.ReadTimeout)
    deadline = time.monotonic() + 2
    while stats(http)["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stats(http)["in_flight"] == 0 and stats(http)["max_in_flight"] == 2


def test_file_fault_and_fault_validation(http: httpx.Client) -> None:
    url = generate(http, model="dall-e-2", size="256x256").json()["data"][0]["url"]
    add_faults(http, {"match": "file", "status": 500, "body": "oops"})
    assert httpx.get(url).status_code == 500
    assert httpx.get(url).status_code == 200
    for bad in (
        {"match": "everything"},
        {"status": 99},
        {"times": 0},
        {"delay": -1},
        {"stall": "yes"},
        {"sleep": 1},
    ):
        assert http.post("/_emulator/faults", json={"faults": [bad]}).status_code == 400, bad
    assert http.post("/_emulator/faults", content=b"nope").status_code == 400


def test_stop_releases_a_stalled_request() -> None:
    server = OpenAIEmulator().start()
    with httpx.Client(base_url=server.url or "") as control:
        add_faults(control, {"stall": True})
    errors: list[BaseException] = []

    def stalled() -> None:
        try:
            httpx.post(f"{server.base_url}/images/generations", json={"prompt": "x"}, timeout=10)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=stalled)
    worker.start()
    time.sleep(0.2)
    started = time.monotonic()
    server.stop()
    worker.join(3)
    assert time.monotonic() - started < 2
    assert len(errors) == 1 and isinstance(errors[0], httpx.TransportError)


# --- stats and CLI ------------------------------------------------------------------------------


def test_stats_counters_and_last_request(http: httpx.Client) -> None:
    generate(http, model="gpt-image-1", size="1024x1024")
    generate(http, model="gpt-image-1", size="bad")
    snapshot = stats(http)
    assert snapshot["requests"] == {"generate": 2, "edit": 0, "variation": 0, "file": 0}
    assert snapshot["auth_failures"] == snapshot["in_flight"] == 0
    assert snapshot["max_in_flight"] == 1
    last = snapshot["last_request"]
    assert last["path"] == "/v1/images/generations"
    assert last["json"] == {"prompt": "a lighthouse", "model": "gpt-image-1", "size": "bad"}
    assert last["headers"]["authorization"] == "<redacted; matched>"
    assert KEY not in orjson.dumps(snapshot).decode()
    assert all(name == name.lower() for name in last["headers"])
    http.post("/_emulator/reset")
    assert stats(http)["requests"]["generate"] == 0 and stats(http)["last_request"] is None


def test_cli_serves_and_prints_base_url() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    defaults = parser.parse_args([])
    assert (defaults.host, defaults.port, defaults.api_key, defaults.latency, defaults.url_ttl) == (
        "127.0.0.1",
        9101,
        "sk-emulator",
        0.0,
        3600.0,
    )
    code = (
        "import argparse, sys\n"
        "from emulators.openai_images import add_cli_arguments, run_cli\n"
        "p = argparse.ArgumentParser(); add_cli_arguments(p)\n"
        "run_cli(p.parse_args(sys.argv[1:]))\n"
    )
    args = [sys.executable, "-c", code, "--port", "0", "--api-key", "sk-cli", "--latency", "0.2"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base_url = line.split()[-1]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        started = time.monotonic()
        response = httpx.post(
            f"{base_url}/images/generations",
            json={"model": "gpt-image-1", "prompt": "x"},
            headers={"Authorization": "Bearer sk-cli"},
            timeout=5,
        )
        assert response.status_code == 200 and time.monotonic() - started >= 0.2
    finally:
        proc.terminate()
        proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_caller_leaving_mid_body_is_no_error(
    emu: OpenAIEmulator, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A gateway that stops mid-upload leaves quietly: no 'Exception in ASGI application'."""
    assert emu.url is not None
    host, port = urlsplit(emu.url).hostname, urlsplit(emu.url).port
    head = (
        "POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    with caplog.at_level("WARNING"), socket.create_connection((host, port)) as sock:
        sock.sendall(head.encode() + b'{"prompt": "a li')
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while stats(http)["in_flight"]:  # the emulator noticed the caller left
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert generate(http).status_code == 200  # still serving
    time.sleep(0.2)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
