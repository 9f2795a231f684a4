"""The images the Together emulator makes, and its result host (the second listener).

`response_format: "url"` answers point at the result host: `GET /imgproxy/<id>.<ext>?se=&w=&h=
&f=&sig=`, signed with the kit's `SignedUrls` (size and format in the signed query, so a download
needs no record; an expired or altered URL is a 403, the kit's refusal). Where Together really
hosts its results, and for how long, is [UNVERIFIED] (`--url-ttl` here). No key is needed; a
request carrying one is counted (`result_requests_with_key`): the gateway must never send it.
Images are JPEG (Together's default `output_format`) or PNG, "Together emulator" across them
(the kit's `Placeholders`).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs

from ..kit.asgi import Send, send_bytes
from ..kit.placeholder import Look, Placeholders
from ..kit.signed_urls import SignedUrls, forbidden

PREFIX = "/imgproxy/"
FORMATS = {"jpeg": ("JPEG", b"image/jpeg", "jpg"), "png": ("PNG", b"image/png", "png")}


LOOK = Look("Together emulator", (30, 26, 40), (200, 190, 230))


class Results:
    """Rendered images (a small LRU) and their signed, expiring URLs."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self.urls = SignedUrls(clock)
        self.images = Placeholders(LOOK)

    async def image(self, width: int, height: int, fmt: str) -> bytes:
        return (await self.images.get(width, height, fmt)).data

    def url(self, base: str, width: int, height: int, fmt: str) -> str:
        name = f"{uuid.uuid4().hex}.{FORMATS[fmt][2]}"
        expires = self.urls.clock() + self.ttl
        return self.urls.make(base, PREFIX, name, expires, {"w": width, "h": height, "f": fmt})

    async def serve(self, path: str, query: bytes, send: Send, fake: bytes | None) -> bool:
        """Answer a download (True when an image was served; `fake`, a fault's `image`, in its
        place)."""
        name = path[len(PREFIX) :]
        params = {k: v[0] for k, v in parse_qs(query.decode("latin-1")).items()}
        refusal = self.urls.check(name, params, ("w", "h", "f"))
        if refusal is None:
            try:
                width, height, fmt = int(params["w"]), int(params["h"]), params["f"]
            except ValueError:
                width = height = 0
                fmt = ""
            if not (0 < width <= 4096 and 0 < height <= 4096 and fmt in FORMATS):
                refusal = forbidden("Signed parameters out of range.")
        if refusal is not None:
            await refusal.send(send)
            return False
        data = fake if fake is not None else await self.image(width, height, fmt)
        etag = f'"{hashlib.sha256(name.encode()).hexdigest()[:16]}"'.encode()
        await send_bytes(send, 200, data, [(b"content-type", FORMATS[fmt][1]), (b"etag", etag)])
        return True
