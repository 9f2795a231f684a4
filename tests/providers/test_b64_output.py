"""An OpenAI answer's base64 is decoded strictly (`kit/output.decode_b64_image`), also read as a
view of the provider's answer (`kit/b64_answer.loads(views=True)`), and encoded again as it is
sent (`schemas.LazyB64`): the client reads the same characters, a URL answer stores the bytes,
an image is vouched for by its header, also a JPEG whose frame header lies past the first bytes
decoded (gateway and OpenAI emulator on loopback)."""

from __future__ import annotations

import base64
import binascii
import io
import random
from pathlib import Path

import orjson
import pybase64
import pytest
from httpx import Response
from PIL import Image

from image_gateway.errors import UpstreamError
from image_gateway.providers.kit.output import decode_b64_image
from image_gateway.schemas import HEAD_BYTES, LazyB64
from tests.conftest import OPENAI_TEST_KEY, OpenAIEmulatorHandle, RunningGateway

PIECE = 64 * 1024  # characters of the base64 sent in one body message (api/answer.py)


def strict_ok(value: str) -> bool:
    try:
        pybase64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def decode_ok(value: str | memoryview) -> bool:
    try:
        decode_b64_image(value, "openai")
    except UpstreamError as exc:
        assert "invalid base64 image data" in str(exc)
        return False
    return True


