"""The OpenAI adapter end to end: gateway and OpenAI emulator on loopback, the official SDK."""

from __future__ import annotations

import base64
import io
from typing import Any

import openai
import pytest
from PIL import Image

from tests.conftest import GATEWAY_TEST_KEY, OPENAI_TEST_KEY, OpenAIEmulatorHandle, RunningGateway


@pytest.fixture
def gw(start_gateway, openai_emu: OpenAIEmulatorHandle) -> RunningGateway:
    return start_gateway(openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url)


@pytest.fixture
def sdk(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)


def decode(b64: str | None) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64 or "")))


def png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("model", ["openai/gpt-image-1", "gpt-image-1.5", "gpt-image-1-mini"])
def test_sdk_generates_through_openai(
    sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle, model: str
) -> None:
    result = sdk.images.generate(model=model, prompt="a fox", size="1536x1024", quality="low", n=2)
    assert len(result.data) == 2
    assert decode(result.data[0].b64_json).size == (1536, 1024)
    assert result.usage is not None and result.usage.total_tokens > 0
    assert result.size == "1536x1024" and result.quality == "low"
    sent = openai_emu.stats()["last_request"]["json"]
    assert sent["model"] == model.removeprefix("openai/") and sent["n"] == 2


def test_gpt_image_2_flexible_size(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="gpt-image-2",
        prompt="p",
        size="2048x1152",
        output_format="jpeg",
        output_compression=70,
    )
    image = decode(result.data[0].b64_json)
    assert image.size == (2048, 1152) and image.format == "JPEG"


def test_dalle3_fans_out_and_returns_gateway_urls(
    gw: RunningGateway, sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle
) -> None:
    result = sdk.images.generate(
        model="dall-e-3", prompt="p", n=2, size="1792x1024", quality="hd", style="natural"
    )
    assert len(result.data) == 2
    assert openai_emu.stats()["requests"]["generate"] == 2
    assert openai_emu.stats()["last_request"]["json"]["response_format"] == "b64_json"
    for item in result.data:
        assert item.url and item.url.startswith(gw.url) and item.revised_prompt
        with gw.client(key=None) as http:
            assert Image.open(io.BytesIO(http.get(item.url).content)).size == (1792, 1024)


def test_sdk_edit_with_several_images_and_fidelity(
    sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle
) -> None:
    result = sdk.images.edit(
        model="gpt-image-1",
        prompt="merge",
        input_fidelity="high",
        image=[("a.png", png((64, 64)), "image/png"), ("b.png", png((64, 64)), "image/png")],
    )
    assert result.data[0].b64_json
    last = openai_emu.stats()["last_request"]
    assert last["path"] == "/v1/images/edits"
    assert last["form"].count("image[]") == 2 and "input_fidelity" in last["form"]


def test_sdk_edit_dalle2_single_image_with_mask(
    sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle
) -> None:
    square = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    buf = io.BytesIO()
    square.save(buf, "PNG")
    result = sdk.images.edit(
        model="dall-e-2",
        prompt="p",
        size="256x256",
        image=("a.png", buf.getvalue(), "image/png"),
        mask=("m.png", buf.getvalue(), "image/png"),
    )
    assert result.data[0].url
    assert "image" in openai_emu.stats()["last_request"]["form"]


