"""Fault injection (shared `/_emulator/faults` contract) and the low-level ASGI replies it needs.

A fault: `{"match": "submit"|"poll"|"sample"|"credits"|"any", "status": int, "headers": {..},
"body": <object → JSON | string → raw bytes>, "delay": s, "stall": bool, "reset": bool,
"accept_then_reset": bool, "image": "html"|"svg"|"json"|"garbage"|"empty"|"truncated",
"times": n >= 1 (default 1)}`, every key optional (`match` defaults to "any"); the same contract
as the OpenAI emulator, plus `accept_then_reset` and BFL's kinds. `image` on a `sample`
download serves that fake (`emulators/_faults.py`) with status 200 and the image's content type.
Faults form a FIFO queue; a request consumes one use of the first fault matching its kind ("any"
matches every non-control request).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import orjson

from .._faults import Fault as BaseFault
from .._faults import fault_fields, fault_list

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MATCH_KINDS = ("submit", "poll", "sample", "credits", "any")
_FLAGS = ("stall", "reset", "accept_then_reset")


@dataclass
class Fault(BaseFault):
    accept_then_reset: bool = False

    @classmethod
    def parse(cls, raw: Any, where: str = "fault") -> Fault:
        """Validate one fault object; raise ValueError naming the bad field."""
        return cls(**fault_fields(raw, where, matches=MATCH_KINDS, flags=_FLAGS))


def parse_faults(payload: Any) -> list[Fault]:
    """Validate a `{"faults": [...]}` body."""
    return [Fault.parse(raw, f"faults[{i}]") for i, raw in enumerate(fault_list(payload))]


class FaultQueue:
    def __init__(self) -> None:
        self._items: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, faults: list[Fault]) -> int:
        with self._lock:
            self._items.extend(faults)
            return len(self._items)

    def clear(self) -> int:
        with self._lock:
            n = len(self._items)
            self._items.clear()
            return n

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(f.__dict__) for f in self._items]

    def take(self, kind: str) -> Fault | None:
        if not self._items:  # fast path, no lock
            return None
        with self._lock:
            for i, fault in enumerate(self._items):
                if fault.match in (kind, "any"):
                    fault.times -= 1
                    if fault.times <= 0:
                        del self._items[i]
                    return fault
        return None


Headers = list[tuple[bytes, bytes]]


async def send_bytes(send: Send, status: int, body: bytes, headers: Headers) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, obj: Any, headers: Headers | None = None) -> None:
    headers = [(b"content-type", b"application/json"), *(headers or [])]
    await send_bytes(send, status, orjson.dumps(obj), headers)


async def send_fault_response(send: Send, fault: Fault) -> None:
    """The fault's status/headers/body: object → JSON; string → raw bytes (may be malformed;
    `text/html` when it starts with `<`, else `application/json` unless the fault sets a
    content-type); no body → FastAPI-style `{"detail": "<reason phrase>"}`."""
    status = fault.status or 200
    ctype = b"application/json"
    if isinstance(fault.body, str):
        body = fault.body.encode()
        if fault.body.lstrip().startswith("<"):
            ctype = b"text/html; charset=utf-8"
    elif fault.body is None:
        body = orjson.dumps({"detail": _reason(status)})
    else:
        body = orjson.dumps(fault.body)
    headers = [(k.lower().encode(), v.encode()) for k, v in fault.headers.items()]
    if not any(k == b"content-type" for k, _ in headers):
        headers.append((b"content-type", ctype))
    await send_bytes(send, status, body, headers)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def abort_connection(send: Send) -> None:
    """Drop the TCP connection with a RST (SO_LINGER 0), no HTTP response.

    uvicorn passes each request's `RequestResponseCycle.send` bound method as the ASGI `send`; its
    `transport` is the connection. If that is not reachable, fall back to a truncated response
    (an abrupt close the client also sees as a transport error).
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        headers = [(b"content-length", b"9")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise ConnectionAbortedError("emulated connection reset")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
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
        await asyncio.sleep(min(remaining, 0.2))


async def hold_until_disconnect(receive: Receive, send: Send, stopping: threading.Event) -> None:
    """Never answer: wait until the client goes away (or the emulator stops, then reset)."""
    while True:
        task = asyncio.ensure_future(receive())
        while not task.done():
            await asyncio.wait({task}, timeout=0.2)
            if stopping.is_set() and not task.done():
                task.cancel()
                await abort_connection(send)
                return
        if task.result().get("type") == "http.disconnect":
            return
