"""Test doubles for the input-image fetcher: a misbehaving image host, a hostile DNS, a trap.

`ImageHost` is a raw asyncio HTTP server on loopback (raw, so it can lie about lengths, stream
forever and drip). Paths:

    /png /jpeg /webp          a small real image (IMAGE_SIZE)
    /redirect/<status>?to=U   a redirect to U (absolute or relative)
    /chain/<n>[?stop=K]       302 to /chain/<n+1> (forever, or an image once n reaches K)
    /huge-declared            Content-Length 2 GiB, then a PNG signature and zeros until closed
    /huge-chunked             chunked: a PNG signature and zeros until closed (never allocated)
    /html /bomb /truncated /gzip /status/<code>
    /drip                     a PNG signature one byte every 0.2 s

`FakeDNS` replaces `socket.getaddrinfo` for `*.test` names (the resolver the fetcher uses), with
a sequence of answers per name (the last repeats) and a per-name call counter; every other name
goes to the real resolver. `Listener` counts connections on any loopback address and port.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import socket
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

IMAGE_SIZE = (96, 64)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_image(fmt: str, size: tuple[int, int] = IMAGE_SIZE) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buf, fmt)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pixel_bomb_png(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of side x side black pixels: ~50 KB on the wire, 400 MP decoded."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


class ImageHost:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(128)
        self.host = host
        self.port: int = self.sock.getsockname()[1]
        self.hits: list[str] = []
        self.images = {fmt: make_image(fmt.upper()) for fmt in ("png", "jpeg", "webp")}
        self._bomb: bytes | None = None
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(5)

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    @property
    def bomb(self) -> bytes:
        if self._bomb is None:
            self._bomb = pixel_bomb_png()
        return self._bomb

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, sock=self.sock)

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
        self.sock.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
            self.hits.append(target)
            await self._route(target, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()

    async def _route(self, target: str, writer: asyncio.StreamWriter) -> None:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        segments = path.strip("/").split("/")
        if segments[0] in self.images:
            await _respond(writer, 200, self.images[segments[0]], f"image/{segments[0]}")
        elif segments[0] == "redirect":
            location = query.get("to", [""])[0]
            headers = {"Location": location} if location else {}
            await _respond(writer, int(segments[1]), b"", headers=headers)
        elif segments[0] == "chain":
            hop, stop = int(segments[1]), int(query.get("stop", ["1000000"])[0])
            if hop >= stop:
                await _respond(writer, 200, self.images["png"], "image/png")
            else:
                location = f"/chain/{hop + 1}" + (f"?stop={stop}" if "stop" in query else "")
                await _respond(writer, 302, b"", headers={"Location": location})
        elif path == "/huge-declared":
            await _stream_forever(writer, {"Content-Length": str(2**31)}, chunked=False)
        elif path == "/huge-chunked":
            await _stream_forever(writer, {"Transfer-Encoding": "chunked"}, chunked=True)
        elif path == "/html":
            await _respond(writer, 200, b"<!doctype html><title>hi</title>" * 10, "text/html")
        elif path == "/bomb":
            await _respond(writer, 200, self.bomb, "image/png")
        elif path == "/truncated":
            await _respond(writer, 200, self.images["png"][:40], "image/png")
        elif path == "/gzip":
            body = gzip.compress(self.images["png"])
            await _respond(writer, 200, body, "image/png", {"Content-Encoding": "gzip"})
        elif segments[0] == "status":
            await _respond(writer, int(segments[1]), b"nope", "text/plain")
        elif path == "/drip":
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n"
            )
            for byte in PNG_SIGNATURE * 100:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.2)
        else:
            await _respond(writer, 404, b"unknown path", "text/plain")


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
) -> None:
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}"]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()


async def _stream_forever(
    writer: asyncio.StreamWriter, headers: dict[str, str], *, chunked: bool
) -> None:
    head = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    writer.write(head.encode())
    block = PNG_SIGNATURE + b"\x00" * (64 * 1024 - len(PNG_SIGNATURE))
    zeros = b"\x00" * (64 * 1024)
    for index in range(2**31 // len(zeros)):  # until the client hangs up (2 GiB at most)
        data = block if index == 0 else zeros
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data)
        await writer.drain()
        if writer.is_closing():
            return


class FakeDNS:
    """A stand-in for the OS resolver: answers for `*.test` names, counts lookups."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.calls: Counter[str] = Counter()

    def set(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)
        self.calls[name] = 0

    def getaddrinfo(
        self, host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[Any]:
        name = (host.decode() if isinstance(host, bytes) else str(host)).rstrip(".").lower()
        if not name.endswith(".test"):
            return list(self.real(host, port, family, type, proto, flags))
        if name not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        self.calls[name] += 1
        sequence = self.answers[name]
        answer = sequence[min(self.calls[name], len(sequence)) - 1]
        port_number = int(port or 0)
        infos: list[Any] = []
        for ip in answer:
            if ":" in ip:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port_number, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port_number)))
        return infos


class Listener:
    """Counts TCP connections to (host, port); nothing should ever reach it."""

    def __init__(self, host: str, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()
