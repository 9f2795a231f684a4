"""DALL·E result URLs: files served by the emulator itself, signed and expiring like blob SAS URLs.

`GET /_files/<id>.png?se=<expiry unix>&sig=<hmac>`: a bad signature or a passed expiry is a 403
with an Azure-blob-style XML body; a well-signed URL whose file was evicted is a 404. The store
keeps at most `max_files` entries and drops expired ones on every insert.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BlobError:
    status: int
    code: str
    message: str
    detail: str

    def xml(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="utf-8"?><Error>'
            f"<Code>{self.code}</Code><Message>{self.message}</Message>"
            f"<AuthenticationErrorDetail>{self.detail}</AuthenticationErrorDetail></Error>"
        ).encode()


_AUTH_FAILED = (
    "Server failed to authenticate the request. Make sure the value of Authorization header is "
    "formed correctly including the signature."
)


class FileStore:
    def __init__(
        self, ttl: float, max_files: int = 512, clock: Callable[[], float] = time.time
    ) -> None:
        self.ttl = ttl
        self.max_files = max_files
        self.clock = clock
        self._secret = os.urandom(32)
        self._files: OrderedDict[str, tuple[int, bytes]] = OrderedDict()  # name -> (expiry, data)

    def __len__(self) -> int:
        return len(self._files)

    def put(self, data: bytes) -> str:
        """Store `data`; return the signed path-and-query to serve it."""
        now = self.clock()
        while self._files:
            name, (expiry, _) = next(iter(self._files.items()))
            if expiry >= now and len(self._files) < self.max_files:
                break
            del self._files[name]
        name = f"img-{os.urandom(12).hex()}.png"
        expiry = int(now + self.ttl)
        self._files[name] = (expiry, data)
        return f"/_files/{name}?se={expiry}&sig={self._sign(name, str(expiry))}"

    def get(self, name: str, se: str, sig: str) -> bytes | BlobError:
        if not hmac.compare_digest(self._sign(name, se).encode(), sig.encode()):
            return BlobError(403, "AuthenticationFailed", _AUTH_FAILED, "Signature did not match.")
        if int(se) < self.clock():
            return BlobError(
                403,
                "AuthenticationFailed",
                _AUTH_FAILED,
                "Signed expiry time has passed; the URL has expired.",
            )
        entry = self._files.get(name)
        if entry is None:
            return BlobError(404, "BlobNotFound", "The specified blob does not exist.", "")
        return entry[1]

    def _sign(self, name: str, se: str) -> str:
        digest = hmac.new(self._secret, f"{name}\n{se}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
