"""Fault queue and counters behind `/_emulator/*` (the contract shared with the BFL emulator).

A fault: `{"match": "generate"|"edit"|"variation"|"file"|"any", "status": int, "headers": {...},
"body": object|string, "delay": seconds, "stall": bool, "reset": bool, "as_url": bool,
"image": "html"|"svg"|"json"|"garbage"|"empty"|"truncated", "times": int}`; every key is
optional (`match` defaults to "any", `times` to 1). Faults form a FIFO queue; a request takes
one use of the head-most fault that matches its endpoint (control routes never match).

Applied before auth and validation: sleep `delay`; then `reset` (TCP RST, no response) or `stall`
(no answer until the client disconnects or the emulator stops) or `status` (+`headers`, `body`;
default body: an OpenAI error envelope for >= 400); with no `status`, the normal answer follows,
carrying the fault's `headers`. `content-length`/`transfer-encoding` headers are ignored.
`as_url` answers every image as a `url` on this emulator's `/_files/` (as OpenAI-compatible
servers that ignore `response_format` do); `image` replaces the image bytes of the normal answer
(each `b64_json`, or a `/_files/` download) with a fake (`emulators/_faults.py`).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Send

from .._faults import Fault as BaseFault
from .._faults import fault_fields, fault_list

KINDS = ("generate", "edit", "variation", "file")
MATCHES = (*KINDS, "any")
REDACTED_HEADERS = {"authorization", "api-key", "x-api-key", "cookie", "proxy-authorization"}


FLAGS = ("stall", "reset", "as_url")


@dataclass
class Fault(BaseFault):
    as_url: bool = False  # answer images as URLs on /_files/, whatever `response_format` says


def parse_faults(payload: Any) -> list[Fault]:
    """Validate a `{"faults": [...]}` body; raise ValueError naming the bad field."""
    return [
        Fault(**fault_fields(raw, f"faults[{i}]", matches=MATCHES, flags=FLAGS))
        for i, raw in enumerate(fault_list(payload))
    ]


class FaultQueue:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def __len__(self) -> int:
        return len(self._faults)

    def add(self, faults: list[Fault]) -> None:
        self._faults.extend(faults)

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[Fault]:
        return list(self._faults)

    def take(self, kind: str) -> Fault | None:
        if not self._faults:  # the common case: one cheap check
            return None
        for i, fault in enumerate(self._faults):
            if fault.match in (kind, "any"):
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[i]
                return fault
        return None


def default_fault_body(status: int) -> dict[str, Any]:
    if status < 400:
        return {}
    if status == 429:
        error = {
            "message": "Rate limit exceeded for images per minute in organization org-emulator. "
            "Limit: 5/1min. Current: 6/1min. Please try again later.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    elif status >= 500:
        error = {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    else:
        error = {
            "message": f"Emulated fault (HTTP {status}).",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    return {"error": error}


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = dict.fromkeys(KINDS, 0)
        self.auth_failures = 0
        self.last_request: dict[str, Any] | None = None
        self.in_flight = 0
        self.max_in_flight = 0

    def begin(self, kind: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        self.requests[kind] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        record: dict[str, Any] = {"path": path, "headers": _visible_headers(headers)}
        self.last_request = record
        return record

    def end(self) -> None:
        self.in_flight -= 1

    def snapshot(self, faults_pending: int) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "auth_failures": self.auth_failures,
            "last_request": self.last_request,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "faults_pending": faults_pending,
        }


def _visible_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        out[name] = "<redacted>" if name in REDACTED_HEADERS else raw_value.decode("latin-1")
    return out


def fault_response(fault: Fault, rid: str) -> Response:
    """A fault's answer: objects as JSON, strings verbatim (malformed JSON, HTML, ...)."""
    assert fault.status is not None
    body = fault.body if fault.body is not None else default_fault_body(fault.status)
    headers = {**fault.headers, "x-request-id": rid}
    if isinstance(body, str):
        media = "text/html; charset=utf-8" if body.lstrip().startswith("<") else "application/json"
        return Response(body.encode(), fault.status, headers=headers, media_type=media)
    return Response(
        orjson.dumps(body), fault.status, headers=headers, media_type="application/json"
    )


async def abort_connection(send: Send, receive: Receive) -> None:
    """Drop the connection with a TCP RST and no response bytes.

    ASGI has no "reset" message, so this reaches the transport through uvicorn's `send` (a bound
    method of its request cycle, which holds `transport`) and aborts it with SO_LINGER 0.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise ConnectionResetError("emulated connection reset")  # not under uvicorn: best effort
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (OSError, AttributeError):
            pass  # abort() still closes without a response
    transport.abort()
    await until_disconnect(receive)


async def hold_open(send: Send, receive: Receive, closing: asyncio.Event) -> None:
    """Answer nothing until the client goes away; abort if the emulator stops first."""
    client_gone = asyncio.ensure_future(until_disconnect(receive))
    stopping = asyncio.ensure_future(closing.wait())
    try:
        done, _ = await asyncio.wait({client_gone, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        client_gone.cancel()
        stopping.cancel()
    if client_gone not in done:
        await abort_connection(send, receive)


async def until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
