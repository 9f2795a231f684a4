"""The offline `local` provider end to end: real gateway, real sockets, httpx and the SDK."""

from __future__ import annotations

import base64
import io

import openai
import pytest
from PIL import Image

from tests.conftest import GATEWAY_TEST_KEY, RunningGateway


def decode(item: dict) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))


def test_generates_real_pngs_honouring_size_and_n(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"prompt": "a lighthouse", "n": 3, "size": "320x192"}
        )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["provider"] == "local" and body["model"] == "local-art"
    assert len(body["data"]) == 3
    seeds = [item["seed"] for item in body["data"]]
    assert len(set(seeds)) == 3
    for item in body["data"]:
        image = decode(item)
        assert image.format == "PNG" and image.size == (320, 192)


def test_same_prompt_and_seed_give_the_same_image(gateway: RunningGateway) -> None:
    payload = {"prompt": "same", "seed": 42, "size": "128x128"}
    with gateway.client() as http:
        first = http.post("/v1/images/generations", json=payload).json()
        second = http.post("/v1/images/generations", json=payload).json()
        other = http.post("/v1/images/generations", json={**payload, "seed": 43}).json()
    assert first["data"][0]["b64_json"] == second["data"][0]["b64_json"]
    assert first["data"][0]["b64_json"] != other["data"][0]["b64_json"]
    assert first["data"][0]["seed"] == 42


@pytest.mark.parametrize(("fmt", "pil_format"), [("jpeg", "JPEG"), ("webp", "WEBP")])
def test_output_formats(gateway: RunningGateway, fmt: str, pil_format: str) -> None:
    with gateway.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"prompt": "p", "size": "96x64", "output_format": fmt}
        )
    body = resp.json()
    assert body["output_format"] == fmt
    assert decode(body["data"][0]).format == pil_format


def test_aspect_ratio_and_transparent_background(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={"prompt": "p", "aspect_ratio": "16:9", "background": "transparent"},
        )
    image = decode(resp.json()["data"][0])
    assert abs(image.size[0] / image.size[1] - 16 / 9) < 0.02
    assert image.mode == "RGBA" and image.getpixel((image.size[0] - 1, image.size[1] - 1))[3] < 255


def test_url_response_is_stored_and_served_without_a_key(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        body = http.post(
            "/v1/images/generations",
            json={"prompt": "stored", "size": "64x64", "response_format": "url"},
        ).json()
    url = body["data"][0]["url"]
    assert url.startswith(gateway.url + "/v1/images/files/")
    with gateway.client(key=None) as anonymous:
        image = anonymous.get(url)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(image.content)).size == (64, 64)
        for bad in ("../../etc/passwd", "..%2F..%2Fx.png", "a" * 32 + ".png", "x.exe"):
            assert anonymous.get(f"/v1/images/files/{bad}").status_code == 404


def test_openai_sdk_against_local(gateway: RunningGateway) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)
    result = client.images.generate(model="local/local-art", prompt="sdk", size="256x256", n=2)
    assert len(result.data) == 2
    assert Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json or ""))).size == (
        256,
        256,
    )
    bare = client.images.generate(model="local-art", prompt="bare id", size="64x64")
    assert bare.data[0].b64_json


def test_sdk_edit_with_mask_blends_input(gateway: RunningGateway) -> None:
    source = io.BytesIO()
    Image.new("RGB", (128, 96), (0, 0, 255)).save(source, "PNG")
    mask = Image.new("RGBA", (128, 96), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 64, 96))  # left half transparent = the region to edit
    mask_bytes = io.BytesIO()
    mask.save(mask_bytes, "PNG")
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)
    result = client.images.edit(
        model="local/local-art",
        image=("in.png", source.getvalue(), "image/png"),
        mask=("mask.png", mask_bytes.getvalue(), "image/png"),
        prompt="paint the left half",
    )
    image = decode(result.data[0].model_dump())
    assert image.size == (128, 96)
    assert image.convert("RGB").getpixel((120, 48)) == (0, 0, 255)  # outside the mask: untouched


def test_sdk_edit_with_several_images(gateway: RunningGateway) -> None:
    images = []
    for colour in ((255, 0, 0), (0, 255, 0)):
        buf = io.BytesIO()
        Image.new("RGB", (64, 64), colour).save(buf, "PNG")
        images.append(("in.png", buf.getvalue(), "image/png"))
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)
    result = client.images.edit(model="local-art", image=images, prompt="combine", n=2)
    assert len(result.data) == 2


