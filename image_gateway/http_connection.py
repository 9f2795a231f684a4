"""One upstream HTTP/1.1 connection: an `asyncio.Protocol` feeding httptools' response parser.

`Connection.exchange()` writes one request and collects its response under the byte cap
(`max_response_bytes` counts wire bytes and, for gzip/deflate, decompressed bytes, so a
decompression bomb stops at the cap), failing it when the peer stays silent longer than the
exchange's read timeout (sending our body counts as activity). The framing is httptools'
(Content-Length, chunked); a body without either ends with the connection. After a complete
response that allows keep-alive the connection is `reusable()`; a failed or abandoned exchange
closes it.

Failures are `PoolError`s; `http_client` maps them to gateway errors.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, cast

import httptools

if TYPE_CHECKING:
    from .http_pool import Pool

Origin = tuple[str, str, int]  # scheme, host, port: the pool key


class PoolError(Exception):
    """An exchange failed; the message is a short reason (no URL, header or body)."""


class ConnectFailed(PoolError):
    """No connection: DNS failure, refused, unreachable, TLS handshake failed."""


class ConnectTimeout(PoolError):
    """No connection within the connect timeout."""


class ReadTimeout(PoolError):
    """The peer was silent for longer than the read timeout."""


class BodyTooLarge(PoolError):
    """The response (as declared, on the wire or decompressed) exceeds the byte cap; `status`
    is the answer's HTTP status (a 2xx to a submission may have been charged)."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


