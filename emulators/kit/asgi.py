"""The raw ASGI pieces every emulator answers with: bodies, JSON, a TCP reset, a hang.

Raw ASGI rather than a framework because faults need uvicorn's own `send` (its `transport` is
the connection a reset aborts) and the hot paths (OpenAI's generations under the benchmark,
BFL's polls) stay a dict lookup.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
POLL_SECONDS = 0.2  # how often a held request looks whether the emulator is stopping


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def send_bytes(send: Send, status: int, body: bytes, headers: Headers) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, obj: Any, headers: Headers | None = None) -> None:
    headers = [(b"content-type", b"application/json"), *(headers or [])]
    await send_bytes(send, status, orjson.dumps(obj), headers)


def encode_headers(headers: dict[str, str]) -> Headers:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def adding_headers(send: Send, extra: Headers) -> Send:
    """`send` with `extra` headers added to the response's start (a fault's `headers`)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def swallow(message: Message) -> None:
    """A `send` that drops the answer (the provider accepted; the client never hears)."""


async def abort_connection(send: Send, receive: Receive, started: bool = False) -> None:
    """Drop the TCP connection with a RST (SO_LINGER 0) and no more response bytes (`started`:
    a response was begun, e.g. a stream cut in its middle).

    ASGI has no "reset" message: uvicorn passes each request's `RequestResponseCycle.send`
    bound method as `send`, whose `transport` is the connection. Without one (another server),
    a truncated response is the nearest thing: the client also sees a transport error.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        if started:
            raise ConnectionAbortedError("emulated connection reset")
        headers = [(b"content-length", b"9")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise ConnectionAbortedError("emulated connection reset")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (OSError, AttributeError):
            pass  # abort() still closes without a response
    transport.abort()
    for _ in range(3):  # let connection_lost run so uvicorn does not try to answer
        await asyncio.sleep(0)


async def sleep_unless_stopping(seconds: float, stopping: threading.Event) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not stopping.is_set():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        await asyncio.sleep(min(remaining, POLL_SECONDS))


async def hold_until_disconnect(receive: Receive, send: Send, stopping: threading.Event) -> None:
    """Never answer: wait until the client goes away (or the emulator stops, then reset)."""
    while True:
        task = asyncio.ensure_future(receive())
        while not task.done():
            await asyncio.wait({task}, timeout=POLL_SECONDS)
            if stopping.is_set() and not task.done():
                task.cancel()
                await abort_connection(send, receive)
                return
        if task.result().get("type") == "http.disconnect":
            return