def test_local_size_limits(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        resp = http.post("/v1/images/generations", json={"prompt": "p", "size": "4096x4096"})
    assert resp.status_code == 400
    assert resp.json()["error"]["param"] == "size"


def test_named_routes_are_listed_as_models(start_gateway, tmp_path) -> None:
    routes = tmp_path / "routes.toml"
    routes.write_text('[routes]\noffline = ["local"]\n')
    gw = start_gateway(routes_file=routes)
    with gw.client() as http:
        models = {m["id"]: m for m in http.get("/v1/models").json()["data"]}
        assert models["offline"]["owned_by"] == "route"
        resp = http.post(
            "/v1/images/generations", json={"model": "offline", "prompt": "p", "size": "64x64"}
        )
    assert resp.status_code == 200 and resp.json()["route"] == "offline"


# --- `local` declares what the drawing honours and refuses the rest, like every model ----------


@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        ({"quality": "high"}, "quality", "unsupported_parameter"),
        ({"style": "natural"}, "style", "unsupported_parameter"),
        ({"moderation": "low"}, "moderation", "unsupported_parameter"),
        ({"negative_prompt": "no fog"}, "negative_prompt", "unsupported_parameter"),
        ({"input_fidelity": "high"}, "input_fidelity", "unsupported_parameter"),
        ({"background": "transparent", "output_format": "jpeg"}, "background", "invalid_value"),
        ({"output_compression": 50}, "output_compression", "invalid_value"),  # png
    ],
)
def test_local_refuses_what_it_does_not_honour(
    gateway: RunningGateway, extra: dict, param: str, code: str
) -> None:
    for endpoint in ("generations", "edits"):
        with gateway.client() as http:
            if endpoint == "generations":
                resp = http.post(
                    "/v1/images/generations", json={"prompt": "p", "size": "64x64", **extra}
                )
            else:
                resp = http.post(
                    "/v1/images/edits",
                    data={"prompt": "p", "model": "local-art", **extra},
                    files={"image": ("a.png", png_bytes((64, 64)), "image/png")},
                )
        assert resp.status_code == 400, (endpoint, resp.text)
        error = resp.json()["error"]
        assert (error["param"], error["code"]) == (param, code), endpoint
        assert "local-art" in error["message"] or param in ("background", "output_compression")


def test_local_accepts_openai_defaults_it_lacks_as_not_given(gateway: RunningGateway) -> None:
    defaults = {"quality": "auto", "style": "vivid", "moderation": "auto", "background": "auto"}
    with gateway.client() as http:
        resp = http.post("/v1/images/generations", json={"prompt": "p", "seed": 5, **defaults})
        plain = http.post("/v1/images/generations", json={"prompt": "p", "seed": 5})
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"][0]["b64_json"] == plain.json()["data"][0]["b64_json"]


def png_bytes(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (9, 99, 199)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_local_output_compression_is_the_encoder_quality(gateway: RunningGateway, fmt: str) -> None:
    sizes = {}
    with gateway.client() as http:
        for compression in (0, 50, 100):
            resp = http.post(
                "/v1/images/generations",
                json={
                    "prompt": "p",
                    "seed": 1,
                    "size": "256x256",
                    "output_format": fmt,
                    "output_compression": compression,
                },
            )
            assert resp.status_code == 200, resp.text
            sizes[compression] = len(base64.b64decode(resp.json()["data"][0]["b64_json"]))
    assert sizes[0] < sizes[50] < sizes[100]  # 0 is honoured too, not taken for "not given"


@pytest.mark.parametrize("fmt", ["png", "webp"])
@pytest.mark.parametrize("background", ["opaque", "auto", None])
def test_local_opaque_background(gateway: RunningGateway, fmt: str, background: str | None) -> None:
    """Opaque (asked for, or the default) means every pixel: the drawing's translucent shapes
    are blended in, not written with their alpha."""
    body = {"prompt": "p", "size": "96x96", "background": background, "output_format": fmt}
    with gateway.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    image = decode(resp.json()["data"][0])
    assert image.convert("RGBA").getchannel("A").getextrema() == (255, 255)


def test_providers_lists_what_local_honours(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        providers = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
    (card,) = providers["local"]["models"]
    assert card["quality"] == card["style"] == card["moderation"] == card["input_fidelity"] == []
    assert card["background"] == ["transparent", "opaque"]
    assert card["seed"] and card["output_compression"] and not card["negative_prompt"]
    assert card["aspect_ratio"] and card["edits"]
    assert card["output_formats"] == ["png", "jpeg", "webp"]
