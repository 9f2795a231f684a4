"""The images Ideogram makes, and the host that serves them by temporary URL.

Ideogram answers each image as a link ("Images links are available for a limited period of
time; if you would like to keep the image, you must download it", IDEO-DOCS; 1 h or 24 h,
[UNVERIFIED]: `--url-ttl` here) on its own site, `https://ideogram.ai/api/images/ephemeral/
<id>.png?exp=...&signature=...` ([3P] callers' logs). The emulator's result host is its second
listener: `GET /api/images/ephemeral/<id>.png?se=&w=&h=&sig=`, signed with the kit's
`SignedUrls` (an expired or altered URL is a 403). No key is needed; a request carrying one is
counted (`result_requests_with_key`): the gateway must never send it.
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

PREFIX = "/api/images/ephemeral/"
MAX_SIDE = 4096


LOOK = Look("Ideogram emulator", (250, 236, 214), (40, 90, 160))


class Results:
    """Signed, expiring result URLs, and the images behind them."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self.urls = SignedUrls(clock)
        self.images = Placeholders(LOOK)

    def url(self, base: str, width: int, height: int) -> str:
        expires = self.urls.clock() + self.ttl
        name = f"{uuid.uuid4().hex}.png"
        return self.urls.make(base, PREFIX, name, expires, {"w": width, "h": height})

    async def serve(self, path: str, query: bytes, send: Send, fake: bytes | None) -> bool:
        """Answer a download (True when an image was served; `fake`, a fault's `image`, in
        its place)."""
        name = path[len(PREFIX) :]
        params = {k: v[0] for k, v in parse_qs(query.decode("latin-1")).items()}
        refusal = self.urls.check(name, params, ("w", "h"))
        width = height = 0
        if refusal is None:
            try:
                width, height = int(params["w"]), int(params["h"])
            except ValueError:
                pass
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
                refusal = forbidden("Signed size out of range.")
        if refusal is not None:
            await refusal.send(send)
            return False
        data = fake if fake is not None else (await self.images.get(width, height, "png")).data
        etag = f'"{hashlib.sha256(name.encode()).hexdigest()[:16]}"'.encode()
        await send_bytes(send, 200, data, [(b"content-type", b"image/png"), (b"etag", etag)])
        return True
