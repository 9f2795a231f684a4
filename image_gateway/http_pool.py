"""The upstream connection pool behind `http_client`.

Keep-alive connections (`http_connection.Connection`) per origin (scheme, host, port) under
one total limit, `max_connections`, idle connections included: a request takes the most
recently used idle connection of its origin, else opens one (closing the oldest idle connection
of another origin when the pool is full), else waits for a slot in arrival order (the caller's
`deadline` bounds that wait). An idle connection is closed after 30 s, or as soon as the server
closes it; resolved addresses are kept for 300 s. Connect timeout covers DNS, TCP and TLS.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from typing import Any

from .http_connection import (
    ConnectFailed,
    Connection,
    ConnectTimeout,
    Origin,
    PoolError,
    Response,
)

IDLE_TIMEOUT = 30.0  # seconds an unused keep-alive connection is kept
DNS_TTL = 300.0  # seconds a resolved address is kept
_Address = tuple[int, int, int, Any]  # family, type, proto, sockaddr


class Pool:
    """Keep-alive connections per origin under one total limit (see the module docstring)."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        max_response_bytes: int,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.read_timeout = read_timeout
        self.max_response_bytes = max_response_bytes
        self._connect_timeout = connect_timeout
        self._limit = max_connections
        self._ssl = ssl_context
        self._idle: dict[Origin, list[Connection]] = {}
        self._idle_count = 0
        self._busy: set[Connection] = set()
        self._connecting = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._woken = 0  # waiters told a slot is free that have not run yet
        self._dns: dict[tuple[str, int], tuple[float, list[_Address]]] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self.closed = False

    def stats(self) -> dict[str, float]:
        return {"in_use": len(self._busy) + self._connecting, "idle": self._idle_count}

    async def exchange(
        self,
        origin: Origin,
        payload: bytes,
        *,
        head: bool = False,
        read_timeout: float | None = None,
    ) -> Response:
        """Send `payload` (a whole request) to `origin` and read the response, failing after
        `read_timeout` seconds of silence (None: the pool's `read_timeout`)."""
        timeout = self.read_timeout if read_timeout is None else read_timeout
        conn = self._take_idle(origin) or await self._acquire(origin)
        try:
            response = await conn.exchange(payload, head=head, read_timeout=timeout)
        except BaseException:
            self._release(conn, reuse=False)
            raise
        self._release(conn, reuse=True)
        return response

    async def close(self) -> None:
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conns in self._idle.values():
            for conn in conns:
                conn.pooled = False
                conn.close()
        self._idle.clear()
        self._idle_count = 0
        for conn in list(self._busy):
            conn.close()
        while self._waiters:
            self._wake()
        await asyncio.sleep(0)  # let the transports report connection_lost

    def lost(self, conn: Connection) -> None:
        """A connection closed; if it was idle, its slot is free now."""
        if conn.pooled:
            conn.pooled = False
            self._idle[conn.origin].remove(conn)
            self._idle_count -= 1
            self._wake()

    # slots

    def _take_idle(self, origin: Origin) -> Connection | None:
        conns = self._idle.get(origin)
        while conns:
            conn = conns.pop()  # the most recently used: the least likely to be stale
            conn.pooled = False
            self._idle_count -= 1
            if conn.reusable():
                self._busy.add(conn)
                return conn
            conn.abort()
            self._wake()
        return None

    async def _acquire(self, origin: Origin) -> Connection:
        woken = False
        while True:
            if self.closed:
                raise PoolError("client closed")
            conn = self._take_idle(origin)
            if conn is not None:
                return conn
            if woken or not (self._waiters or self._woken):
                if self._idle_count and self._used() >= self._limit:
                    self._evict_idle()
                if self._used() < self._limit:
                    return await self._connect(origin)
            woken = await self._wait()

    def _used(self) -> int:
        return len(self._busy) + self._connecting + self._idle_count

    async def _wait(self) -> bool:
        fut: asyncio.Future[None] = self.loop.create_future()
        self._waiters.append(fut)
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled():  # woken, then cancelled: pass the turn on
                self._woken -= 1
                self._wake()
            elif fut in self._waiters:  # (`_wake` drops cancelled ones it meets)
                self._waiters.remove(fut)
            raise
        self._woken -= 1
        return True

    def _wake(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                self._woken += 1
                return

    def _release(self, conn: Connection, *, reuse: bool) -> None:
        self._busy.discard(conn)
        if reuse and not self.closed and conn.reusable():
            conn.pooled = True
            conn.idle_since = self.loop.time()
            self._idle.setdefault(conn.origin, []).append(conn)
            self._idle_count += 1
            if self._sweeper is None:
                self._sweeper = self.loop.call_at(conn.idle_since + IDLE_TIMEOUT, self._sweep)
        else:
            conn.abort()
        if self._waiters:
            self._wake()

    def _evict_idle(self) -> None:
        """Close the oldest idle connection (of another origin) to make room for a new one."""
        oldest = min((c for c in self._idle.values() if c), key=lambda c: c[0].idle_since)
        conn = oldest.pop(0)
        conn.pooled = False
        self._idle_count -= 1
        conn.close()

    def _sweep(self) -> None:
        self._sweeper = None
        expired = self.loop.time() - IDLE_TIMEOUT + 0.001
        next_due: float | None = None
        for origin, conns in list(self._idle.items()):
            for conn in [c for c in conns if c.idle_since <= expired]:
                conns.remove(conn)
                conn.pooled = False
                self._idle_count -= 1
                conn.close()
                self._wake()
            if conns:
                due = conns[0].idle_since + IDLE_TIMEOUT
                next_due = due if next_due is None else min(next_due, due)
            else:
                del self._idle[origin]
        if next_due is not None:
            self._sweeper = self.loop.call_at(next_due, self._sweep)

    # connecting

    async def _connect(self, origin: Origin) -> Connection:
        self._connecting += 1
        try:
            conn = await self._open(origin)
        except BaseException:
            self._connecting -= 1
            self._wake()
            raise
        self._connecting -= 1
        self._busy.add(conn)
        return conn

    async def _open(self, origin: Origin) -> Connection:
        scheme, host, port = origin
        tls = self._tls_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(self._connect_timeout):
                sock = await self._socket(host, port)
                try:
                    _, conn = await self.loop.create_connection(
                        lambda: Connection(self, origin),
                        sock=sock,
                        ssl=tls,
                        server_hostname=host if tls else None,
                    )
                except BaseException:
                    sock.close()
                    raise
        except TimeoutError:  # ours, or the kernel's ETIMEDOUT
            raise ConnectTimeout("connect timeout") from None
        except OSError as exc:  # refused, unreachable, DNS (gaierror), TLS (SSLError)
            raise ConnectFailed(type(exc).__name__) from None
        return conn

    async def _socket(self, host: str, port: int) -> socket.socket:
        error: OSError = ConnectionRefusedError()
        for family, kind, proto, sockaddr in await self._resolve(host, port):
            sock = socket.socket(family, kind, proto)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                await self.loop.sock_connect(sock, sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                error = exc  # try the next address
            except BaseException:
                sock.close()
                raise
        raise error

    async def _resolve(self, host: str, port: int) -> list[_Address]:
        now = self.loop.time()
        cached = self._dns.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        infos = await self.loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addrs: list[_Address] = [
            (family, kind, proto, addr) for family, kind, proto, _, addr in infos
        ]
        if len(self._dns) >= 256:
            self._dns = {k: v for k, v in self._dns.items() if v[0] > now}
        self._dns[(host, port)] = (now + DNS_TTL, addrs)
        return addrs

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl
