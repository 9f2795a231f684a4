"""A scripted HTTP server on loopback for the upstream client's tests, and both event loops.

Every async test here runs twice: on asyncio's default loop and on uvloop (what uvicorn picks
in production), because the client is an `asyncio.Protocol` and the two loops differ in detail.
`Script` answers each request with the handler the test gives it and records what it received.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvloop

from image_gateway.http_client import UpstreamClient


def pytest_asyncio_loop_factories(config: Any, item: Any) -> Mapping[str, Any]:
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@dataclass
class Received:
    """One request as the server read it."""

    head: str
    body: bytes
    connection: int  # 1-based number of the connection it came on

    @property
    def request_line(self) -> str:
        return self.head.split("\r\n", 1)[0]

    @property
    def headers(self) -> dict[str, str]:
        lines = self.head.split("\r\n")[1:]
        return {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}


Handler = Callable[[Received, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Script:
    """A loopback server: reads each request (Content-Length bodies), lets `handler` answer."""

    handler: Handler
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    open_connections: int = 0
    max_open: int = 0
    closed_by_client: int = 0
    server: asyncio.Server | None = None
    port: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        number = self.connections
        self.open_connections += 1
        self.max_open = max(self.max_open, self.open_connections)
        try:
            while True:
                try:
                    head = (await reader.readuntil(b"\r\n\r\n")).decode("utf-8")
                except (asyncio.IncompleteReadError, ConnectionError):
                    self.closed_by_client += 1
                    return
                request = Received(head, b"", number)
                length = int(request.headers.get("content-length", "0"))
                request.body = await reader.readexactly(length)
                self.requests.append(request)
                await self.handler(request, reader, writer)
                if writer.is_closing():
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # the client went away, or the test ended
        finally:
            self.open_connections -= 1
            writer.close()


@pytest.fixture
async def script() -> AsyncIterator[Callable[[Handler], Awaitable[Script]]]:
    scripts: list[Script] = []

    async def start(handler: Handler, tls: ssl.SSLContext | None = None) -> Script:
        s = Script(handler)
        s.server = await asyncio.start_server(s.serve, "127.0.0.1", 0, ssl=tls)
        s.port = s.server.sockets[0].getsockname()[1]
        scripts.append(s)
        return s

    yield start
    for s in scripts:
        assert s.server is not None
        s.server.close()
        for writer in s.writers:
            writer.transport.abort()
        await s.server.wait_closed()


@pytest.fixture
async def client() -> AsyncIterator[UpstreamClient]:
    c = UpstreamClient(
        connect_timeout=2, read_timeout=2, max_connections=8, max_response_bytes=64 * 1024
    )
    await c.start()
    yield c
    await c.close()


async def until(probe: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait, bounded, for a state the loop reaches by itself (an EOF handled, a connection
    closed): a fixed sleep would flake when the machine is busy."""
    async with asyncio.timeout(timeout):
        while not probe():
            await asyncio.sleep(0.005)


def reply(body: bytes = b"{}", status: str = "200 OK", headers: tuple[str, ...] = ()) -> Handler:
    """A handler answering every request with one Content-Length response."""
    raw = "".join(f"{h}\r\n" for h in headers).encode()
    data = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n".encode() + raw + b"\r\n" + body

    async def handler(req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(data)
        await w.drain()

    return handler


def raw_reply(data: bytes, close: bool = False) -> Handler:
    """A handler writing `data` verbatim, then closing the connection if asked."""

    async def handler(req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(data)
        await w.drain()
        if close:
            w.close()

    return handler


def reset(writer: asyncio.StreamWriter) -> None:
    """Drop the connection with a TCP RST (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
