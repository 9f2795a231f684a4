"""Expiring signed result URLs, like the blob-store SAS URLs providers hand out for results
(BFL's `delivery` URLs, DALL·E's result URLs): the URL alone authorises the download, no key.

    <base><prefix><name>?se=<expiry, unix seconds>&<signed params>&sig=<hmac>

The signature covers the name, the expiry and every parameter, so changing any of them (a
longer expiry, another size) is refused. Refusals are 403s with an Azure-blob-style XML body
and `x-ms-error-code` (what the real storage behind these URLs answers); a well-signed URL
for a blob that is gone is a 404 `BlobNotFound`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate

from .asgi import Send, send_bytes

_AUTH_FAILED = (
    "Server failed to authenticate the request. Make sure the value of Authorization header is "
    "formed correctly including the signature."
)


@dataclass(frozen=True)
class Refusal:
    """Why a download is refused: its status, storage error code and detail."""

    status: int
    code: str
    message: str
    detail: str

    def xml(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="utf-8"?><Error>'
            f"<Code>{self.code}</Code><Message>{self.message}\nRequestId:{uuid.uuid4()}\n"
            f"Time:{formatdate(usegmt=True)}</Message>"
            f"<AuthenticationErrorDetail>{self.detail}</AuthenticationErrorDetail></Error>"
        ).encode()

    async def send(self, send: Send, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        await send_bytes(
            send,
            self.status,
            self.xml(),
            [
                (b"content-type", b"application/xml"),
                (b"x-ms-error-code", self.code.encode()),
                *(headers or []),
            ],
        )


def forbidden(detail: str) -> Refusal:
    return Refusal(403, "AuthenticationFailed", _AUTH_FAILED, detail)


NOT_FOUND = Refusal(404, "BlobNotFound", "The specified blob does not exist.", "")


class SignedUrls:
    """Makes and checks signed URLs with a secret of its own (new for each emulator)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._secret = secrets.token_bytes(32)

    def make(
        self, base: str, prefix: str, name: str, expires: float, params: Mapping[str, object]
    ) -> str:
        """The URL of `name` under `prefix`, valid until `expires` (unix seconds)."""
        se = str(int(expires)) if float(expires).is_integer() else f"{expires:.3f}"
        values = {k: str(v) for k, v in params.items()}
        query = "".join(f"&{k}={v}" for k, v in values.items())
        return f"{base}{prefix}{name}?se={se}{query}&sig={self._sign(name, se, values)}"

    def check(self, name: str, query: Mapping[str, str], signed: tuple[str, ...]) -> Refusal | None:
        """None when `query` carries a valid, unexpired signature over `signed` parameters."""
        try:
            se, sig = query["se"], query["sig"]
            expires = float(se)
            values = {k: query[k] for k in signed}
        except (KeyError, ValueError):
            return forbidden("Signature fields not well formed.")
        if not hmac.compare_digest(sig.encode(), self._sign(name, se, values).encode()):
            return forbidden("Signature did not match.")
        now = self.clock()
        if now > expires:
            return forbidden(
                f"Signed expiry time [{formatdate(expires, usegmt=True)}] has to be after "
                f"signed start time [{formatdate(now, usegmt=True)}]: the URL has expired."
            )
        return None

    def _sign(self, name: str, se: str, values: Mapping[str, str]) -> str:
        message = "\n".join([name, se, *(f"{k}={v}" for k, v in values.items())])
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()[:32]
