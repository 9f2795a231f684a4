"""BFL's result downloads (`/delivery/<id>.<ext>?se=&w=&h=&sig=`) on the kit's signed URLs.

Like BFL's delivery URLs (Azure blob SAS), the URL alone authorises the download: no `x-key`.
Size and format ride in the signed query, so a download never needs the task record. A bad
signature or an expired URL gives 403 with an Azure-style XML error body.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs

from ..kit.asgi import Send, send_bytes
from ..kit.placeholder import Placeholders
from ..kit.signed_urls import SignedUrls, forbidden
from .images import CONTENT_TYPES

PREFIX = "/delivery/"
MAX_SIDE = 16384


async def serve_sample(
    path: str,
    query: bytes,
    urls: SignedUrls,
    cache: Placeholders,
    send: Send,
    fake_image: bytes | None = None,
) -> bool:
    """Answer a delivery download. Returns True when an image was served (`fake_image`, when
    given, in its place, under the image's content type)."""
    name = path[len(PREFIX) :]
    _, _, ext = name.rpartition(".")
    params = {k: v[0] for k, v in parse_qs(query.decode("latin-1")).items()}
    refusal = urls.check(name, params, ("w", "h"))
    if refusal is None and ext not in CONTENT_TYPES:
        refusal = forbidden("Signature did not match.")
    if refusal is None:
        try:
            w, h = int(params["w"]), int(params["h"])
        except ValueError:
            w = h = 0
        if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE):
            refusal = forbidden("Signed size out of range.")
    if refusal is not None:
        await refusal.send(send)
        return False
    data = fake_image if fake_image is not None else (await cache.get(w, h, ext)).data
    headers = [
        (b"content-type", CONTENT_TYPES[ext].encode()),
        (b"x-ms-blob-type", b"BlockBlob"),
        (b"etag", f'"0x{hashlib.sha256(name.encode()).hexdigest()[:15].upper()}"'.encode()),
        (b"accept-ranges", b"bytes"),
    ]
    await send_bytes(send, 200, data, headers)
    return True