class Headers(Mapping[str, str]):
    """Response headers, case-insensitive; repeated headers joined with ", ".

    Decoded on first use: most responses are read for their body only.
    """

    __slots__ = ("_items", "_raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._items: dict[str, str] | None = None

    def _decoded(self) -> dict[str, str]:
        if self._items is None:
            items: dict[str, str] = {}
            for raw_name, raw_value in self._raw:
                name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
                items[name] = f"{items[name]}, {value}" if name in items else value
            self._items = items
        return self._items

    def __getitem__(self, name: str) -> str:
        return self._decoded()[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._decoded()

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return f"Headers({self._decoded()!r})"


Response = tuple[int, Headers, bytes]


class Connection(asyncio.Protocol):
    """One upstream connection; `exchange()` runs one request/response on it."""

    __slots__ = (
        "_chunks", "_decoder", "_encoding", "_head", "_headers", "_keep_alive", "_last_io", "_loop",
        "_max_bytes", "_parser", "_pool", "_read_timeout", "_size", "_timer", "_until_eof",
        "_waiter", "_wire", "closed", "idle_since", "origin", "pooled", "transport",
    )  # fmt: skip

    def __init__(self, pool: Pool, origin: Origin) -> None:
        self._pool = pool
        self._loop = pool.loop
        self._max_bytes = pool.max_response_bytes
        self._read_timeout = pool.read_timeout
        self._parser = httptools.HttpResponseParser(self)
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False  # EOF, lost, failed or closed by us: never reused
        self.pooled = False
        self.idle_since = 0.0
        self._keep_alive = False
        self._waiter: asyncio.Future[Response] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_io = 0.0
        self._headers: list[tuple[bytes, bytes]] = []
        self._chunks: list[bytes] = []
        self._size = self._wire = 0
        self._encoding = b""
        self._decoder: zlib._Decompress | None = None
        self._until_eof = False
        self._head = False

    def reusable(self) -> bool:
        t = self.transport
        return (
            self._keep_alive
            and not self.closed
            and t is not None
            and not t.is_closing()
            and not t.get_write_buffer_size()  # the server answered before reading all of ours
        )

    async def exchange(
        self, payload: bytes, *, read_timeout: float, head: bool = False
    ) -> Response:
        """Write one request and read its response (`head`: a HEAD, whose response has no body),
        failing with `ReadTimeout` after `read_timeout` seconds of silence."""
        assert self.transport is not None
        loop = self._loop
        waiter: asyncio.Future[Response] = loop.create_future()
        self._waiter = waiter
        self._keep_alive = False
        self._headers, self._chunks = [], []
        self._size = self._wire = 0
        self._encoding, self._decoder, self._until_eof = b"", None, False
        self._head = head
        self._last_io = now = loop.time()
        self._read_timeout = read_timeout
        due = now + read_timeout
        if self._timer is not None and self._timer.when() > due:  # armed for a longer wait
            self._cancel_timer()
        if self._timer is None:  # else the armed one will look at `_last_io` when it fires
            self._timer = loop.call_at(due, self._check_silence)
        self.transport.write(payload)
        try:
            return await waiter
        finally:
            if self._waiter is waiter:  # abandoned (cancelled): the connection is unusable
                self._fail(PoolError("exchange abandoned"))

    def close(self) -> None:
        self.closed = True
        if self._waiter is not None:
            self._fail(PoolError("client closed"))
        elif self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # bytes nobody asked for (or after the response): unusable
            self.abort()
            return
        self._last_io = self._loop.time()
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._fail(PoolError("malformed response"))

    def eof_received(self) -> bool:
        self.closed = True
        self._end_of_stream(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._end_of_stream(exc)
        self._pool.lost(self)

    def resume_writing(self) -> None:
        self._last_io = self._loop.time()  # the peer is reading our request: not silent

    def _end_of_stream(self, exc: Exception | None) -> None:
        if self._waiter is None:
            return
        if self._until_eof and exc is None:  # a body delimited by the end of the connection
            self._finish()
        elif exc is not None:
            self._fail(PoolError("connection reset"))
        else:
            self._fail(PoolError("closed before the response was complete"))

    # httptools callbacks (exceptions raised here surface as HttpParserCallbackError)

    def on_message_begin(self) -> None:
        self._headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:
            return  # an interim response (103 Early Hints): the real one follows
        length: int | None = None
        chunked = False
        for name, value in self._headers:
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"content-encoding":
                self._encoding = value.strip().lower()
        if self._head:  # the length (if any) is the GET's; the parser would wait for it: close
            self._finish()
            return
        if length is not None and length > self._max_bytes:
            self._fail(BodyTooLarge("declared", status))
            raise BodyTooLarge("declared", status)
        self._until_eof = length is None and not chunked and status not in (204, 304)

    def on_body(self, body: bytes) -> None:
        if not self._wire and self._encoding:
            self._decoder = _decoder(self._encoding, body)
        self._wire += len(body)
        if self._decoder is not None:
            body = self._decompress(body)
        self._size += len(body)
        if self._wire > self._max_bytes or self._size > self._max_bytes:
            status = self._parser.get_status_code()
            self._fail(BodyTooLarge("body", status))
            raise BodyTooLarge("body", status)
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        if self._parser.get_status_code() >= 200:
            self._keep_alive = self._parser.should_keep_alive()
            self._finish()

    # internals

    def _decompress(self, data: bytes) -> bytes:
        assert self._decoder is not None
        room = self._max_bytes - self._size + 1  # one byte more than fits: enough to tell
        try:
            return self._decoder.decompress(data, room)
        except zlib.error:
            self._fail(PoolError("malformed response (content encoding)"))
            raise

    def _finish(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is None or waiter.done():
            return
        body = b"".join(self._chunks)
        self._chunks = []
        if self._decoder is not None and not self._decoder.eof:
            waiter.set_exception(PoolError("malformed response (truncated compressed body)"))
            self.abort()
            return
        waiter.set_result((self._parser.get_status_code(), Headers(self._headers), body))

    def _fail(self, exc: PoolError) -> None:
        waiter, self._waiter = self._waiter, None
        self._cancel_timer()
        self._keep_alive = False
        self.abort()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _check_silence(self) -> None:
        """The read timeout. One timer per connection, kept across exchanges (cheaper than one
        per request): when it fires it re-arms for the current silence, if an exchange runs."""
        self._timer = None
        if self._waiter is None:
            return
        due = self._last_io + self._read_timeout
        if self._loop.time() + 0.001 >= due:
            self._fail(ReadTimeout("read timeout"))
        else:
            self._timer = self._loop.call_at(due, self._check_silence)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _decoder(encoding: bytes, first: bytes) -> zlib._Decompress | None:
    """The decompressor for a Content-Encoding (None: passed through as it is)."""
    if encoding in (b"gzip", b"x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding != b"deflate":
        return None
    # "deflate" is meant to be zlib-wrapped, but some servers send a raw deflate stream.
    wrapped = len(first) < 2 or (first[0] & 0x0F == 8 and int.from_bytes(first[:2]) % 31 == 0)
    return zlib.decompressobj() if wrapped else zlib.decompressobj(-zlib.MAX_WBITS)
