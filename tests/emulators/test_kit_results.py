"""The kit's result host (emulators/kit/results.py) on its own: signed, expiring URLs whose
downloads are placeholder files; what together, seedream, ideogram, recraft and xai build on."""

from __future__ import annotations

import asyncio
import io
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from emulators.kit.placeholder import Look
from emulators.kit.results import ResultHost

LOOK = Look("Test emulator", (10, 20, 30), (200, 210, 220))


def download(host: ResultHost, url: str, fake: bytes | None = None) -> tuple[bool, int, Any]:
    """Serve `url` through `host.serve`: (served, status, headers and body)."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    parts = urlsplit(url)
    served = asyncio.run(host.serve(parts.path, parts.query.encode(), send, fake))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return served, sent[0]["status"], (dict(sent[0]["headers"]), body)


def test_a_url_serves_its_size_and_format_from_the_extension_or_the_signed_query() -> None:
    by_name = ResultHost("/r/", LOOK, ttl=60, formats={"jpeg": "jpg"}, stem=lambda: "abc")
    url = by_name.url("http://h", 320, 200, "jpeg")
    assert url.startswith("http://h/r/abc.jpg?se=") and "&f=" not in url
    served, status, (headers, body) = download(by_name, url)
    assert (served, status, headers[b"content-type"]) == (True, 200, b"image/jpeg")
    assert Image.open(io.BytesIO(body)).size == (320, 200)
    signed = ResultHost(
        "/r/", LOOK, ttl=60, formats={"png": "png", "webp": "webp"}, sign_format=True
    )
    url = signed.url("http://h", 64, 48, "webp")
    assert "&f=webp&" in url
    served, status, (headers, body) = download(signed, url, fake=b"<html>")
    assert (served, status, headers[b"content-type"], body) == (True, 200, b"image/webp", b"<html>")


def test_an_altered_expired_or_oversized_url_is_a_403() -> None:
    now = [1000.0]
    host = ResultHost("/r/", LOOK, ttl=60, max_side=512, clock=lambda: now[0])
    url = host.url("http://h", 64, 64, "png")
    assert download(host, url.replace("w=64", "w=65"))[:2] == (False, 403)
    assert download(host, host.url("http://h", 513, 64, "png"))[:2] == (False, 403)
    now[0] += 61
    assert download(host, url)[:2] == (False, 403)
