"""A tiny forward proxy on loopback, in a thread of its own (usable from sync and async tests).

It records what reaches it — each request line (`CONNECT host:port` for an https target, the
absolute form `GET http://host:port/path` for an http one) and each Proxy-Authorization — and
then relays bytes both ways. With `tls` it inspects TLS as corporate proxies do: it answers a
CONNECT itself, with its own certificate for the name asked, and relays the decrypted request
to `relay_to` (a plain-http server). With `refuse` it answers every request with that status.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from dataclasses import dataclass, field


@dataclass
class ForwardProxy:
    tls: ssl.SSLContext | None = None
    relay_to: tuple[str, int] | None = None
    refuse: str | None = None  # e.g. "407 Proxy Authentication Required"
    request_lines: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: self._loop.run_until_complete(self._run()))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ForwardProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.ensure_future(self._serve(reader, writer))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        await asyncio.sleep(0)  # the transports' last callbacks (sockets closed)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            line, _, rest = head.partition("\r\n")
            self.request_lines.append(line)
            fields = dict(
                (k.strip().lower(), v.strip())
                for k, _, v in (h.partition(":") for h in rest.split("\r\n") if h)
            )
            self.authorizations.append(fields.get("proxy-authorization"))
            if self.refuse is not None:
                writer.write(f"HTTP/1.1 {self.refuse}\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
                return
            method, target, version = line.split(" ")
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                if self.tls is not None:
                    await writer.start_tls(self.tls)
                dest = self.relay_to or (host.strip("[]"), int(port))
                up_reader, upstream = await asyncio.open_connection(*dest)
            else:  # http://host:port/path: sent on in origin form
                authority, _, path = target.removeprefix("http://").partition("/")
                host, _, port = authority.rpartition(":")
                up_reader, upstream = await asyncio.open_connection(host, int(port or 80))
                upstream.write(f"{method} /{path} {version}\r\n{rest}".encode("latin-1"))
            await asyncio.gather(_relay(reader, upstream), _relay(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, ValueError):
            return
        finally:
            for w in (writer, upstream):
                if w is not None:
                    w.close()
                    # The socket closes on the loop's next turn: wait for it, or a proxy
                    # stopped right after leaves it open (a ResourceWarning, an error here).
                    with contextlib.suppress(Exception, asyncio.CancelledError):
                        await w.wait_closed()


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()
