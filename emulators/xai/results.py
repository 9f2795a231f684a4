"""The images xAI makes, and the result host that serves them by URL.

xAI answers `url` results on another host than its API, temporary links such as
`https://imgen.x.ai/xai-imgen/xai-tmp-imgen-<uuid>.jpeg` (REFERENCE-MORE §7; docs.x.ai "URLs are
temporary, so download or process promptly"; lifetime [UNVERIFIED], `--url-ttl` here). The
emulator's result host is its second listener: `GET /xai-imgen/xai-tmp-imgen-<id>.jpeg?se=&w=
&h=&sig=`, signed with the kit's `SignedUrls` (size in the signed query, so a download needs no
record; an expired or altered URL is a 403, the kit's refusal). No key is needed, and a request
that carries one is counted (`result_requests_with_key`): the gateway must never send it.

Images are JPEG (xAI's output: REFERENCE-MORE §7, `mime_type: image/jpeg`), "xAI emulator"
across the middle. Sizes: 1k is about 1024x1024 pixels, 2k about 2048x2048 (xai-sdk: "~1
megapixel", "~4 megapixels"), at the aspect ratio asked for (or the first input image's, for an
edit without one; 1:1 otherwise), sides multiples of 16.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs

from ..kit.asgi import Send, send_bytes
from ..kit.placeholder import Look, Placeholders
from ..kit.signed_urls import SignedUrls, forbidden

PREFIX = "/xai-imgen/"
SIDE = {"1k": 1024, "2k": 2048}  # the side of a square image of that resolution
MAX_SIDE = 8192


def dimensions(resolution: str, ratio: float | None) -> tuple[int, int]:
    """Width and height of an image of `resolution` at `ratio` (width / height; None: 1:1)."""
    area = SIDE.get(resolution, 1024) ** 2
    ratio = ratio or 1.0
    height = math.sqrt(area / ratio)
    return _multiple(height * ratio), _multiple(height)


def _multiple(value: float) -> int:
    return max(16, round(value / 16) * 16)


LOOK = Look("xAI emulator", (24, 24, 28), (220, 220, 230), block="third")


class Results:
    """Rendered images (a small LRU) and their signed, expiring URLs."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self.urls = SignedUrls(clock)
        self.images = Placeholders(LOOK)

    async def image(self, width: int, height: int) -> bytes:
        return (await self.images.get(width, height, "jpeg")).data

    def url(self, base: str, width: int, height: int) -> str:
        """A result URL on `base` (the result host), valid for `ttl` seconds."""
        name = f"xai-tmp-imgen-{uuid.uuid4()}.jpeg"
        expires = self.urls.clock() + self.ttl
        return self.urls.make(base, PREFIX, name, expires, {"w": width, "h": height})

    async def serve(self, path: str, query: bytes, send: Send, fake: bytes | None) -> bool:
        """Answer a result download (True when an image was served; `fake`, a fault's `image`,
        in its place)."""
        name = path[len(PREFIX) :]
        params = {k: v[0] for k, v in parse_qs(query.decode("latin-1")).items()}
        refusal = self.urls.check(name, params, ("w", "h"))
        if refusal is None:
            try:
                width, height = int(params["w"]), int(params["h"])
            except ValueError:
                width = height = 0
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
                refusal = forbidden("Signed size out of range.")
        if refusal is not None:
            await refusal.send(send)
            return False
        data = fake if fake is not None else await self.image(width, height)
        etag = f'"{hashlib.sha256(name.encode()).hexdigest()[:16]}"'.encode()
        headers = [(b"content-type", b"image/jpeg"), (b"etag", etag)]
        await send_bytes(send, 200, data, headers)
        return True
