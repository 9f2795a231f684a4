"""DALL·E result URLs: files served by the emulator itself, signed and expiring like the blob
SAS URLs OpenAI hands out (the kit's `SignedUrls`).

`GET /_files/<id>.png?se=<expiry unix>&sig=<hmac>`: a bad signature or a passed expiry is a 403
with an Azure-blob-style XML body; a well-signed URL whose file was evicted is a 404. The store
keeps at most `max_files` entries and drops expired ones on every insert.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from ..kit.signed_urls import NOT_FOUND, Refusal, SignedUrls

PREFIX = "/_files/"


class FileStore:
    def __init__(
        self, ttl: float, max_files: int = 512, clock: Callable[[], float] = time.time
    ) -> None:
        self.ttl = ttl
        self.max_files = max_files
        self.urls = SignedUrls(clock)
        self._files: OrderedDict[str, tuple[int, bytes]] = OrderedDict()  # name -> (expiry, data)

    @property
    def clock(self) -> Callable[[], float]:
        return self.urls.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:  # tests move time on
        self.urls.clock = clock

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
        return self.urls.make("", PREFIX, name, expiry, {})

    def get(self, name: str, query: Mapping[str, str]) -> bytes | Refusal:
        refusal = self.urls.check(name, query, ())
        if refusal is not None:
            return refusal
        entry = self._files.get(name)
        return NOT_FOUND if entry is None else entry[1]
