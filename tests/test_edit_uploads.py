"""Multipart edits with uploads of megabytes (issue 16's large edits): past Starlette's 1 MB
spool and aiohttp's 1 MB raw-bytes limit (`upstream.encoding._large`) every byte reaches the
model, several files and a mask keep their order, and a form that cannot be parsed is a JSON
400."""

from __future__ import annotations

import base64
import io
import random
from typing import Any

import pytest
from PIL import Image

from tests.conftest import OpenAIEmulatorHandle, RunningGateway, emulator_settings


def noise_png(side: int, seed: int = 1) -> bytes:
    """An incompressible PNG of side x side RGB noise (3 x side² bytes and a little more)."""
    pixels = random.Random(seed).randbytes(side * side * 3)
    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buf, "PNG", compress_level=0)
    return buf.getvalue()


@pytest.fixture
def gw(start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any) -> RunningGateway:
    return start_gateway(**emulator_settings(openai_emu, bfl))


def test_a_large_upload_reaches_the_model_whole(gw: RunningGateway) -> None:
    """The local model answers with the input's size, so a 2.7 MB upload (past the 1 MB
    spool) decodes whole on the far side of the gateway."""
    upload = noise_png(950)
    assert len(upload) > 2_500_000
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art"},
            files={"image": ("big.png", upload, "image/png")},
        )
    assert resp.status_code == 200, resp.text
    data = base64.b64decode(resp.json()["data"][0]["b64_json"])
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (950, 950)


def test_large_uploads_and_a_mask_reach_the_provider_whole(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    """Three files of 1.5 to 1.9 MB (the upstream body over aiohttp's 1 MB raw-bytes limit,
    `upstream.encoding._large`), in their order."""
    first, second = noise_png(700, seed=2), noise_png(800, seed=3)
    mask = noise_png(700, seed=4)
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "gpt-image-1"},
            files=[
                ("image[]", ("a.png", first, "image/png")),
                ("image[]", ("b.png", second, "image/png")),
                ("mask", ("m.png", mask, "image/png")),
            ],
        )
    assert resp.status_code == 200, resp.text
    # Sent with a Content-Length (not chunked) counting every file and a little framing.
    last = openai_emu.stats()["last_request"]
    assert last["form"] == ["model", "prompt", "n", "image[]", "image[]", "mask"]
    files = len(first) + len(second) + len(mask)
    assert files < int(last["headers"]["content-length"]) < files + 2048


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n"),  # no boundary
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
        ("multipart/form-data; boundary=x", b"--x\r\nnot a header line\r\n\r\nv\r\n--x--\r\n"),
    ],
)
def test_an_unparsable_form_is_a_json_400(
    gw: RunningGateway, content_type: str, body: bytes
) -> None:
    with gw.client() as http:
        resp = http.post("/v1/images/edits", content=body, headers={"content-type": content_type})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["message"]
