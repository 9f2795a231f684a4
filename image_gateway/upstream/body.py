"""Reading an upstream response's body whole, under the byte cap (`upstream.client`'s half that
touches aiohttp's response).

A declared length over the cap is refused before any of the body is read; every body is counted
as it arrives, in the pieces aiohttp's parser buffered, and joined once. gzip and deflate are
decoded here (`Inflater`), not by aiohttp, so that the cap counts decompressed bytes before
they are inflated (a gzip bomb stops at the cap) and a compressed stream cut short is an error,
not the short body aiohttp's own decoder returns. Failures are `BodyTooLarge` and
`MalformedBody`; `upstream.client` maps them to gateway errors.

A caller that reads a body as it arrives (an answer's base64 decoded piece by piece:
`providers/kit/b64_answer.StreamedAnswer`, issue 16) gives a `BodyReader`: each piece, counted
and decompressed as above, is fed to it instead of being kept, so the body is never held whole.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import aiohttp


class BodyTooLarge(Exception):
    """The body (as declared, on the wire or decompressed) exceeds the byte cap; `status` is
    the answer's (a 2xx to a submission may have been charged)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class MalformedBody(Exception):
    """A body that cannot be decoded (the reason is short: no URL, header or body)."""


class BodyReader(Protocol):
    """What a body is fed to as it arrives (`read_body`'s `into`). `feed` must not raise for
    what it reads: it keeps what it found for its owner to judge once the body is complete."""

    def feed(self, data: bytes) -> None: ...


async def read_body(
    resp: aiohttp.ClientResponse, method: str, cap: int, into: BodyReader | None = None
) -> bytes:
    """The whole body (bytes, at most `cap` of them), decompressed (gzip, deflate); with
    `into`, each piece is fed to it as it arrives (in order, at most `cap` bytes in all) and
    nothing is kept: b"" is returned once the body is complete."""
    if method == "HEAD" or resp.status in (204, 304):  # no body, whatever the head declares
        return b""
    declared = resp.content_length
    if declared is not None and declared > cap:
        raise BodyTooLarge(resp.status)
    inflater = Inflater.of(resp, cap)
    # The pieces as aiohttp's parser buffered them, joined once: `resp.read()` would join them
    # twice more (a 4 MB image copied three times). Counted as they come, whatever the framing.
    pieces: list[bytes] = []
    wire = size = 0
    async for piece, _ in resp.content.iter_chunks():
        wire += len(piece)
        if wire > cap:
            raise BodyTooLarge(resp.status)
        if inflater is not None:
            piece = inflater.feed(piece)
        size += len(piece)
        if size > cap:
            raise BodyTooLarge(resp.status)
        if into is None:
            pieces.append(piece)
        elif piece:
            into.feed(piece)
    if inflater is not None:
        inflater.end()
    return b"".join(pieces)


class Inflater:
    """Decompresses a gzip or deflate body, refusing more than `cap` decompressed bytes before
    it inflates them, and a stream that stops before its end."""

    __slots__ = ("_encoding", "_size", "_status", "_z", "cap")

    def __init__(self, encoding: str, cap: int, status: int) -> None:
        self._encoding = encoding
        self.cap = cap
        self._status = status
        self._size = 0
        self._z: Any = None  # zlib's decompressor, chosen on the first bytes

    @classmethod
    def of(cls, resp: aiohttp.ClientResponse, cap: int) -> Inflater | None:
        """The decoder of the response's Content-Encoding; None: the body is used as it is
        (identity, or an encoding we did not ask for)."""
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            return cls(encoding, cap, resp.status)
        return None

    def feed(self, data: bytes) -> bytes:
        if not data:
            return b""
        if self._z is None:
            self._z = _decompressor(self._encoding, data)
        try:  # at most one byte more than fits: enough to tell, never the whole bomb
            out: bytes = self._z.decompress(data, self.cap - self._size + 1)
        except zlib.error:
            raise MalformedBody("bad content encoding") from None
        self._size += len(out)
        if self._size > self.cap:
            raise BodyTooLarge(self._status)
        return out

    def end(self) -> None:
        if self._z is not None and not self._z.eof:
            raise MalformedBody("truncated compressed body")

    def whole(self, data: bytes) -> bytes:
        out = self.feed(data)
        self.end()
        return out


def _decompressor(encoding: str, first: bytes) -> Any:
    if encoding != "deflate":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip
    # "deflate" is meant to be zlib-wrapped, but some servers send a raw deflate stream.
    wrapped = len(first) < 2 or (first[0] & 0x0F == 8 and int.from_bytes(first[:2]) % 31 == 0)
    return zlib.decompressobj() if wrapped else zlib.decompressobj(-zlib.MAX_WBITS)
