"""An OpenAI answer's base64 is decoded as the provider's body arrives
(`kit/b64_answer.StreamedAnswer`, fed by `UpstreamClient.request`'s `answer_reader`): whatever
its framing (Content-Length, chunks of any size, gzip), escapes, padding, images and the fields
after them, the client gets the images; a body cut inside its base64, or base64 that is not
strict, is the provider's failure after it took the call (502, never retried), not a 500.

The provider is a scripted HTTP server on loopback that writes each answer's bytes as given."""

from __future__ import annotations

import base64
import gzip
import io
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from httpx import Response
from PIL import Image

from tests.conftest import OPENAI_TEST_KEY, RunningGateway


def noisy_png(seed: int, side: int = 96) -> bytes:
    """A PNG of random pixels: incompressible, its base64 holds "/" and "+"."""
    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(seed).randbytes(side * side * 3)).save(
        buf, "PNG"
    )
    return buf.getvalue()


IMAGES = [noisy_png(1), noisy_png(2, 64)]
B64 = [base64.b64encode(image).decode("ascii") for image in IMAGES]
USAGE = (
    '"usage": {"input_tokens": 5, "input_tokens_details": {"text_tokens": 5, "image_tokens": 0},'
    ' "output_tokens": 7, "total_tokens": 12}'
)


class Provider:
    """Answers each POST with the next scripted head and body pieces (`answer`), written
    one piece at a time; `cut`: the connection is closed after them, whatever the head said."""

    def __init__(self) -> None:
        provider = self
        self.posts = 0
        self.head = b""
        self.pieces: list[bytes] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                provider.posts += 1
                self.rfile.read(int(self.headers.get("content-length", "0")))
                self.wfile.write(provider.head)
                for piece in provider.pieces:
                    self.wfile.write(piece)
                    self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                return None

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(
        self,
        body: bytes,
        *,
        piece: int = 1 << 20,
        gzipped: bool = False,
        chunked: bool = False,
        cut: int | None = None,
    ) -> None:
        """A 200 of `body` (gzip-encoded first if asked), sent in pieces of `piece` bytes, as
        Content-Length or chunked framing; `cut`: only that many bytes of it are sent."""
        if gzipped:
            body = gzip.compress(body)
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        head += "Content-Encoding: gzip\r\n" if gzipped else ""
        sent = body if cut is None else body[:cut]
        pieces = [sent[i : i + piece] for i in range(0, len(sent), piece)]
        if chunked:
            head += "Transfer-Encoding: chunked\r\n"
            pieces = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces]
            pieces += [b"0\r\n\r\n"] if cut is None else []
        else:
            head += f"Content-Length: {len(body)}\r\n"
        self.head, self.pieces = (head + "\r\n").encode(), pieces

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    yield p
    p.close()


@pytest.fixture
def gw(start_gateway: Any, provider: Provider) -> RunningGateway:
    gateway: RunningGateway = start_gateway(
        openai_api_key=OPENAI_TEST_KEY, openai_base_url=provider.base_url
    )
    return gateway


def generate(gw: RunningGateway, n: int = 1) -> Response:
    with gw.client() as http:
        return http.post(
            "/v1/images/generations", json={"model": "gpt-image-1", "prompt": "p", "n": n}
        )


def images_body(values: list[str]) -> bytes:
    items = ", ".join(f'{{"b64_json": "{v}", "revised_prompt": "r"}}' for v in values)
    return f'{{"created": 1, "data": [{items}], {USAGE}, "size": "1024x1024"}}'.encode()


@pytest.mark.parametrize(
    ("piece", "gzipped", "chunked"),
    [(1 << 20, False, False), (1, False, True), (4093, True, False), (777, True, True)],
)
def test_images_in_any_framing(
    gw: RunningGateway, provider: Provider, piece: int, gzipped: bool, chunked: bool
) -> None:
    """Two images, the usage after them, in one piece or in pieces of a byte or more, gzip
    or not: the client gets both images, as the provider's characters, and the usage."""
    provider.answer(images_body(B64), piece=piece, gzipped=gzipped, chunked=chunked)
    resp = generate(gw, n=2)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [d["b64_json"] for d in body["data"]] == B64
    assert [d["size"] for d in body["data"]] == ["96x96", "64x64"]
    assert body["usage"]["total_tokens"] == 12


def test_escaped_slashes_are_the_same_image(gw: RunningGateway, provider: Provider) -> None:
    """A JSON writer that escapes "/" as "\\/" (allowed by JSON; orjson and OpenAI never do),
    an escape split across the pieces too: read as the "/" it stands for."""
    assert "/" in B64[0]
    provider.answer(images_body([B64[0].replace("/", "\\/")]), piece=3)
    resp = generate(gw)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"][0]["b64_json"] == B64[0]


@pytest.mark.parametrize(
    "value",
    [
        B64[0][:1000] + "\\n" + B64[0][1000:],  # an escaped line break: no base64 character
        B64[0][:-4] + "QQ==" + "QUJD",  # padding, then more
        B64[0] + "=",  # more padding than needed
        B64[0][:-1],  # a length that is no multiple of 4
        B64[0][:500] + "-_" + B64[0][502:],  # the URL-safe alphabet
    ],
    ids=["newline", "padding-inside", "extra-padding", "length", "urlsafe"],
)
def test_invalid_base64_is_the_providers_failure(
    gw: RunningGateway, provider: Provider, value: str
) -> None:
    provider.answer(images_body([value]), piece=1000)
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert "invalid base64 image data" in resp.json()["error"]["message"]
    assert resp.headers["x-should-retry"] == "false"  # it took the call: never sent again
    assert provider.posts == 1


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("gzipped", [False, True])
def test_a_body_cut_inside_its_base64_is_the_providers_failure(
    gw: RunningGateway, provider: Provider, chunked: bool, gzipped: bool
) -> None:
    """The connection closes halfway through the base64 (fewer bytes than Content-Length, no
    last chunk, or a gzip stream stopped): a transport failure after the provider took the
    call (502, never retried), not an image made of half the bytes."""
    body = images_body([B64[0]])
    cut = (len(gzip.compress(body)) if gzipped else len(body)) // 2
    provider.answer(body, piece=4096, gzipped=gzipped, chunked=chunked, cut=cut)
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert resp.headers["x-should-retry"] == "false"
    assert provider.posts == 1