def test_moderation_raises_bad_request_in_the_sdk(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        sdk.images.generate(model="gpt-image-1", prompt="a [moderate] scene")
    assert err.value.code == "content_policy_violation"


def test_model_validation_happens_before_any_upstream_call(
    sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle
) -> None:
    for kwargs in (
        {"model": "dall-e-3", "n": 1, "size": "512x512"},
        {"model": "gpt-image-1", "size": "1792x1024"},
        {"model": "gpt-image-1", "style": "natural"},
        {"model": "dall-e-2", "quality": "hd"},
    ):
        with pytest.raises(openai.BadRequestError):
            sdk.images.generate(prompt="p", **kwargs)
    assert sum(openai_emu.stats()["requests"].values()) == 0


@pytest.mark.parametrize(
    ("fault", "exception", "status"),
    [
        ({"status": 429, "headers": {"retry-after": "3"}}, openai.RateLimitError, 429),
        (
            {
                "status": 429,
                "body": {
                    "error": {
                        "code": "insufficient_quota",
                        "message": "quota",
                        "type": "insufficient_quota",
                        "param": None,
                    }
                },
            },
            openai.APIStatusError,
            402,
        ),
        ({"status": 500}, openai.InternalServerError, 502),
        ({"status": 503, "body": "<html>down</html>"}, openai.InternalServerError, 502),
        ({"status": 200, "body": '{"data": [truncated'}, openai.InternalServerError, 502),
        ({"reset": True}, openai.InternalServerError, 502),
        (
            {
                "status": 401,
                "body": {
                    "error": {
                        "message": f"Incorrect API key {OPENAI_TEST_KEY}",
                        "code": "invalid_api_key",
                        "type": "x",
                        "param": None,
                    }
                },
            },
            openai.InternalServerError,
            502,
        ),
    ],
)
def test_upstream_faults_surface_as_the_right_sdk_errors(
    sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle, fault: dict, exception: type, status: int
) -> None:
    openai_emu.add_faults([{"match": "generate", **fault}])
    with pytest.raises(exception) as err:
        sdk.images.generate(model="gpt-image-1", prompt="p")
    assert err.value.status_code == status  # type: ignore[attr-defined]
    assert OPENAI_TEST_KEY not in str(err.value.body)  # type: ignore[attr-defined]
    if status == 429:
        assert err.value.response.headers["retry-after"] == "3"  # type: ignore[attr-defined]


def test_connect_refused_is_a_502(start_gateway, canary) -> None:
    canary.close()
    gw = start_gateway(
        openai_api_key=OPENAI_TEST_KEY, openai_base_url=f"http://127.0.0.1:{canary.port}/v1"
    )
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={"model": "gpt-image-1", "prompt": "p"})
    assert resp.status_code == 502


def test_models_lists_configured_providers(gw: RunningGateway) -> None:
    with gw.client() as http:
        ids = {m["id"] for m in http.get("/v1/models").json()["data"]}
        providers = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
    assert {"openai/gpt-image-1", "openai/dall-e-3", "local/local-art"} <= ids
    assert not any(i.startswith("bfl-flux/") for i in ids)
    assert providers["openai"]["configured"] and not providers["bfl-flux"]["configured"]
    flux = {m["id"]: m for m in providers["bfl-flux"]["models"]}
    assert flux["flux-2-pro"]["edits"] and flux["flux-pro-1.1"]["aspect_ratio"]
    dalle3: dict[str, Any] = {m["id"]: m for m in providers["openai"]["models"]}["dall-e-3"]
    assert dalle3["sizes"] == ["1024x1024", "1792x1024", "1024x1792"]


def test_a_refusal_without_error_json_still_says_what_happened(
    sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle
) -> None:
    """A 400 whose body is no error JSON (a proxy's HTML page) is no empty message."""
    openai_emu.add_faults([{"match": "generate", "status": 400, "body": "<html>no</html>"}])
    with pytest.raises(openai.BadRequestError) as err:
        sdk.images.generate(model="gpt-image-1", prompt="p")
    assert err.value.message.endswith("openai rejected the request (HTTP 400) without saying why")


def test_a_provider_image_in_base64_is_answered_byte_for_byte(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    """The provider's base64 goes into the answer as it came (spliced, not re-encoded): the
    answer's bytes hold it between quotes, and it parses back to the same image."""
    noise = Image.frombytes("RGB", (256, 256), bytes(range(256)) * 768)
    buf = io.BytesIO()
    noise.save(buf, "PNG")
    b64 = base64.b64encode(buf.getvalue()).decode("ascii")
    body = {"created": 1, "data": [{"b64_json": b64, "revised_prompt": "r"}]}
    openai_emu.add_faults([{"match": "generate", "status": 200, "body": body}])
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={"model": "gpt-image-1", "prompt": "p"})
    assert resp.status_code == 200
    assert f'"b64_json":"{b64}"'.encode() in resp.content
    item = resp.json()["data"][0]
    assert item["b64_json"] == b64
    assert item["revised_prompt"] == "r"
    assert item["size"] == "256x256"


@pytest.mark.parametrize(
    "b64",
    [
        "iVBORw0KGgo!!!!",  # outside the alphabet
        base64.b64encode(png((8, 8))).decode("ascii")[:-2],  # cut short: bad padding
    ],
)
def test_invalid_base64_from_the_provider_is_a_502(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, b64: str
) -> None:
    body = {"created": 1, "data": [{"b64_json": b64}]}
    openai_emu.add_faults([{"match": "generate", "status": 200, "body": body}])
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={"model": "gpt-image-1", "prompt": "p"})
    assert resp.status_code == 502
    assert "invalid base64 image data" in resp.json()["error"]["message"]
