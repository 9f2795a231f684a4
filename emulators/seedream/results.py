"""The images Ark makes, and the result host that serves them by URL.

Ark answers `url` results on its object storage (TOS), a host other than its API's (URL
lifetime 24 h [UNVERIFIED], `--url-ttl` here). The emulator's result host is its second
listener: `GET /ark-content-generation/<uuid>.<jpeg|png>?se=&w=&h=&sig=`, signed with the
kit's `SignedUrls` (size in the signed query, so a download needs no record; an expired or
altered URL is a 403). No key is needed, and a request that carries one is counted
(`result_requests_with_key`): the gateway must never send it.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs

from ..kit.asgi import Send, send_bytes
from ..kit.placeholder import MIME, Look, Placeholders
from ..kit.signed_urls import SignedUrls, forbidden

PREFIX = "/ark-content-generation/"
MAX_SIDE = 8192
LOOK = Look("Seedream emulator", (34, 28, 48), (236, 196, 120), block="corner")


class Results:
    """Rendered images (the kit's LRU) and their signed, expiring URLs."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self.urls = SignedUrls(clock)
        self.images = Placeholders(LOOK)

    async def image(self, width: int, height: int, fmt: str) -> bytes:
        return (await self.images.get(width, height, fmt)).data

    def url(self, base: str, width: int, height: int, fmt: str) -> str:
        """A result URL on `base` (the result host), valid for `ttl` seconds."""
        name = f"{uuid.uuid4()}.{fmt}"
        expires = self.urls.clock() + self.ttl
        return self.urls.make(base, PREFIX, name, expires, {"w": width, "h": height})

    async def serve(self, path: str, query: bytes, send: Send, fake: bytes | None) -> bool:
        """Answer a result download (True when an image was served; `fake`, a fault's `image`,
        in its place)."""
        name = path[len(PREFIX) :]
        params = {k: v[0] for k, v in parse_qs(query.decode("latin-1")).items()}
        refusal = self.urls.check(name, params, ("w", "h"))
        fmt = name.rpartition(".")[2]
        if refusal is None:
            try:
                width, height = int(params["w"]), int(params["h"])
            except ValueError:
                width = height = 0
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or fmt not in MIME:
                refusal = forbidden("Signed size out of range.")
        if refusal is not None:
            await refusal.send(send)
            return False
        data = fake if fake is not None else await self.image(width, height, fmt)
        etag = f'"{hashlib.sha256(name.encode()).hexdigest()[:16]}"'.encode()
        headers = [(b"content-type", MIME[fmt].encode()), (b"etag", etag)]
        await send_bytes(send, 200, data, headers)
        return True
