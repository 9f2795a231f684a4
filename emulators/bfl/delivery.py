"""Signed result URLs (`/delivery/<id>.<ext>?se=&w=&h=&sig=`) and the blob-store-like download.

Like BFL's delivery URLs (Azure blob SAS), the URL alone authorises the download: no `x-key`.
Size and format ride in the signed query, so a download never needs the task record. A bad
signature or an expired URL gives 403 with an Azure-style XML error body.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
from email.utils import formatdate
from urllib.parse import parse_qs

from .faults import Send, send_bytes
from .images import CONTENT_TYPES, RenderCache

MAX_SIDE = 16384


class Signer:
    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def sign(self, name: str, se: str, w: int, h: int) -> str:
        msg = f"{name}\n{se}\n{w}\n{h}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def url(self, base: str, task_id: str, fmt: str, w: int, h: int, expires: float) -> str:
        name = f"{task_id}.{fmt}"
        se = f"{expires:.3f}"
        return f"{base}/delivery/{name}?se={se}&w={w}&h={h}&sig={self.sign(name, se, w, h)}"


def _azure_error(code: str, message: str, detail: str) -> bytes:
    now = formatdate(usegmt=True)
    return (
        '<?xml version="1.0" encoding="utf-8"?><Error>'
        f"<Code>{code}</Code><Message>{message}\nRequestId:{uuid.uuid4()}\nTime:{now}</Message>"
        f"<AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail></Error>"
    ).encode()


async def _forbidden(send: Send, detail: str) -> None:
    body = _azure_error(
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header "
        "is formed correctly including the signature.",
        detail,
    )
    await send_bytes(send, 403, body, [(b"content-type", b"application/xml")])


async def serve_sample(
    path: str,
    query: bytes,
    signer: Signer,
    cache: RenderCache,
    send: Send,
    fake_image: bytes | None = None,
) -> bool:
    """Answer a delivery download. Returns True when an image was served (`fake_image`, when
    given, in its place, under the image's content type)."""
    name = path[len("/delivery/") :]
    _, _, ext = name.rpartition(".")
    params = {k: v[0] for k, v in parse_qs(query.decode("latin-1")).items()}
    try:
        se, sig = params["se"], params["sig"]
        w, h = int(params["w"]), int(params["h"])
        expires = float(se)
    except (KeyError, ValueError):
        await _forbidden(send, "Signature fields not well formed.")
        return False
    if ext not in CONTENT_TYPES or not hmac.compare_digest(sig, signer.sign(name, se, w, h)):
        await _forbidden(send, "Signature did not match.")
        return False
    if time.time() > expires:
        expiry = formatdate(expires, usegmt=True)
        detail = f"Signed expiry time [{expiry}] has to be after signed start time [{formatdate()}]"
        await _forbidden(send, detail)
        return False
    if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE):
        await _forbidden(send, "Signed size out of range.")
        return False
    data = fake_image if fake_image is not None else cache.get(w, h, ext)
    if data is None:
        data = await asyncio.to_thread(cache.render, w, h, ext)
    headers = [
        (b"content-type", CONTENT_TYPES[ext].encode()),
        (b"x-ms-blob-type", b"BlockBlob"),
        (b"etag", f'"0x{hashlib.sha256(name.encode()).hexdigest()[:15].upper()}"'.encode()),
        (b"accept-ranges", b"bytes"),
    ]
    await send_bytes(send, 200, data, headers)
    return True
