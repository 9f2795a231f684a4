"""A scripted HTTP server on loopback for the upstream client's tests, and both event loops.

Every async test here runs twice: on asyncio's default loop and on uvloop (what uvicorn picks
in production): aiohttp's transports and resolver differ in detail between the two.
`Script` answers each request with the handler the test gives it and records what it received;
`make_pki` makes a CA and a server certificate signed by it (https upstreams, TLS inspection).
"""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvloop

from image_gateway.upstream.client import UpstreamClient


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


@dataclass
class PKI:
    """A test CA (its certificate in `ca_file`) and a server context for `name` signed by it;
    `names` collects the SNI names the server saw."""

    ca_file: Path
    server: ssl.SSLContext
    names: list[str | None]


def make_pki(tmp_path: Path, name: str = "localhost") -> PKI:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    tmp_path.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(pem))
    cert_file.write_bytes(leaf.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    names: list[str | None] = []
    server.sni_callback = lambda sock, name, ctx: names.append(name)
    return PKI(ca_file, server, names)