def values() -> list[str]:
    rng = random.Random(16)
    out = ["", "QQ==", "QUI=", "QUJD", "QQ=", "Q===", "====", "QUJD\n", "café", "QUJD=QUJD"]
    for size in (1, 2, 3, PIECE // 4 * 3 - 1, PIECE // 4 * 3, PIECE // 4 * 3 + 1, 200_000):
        good = base64.b64encode(rng.randbytes(size)).decode("ascii")
        out.append(good)
        out.append(good[:-1])  # wrong length
        out.append(good + "=")  # padding beyond what is needed
        for _ in range(6):  # one character changed, anywhere (piece edges included)
            at = rng.choice(
                [0, len(good) - 1, min(PIECE - 1, len(good) - 1), rng.randrange(len(good))]
            )
            out.append(good[:at] + rng.choice("=!-_ \n/+A") + good[at + 1 :])
    # Padding that ends the first piece exactly, then more: valid piece by piece, not as a whole.
    head = base64.b64encode(rng.randbytes(PIECE // 4 * 3 - 1)).decode("ascii")
    assert head.endswith("=") and len(head) == PIECE
    out.append(head + base64.b64encode(rng.randbytes(300)).decode("ascii"))
    out.append(head + "QQ==")
    return out


@pytest.mark.parametrize("value", values(), ids=lambda v: f"{len(v)}:{v[:8]!r}")
def test_a_view_of_the_answer_is_decoded_as_its_text(value: str) -> None:
    """A value as a view of an answer's bytes (`b64_answer.loads(views=True)`), with bytes
    around it: accepted exactly when its text is (a non-ASCII byte never is), as its bytes."""
    answer = b'{"b64_json":"' + value.encode() + b'"}'
    view = memoryview(answer)[13 : 13 + len(value.encode())]
    assert decode_ok(view) == strict_ok(value) == decode_ok(value)
    if strict_ok(value):
        assert decode_b64_image(view, "openai") == pybase64.b64decode(value, validate=True)


@pytest.mark.parametrize("size", [0, 1, 2, 3, PIECE // 4 * 3 - 1, PIECE // 4 * 3, 200_001])
def test_lazy_base64_pieces_are_the_whole_encoding(size: int) -> None:
    """`LazyB64` sends `pieces(PIECE)` of whole 4-character groups: together, its text."""
    data = random.Random(size).randbytes(size)
    lazy = LazyB64(data)
    assert len(lazy) == len(LazyB64(data).text())
    pieces = list(lazy.pieces(PIECE))
    assert b"".join(pieces).decode() == LazyB64(data).text() == base64.b64encode(data).decode()
    assert all(len(piece) == PIECE for piece in pieces[:-1])


@pytest.mark.parametrize("cut", [[], [3], [3, 3, 300], [PIECE // 4 * 3, 6]])
def test_lazy_base64_of_runs_sends_each_run_once(cut: list[int]) -> None:
    """Runs of bytes (each a multiple of 3 but the last, as `kit/b64_answer` decodes them):
    their pieces are the whole encoding, and the runs are let go as they are encoded."""
    data = random.Random(len(cut)).randbytes(200_001)
    runs, at = [], 0
    for size in cut:
        runs.append(data[at : at + size])
        at += size
    runs.append(data[at:])
    lazy = LazyB64(runs)
    assert len(lazy) == len(base64.b64encode(data))
    pieces = lazy.pieces(PIECE)
    first = next(pieces)
    assert len(runs) == len(cut)  # the first let go: the answer holds only what is left to send
    assert (first + b"".join(pieces)).decode() == base64.b64encode(data).decode()
    assert runs == []


def test_not_a_string_is_an_image_without_data() -> None:
    with pytest.raises(UpstreamError, match="without data"):
        decode_b64_image(None, "openai")
    with pytest.raises(UpstreamError, match="without data"):
        decode_b64_image(memoryview(b"QUJD").cast("I"), "openai")  # not a view of bytes


def jpeg_with_metadata_first(metadata: int) -> bytes:
    """A JPEG whose frame header follows `metadata` bytes of APPn segments."""
    buf = io.BytesIO()
    Image.new("RGB", (40, 24), (9, 8, 7)).save(buf, "JPEG")
    jpeg = buf.getvalue()
    segments = b""
    while metadata > 0:
        length = min(metadata, 65533)
        segments += b"\xff\xe9" + (length + 2).to_bytes(2, "big") + bytes(length)
        metadata -= length
    return jpeg[:2] + segments + jpeg[2:]


@pytest.fixture
def gw(start_gateway, openai_emu: OpenAIEmulatorHandle) -> RunningGateway:
    return start_gateway(openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url)


def ask(gw: RunningGateway, emu: OpenAIEmulatorHandle, body: dict | str, fmt: str) -> Response:
    """The gateway's 200 for one gpt-image-1 generation the emulator answers with `body`."""
    emu.add_faults([{"match": "generate", "status": 200, "body": body}])
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={"model": "gpt-image-1", "prompt": "p", "response_format": fmt},
        )
    assert resp.status_code == 200, resp.text
    return resp


def answer(gw: RunningGateway, emu: OpenAIEmulatorHandle, image: bytes, fmt: str) -> dict:
    b64 = base64.b64encode(image).decode("ascii")
    resp = ask(gw, emu, {"created": 1, "data": [{"b64_json": b64}]}, fmt)
    if fmt == "b64_json":
        assert f'"b64_json":"{b64}"'.encode() in resp.content  # the provider's own characters
    item: dict = resp.json()["data"][0]
    return item


@pytest.mark.parametrize("metadata", [100, 3 * HEAD_BYTES])
def test_jpeg_header_read_wherever_it_lies(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, metadata: int
) -> None:
    item = answer(gw, openai_emu, jpeg_with_metadata_first(metadata), "b64_json")
    assert item["size"] == "40x24"
    assert Image.open(io.BytesIO(base64.b64decode(item["b64_json"]))).size == (40, 24)


def test_url_answer_stores_the_decoded_bytes(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    image = jpeg_with_metadata_first(2 * HEAD_BYTES)
    item = answer(gw, openai_emu, image, "url")
    assert item["size"] == "40x24"
    stored = [p for p in Path(gw.settings.image_store_dir).rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in stored] == [image]


def test_padding_inside_a_large_answer_is_a_502(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    head = base64.b64encode(bytes(PIECE // 4 * 3 - 1)).decode("ascii")  # ends with "="
    body = {"created": 1, "data": [{"b64_json": head + "QUJD" * 1000}]}
    openai_emu.add_faults([{"match": "generate", "status": 200, "body": body}])
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={"model": "gpt-image-1", "prompt": "p"})
    assert resp.status_code == 502
    assert "invalid base64 image data" in resp.json()["error"]["message"]


def test_answer_with_images_spliced_is_the_whole_json(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    """Each image's base64 goes out as its own piece of the body (api/answer.SplicedJSON): the
    client reads exactly the compact JSON of the whole answer, with its Content-Length."""
    images = [jpeg_with_metadata_first(10), jpeg_with_metadata_first(200_000)]
    items = [
        {"b64_json": base64.b64encode(i).decode("ascii"), "revised_prompt": "a\x00b"}
        for i in images
    ]
    openai_emu.add_faults(
        [{"match": "generate", "status": 200, "body": {"created": 1, "data": items}}]
    )
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"model": "gpt-image-1", "prompt": "p", "n": 2}
        )
    assert resp.status_code == 200, resp.text
    assert int(resp.headers["content-length"]) == len(resp.content)
    assert resp.content == orjson.dumps(orjson.loads(resp.content))
    data = resp.json()["data"]
    assert [base64.b64decode(d["b64_json"]) for d in data] == images
    assert [d["revised_prompt"] for d in data] == ["a\x00b"] * 2  # a NUL of its own, escaped


def noisy_png() -> bytes:
    """A PNG of random pixels: its base64 holds "/" and "+"."""
    buf = io.BytesIO()
    Image.frombytes("RGB", (64, 64), random.Random(7).randbytes(64 * 64 * 3)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["b64_json", "url"])
@pytest.mark.parametrize("shape", ["escaped", "unusual"])
def test_escaped_or_unusual_answers_give_the_same_image(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, fmt: str, shape: str
) -> None:
    """A provider body whose JSON writer escaped "/" as "\\/" (parsed by orjson, the base64 a
    str), and one with `b64_json` after another field that quotes its name, spaced (the span
    route, which sends the body's own bytes): the same image either way."""
    image = noisy_png()
    b64 = base64.b64encode(image).decode("ascii")
    assert "/" in b64
    if shape == "escaped":
        raw = '{"created": 1, "data": [{"b64_json": "B64"}]}'.replace(
            "B64", b64.replace("/", "\\/")
        )
    else:
        raw = (
            '{"created": 1, "data": [ {"revised_prompt": "say \\"b64_json\\"",'
            '\n  "b64_json" :\t"B64" } ], "usage": null}'
        ).replace("B64", b64)
    resp = ask(gw, openai_emu, raw, fmt)
    item = resp.json()["data"][0]
    if fmt == "b64_json":
        assert item["b64_json"] == b64
        assert int(resp.headers["content-length"]) == len(resp.content)
    else:
        stored = [p for p in Path(gw.settings.image_store_dir).rglob("*") if p.is_file()]
        assert [p.read_bytes() for p in stored] == [image]
    assert item["size"] == "64x64"
