"""The ASGI app every emulator derives from: the control surface, faults, counters, lifespan.

A provider's app says which kind of request a scope is (`classify`), answers it (`handle`), and
renders errors in its own shape (`error_body`, `fault_body`); this base does the rest, the same
way for every provider:

- `/_emulator/*` (no auth: a loopback test tool, never to be exposed), on every listener:
  `GET stats`, `GET requests`, `POST reset`, `GET|POST|DELETE faults`, `GET|POST scenario`
  (emulators/README.md lists the shapes);
- the fault queue: a request of a known kind takes its fault, which is played here (`delay`,
  `stall`, `reset`, `accept_then_reset`, `status` with `headers` and `body`) or handed to
  `handle` to shape a normal answer (`headers`, `image`, `marker`, the provider's switches);
- the request log (`records.RequestLog`): counters per kind, in-flight requests, paid
  submissions, the recorded request fields.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Collection
from typing import Any

import orjson
from starlette.requests import ClientDisconnect

from .asgi import (
    Headers,
    Receive,
    Scope,
    Send,
    abort_connection,
    adding_headers,
    encode_headers,
    hold_until_disconnect,
    read_body,
    send_bytes,
    send_json,
    sleep_unless_stopping,
    swallow,
)
from .faults import Fault, FaultQueue, FaultRules
from .records import RequestLog
from .scenarios import SCENARIOS, ScenarioTable, UnknownScenario, scenario_fault

CONTROL_PREFIX = "/_emulator/"


class EmulatorApp(ABC):
    """One emulator's whole HTTP surface; state lives on the instance (one per server)."""

    def __init__(
        self,
        api_key: str,
        rules: FaultRules,
        paid: Collection[str],
        scenarios: ScenarioTable,
        strict: bool = False,
    ) -> None:
        if not api_key:
            raise ValueError("an emulator needs a non-empty api_key: no request matches ''")
        self.api_key = api_key
        self.rules = rules
        self.paid = frozenset(paid)
        self.scenarios = scenarios
        self.strict = strict
        self.faults = FaultQueue()
        self.log = RequestLog(rules.kinds)
        self.stopping = threading.Event()  # set by Emulator.stop(): held requests let go
        self.poll_port: int | None = None  # the second listener's port, where there is one

    # --- what a provider's app implements ---------------------------------------------------

    @abstractmethod
    def classify(self, scope: Scope) -> str | None:
        """The kind of this request (one of `rules.kinds`), or None for one that no fault or
        counter concerns (an unknown path: `handle` answers it with kind None)."""

    @abstractmethod
    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        """Answer the request; `fault`, when given, shapes a normal answer."""

    @abstractmethod
    def error_body(self, status: int, message: str) -> Any:
        """The provider's error body for a control-surface refusal."""

    @abstractmethod
    def fault_body(self, status: int) -> Any:
        """The provider's body for a fault that sets `status` but no `body`."""

    def fault_headers(self, status: int) -> Headers:
        """Headers that go with `fault_body(status)` (Bedrock's `x-amzn-ErrorType`): none by
        default."""
        return []

    def provider_stats(self) -> dict[str, Any]:
        """The provider's own counters, merged over the kit's in `stats()`."""
        return {}

    def provider_reset(self) -> None:  # noqa: B027 - an optional hook
        """Forget the provider's own state (tasks, credits, ...)."""

    def response_headers(self) -> Headers:
        """Headers the provider puts on every answer (OpenAI's `x-request-id`)."""
        return []

    # --- the kit ------------------------------------------------------------------------------

    def on_poll_listener(self, scope: Scope) -> bool:
        server = scope.get("server")
        return server is not None and self.poll_port is not None and server[1] == self.poll_port

    def stats(self) -> dict[str, Any]:
        return {**self.log.snapshot(), "faults_pending": len(self.faults), **self.provider_stats()}

    def reset(self) -> None:
        self.log.reset()
        self.faults.clear()
        self.provider_reset()

    def queue(self, faults: list[dict[str, Any]]) -> int:
        """Validate and queue fault objects (ValueError names a bad field)."""
        return self.faults.add(self.rules.parse({"faults": faults}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith(CONTROL_PREFIX):
            await self._control(scope, receive, send)
            return
        kind = self.classify(scope)
        if kind is None:
            await self.handle(None, scope, receive, send, None)
            return
        self.log.begin(kind)
        try:
            fault = self.faults.take(kind, kind in self.paid)
            if fault is not None:
                self.log.fault_triggered()
                if await self._play(fault, kind, scope, receive, send):
                    return
                if fault.headers:
                    send = adding_headers(send, encode_headers(fault.headers))
            await self.handle(kind, scope, receive, send, fault)
        except ClientDisconnect:
            return  # the caller left mid-body (a gateway stopping): nobody to answer
        finally:
            self.log.end()

    async def _play(
        self, fault: Fault, kind: str, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """Play the parts of a fault that replace the answer; True when the request is done."""
        if fault.delay:
            await sleep_unless_stopping(fault.delay, self.stopping)
        if fault.stall:
            await hold_until_disconnect(receive, send, self.stopping)
            return True
        if fault.accept_then_reset and kind in self.paid:
            await self.handle(kind, scope, receive, swallow, None)  # accepted and billed
            await abort_connection(send, receive)
            return True
        if fault.reset or fault.accept_then_reset:
            await abort_connection(send, receive)
            return True
        if fault.status is not None:
            await read_body(receive)
            await self._send_fault(send, fault)
            return True
        return False

    async def _send_fault(self, send: Send, fault: Fault) -> None:
        """The fault's answer: an object as JSON; a string verbatim (malformed JSON, HTML), as
        `text/html` when it starts with `<`, else `application/json`, unless the fault sets
        its own content-type; no body: the provider's `fault_body`."""
        status = fault.status or 200
        body = fault.body if fault.body is not None else self.fault_body(status)
        own = self.fault_headers(status) if fault.body is None else []
        content_type = b"application/json"
        if isinstance(body, str):
            raw = body.encode()
            if body.lstrip().startswith("<"):
                content_type = b"text/html; charset=utf-8"
        else:
            raw = orjson.dumps(body)
        headers = [*encode_headers(fault.headers), *own, *self.response_headers()]
        if not any(name == b"content-type" for name, _ in headers):
            headers.append((b"content-type", content_type))
        await send_bytes(send, status, raw, headers)

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, name = scope["method"], scope["path"][len(CONTROL_PREFIX) :]
        raw = await read_body(receive)
        headers = self.response_headers()
        status, answer = 200, None
        if (method, name) == ("GET", "stats"):
            answer = self.stats()
        elif (method, name) == ("GET", "requests"):
            answer = {"requests": self.log.records()}
        elif (method, name) == ("POST", "reset"):
            self.reset()
            answer = {"ok": True}
        elif (method, name) == ("GET", "faults"):
            answer = {"faults": self.faults.pending()}
        elif (method, name) == ("DELETE", "faults"):
            answer = {"cleared": self.faults.clear()}
        elif (method, name) == ("POST", "faults"):
            try:
                answer = {"queued": self.faults.add(self.rules.parse(orjson.loads(raw)))}
            except ValueError as exc:  # includes orjson.JSONDecodeError
                status, answer = 400, self.error_body(400, f"invalid faults: {exc}")
        elif (method, name) == ("GET", "scenario"):
            answer = {"scenarios": {s: s in self.scenarios for s in SCENARIOS}}
        elif (method, name) == ("POST", "scenario"):
            try:
                request = orjson.loads(raw)
                if not isinstance(request, dict):
                    raise UnknownScenario('expected {"name": ..., "times": n}')
                fault = scenario_fault(
                    self.scenarios, str(request.get("name")), request.get("times", 1)
                )
                answer = {"queued": self.queue([fault])}
            except ValueError as exc:
                status, answer = 400, self.error_body(400, f"invalid scenario: {exc}")
        else:
            status, answer = 404, self.error_body(404, "Not Found")
        await send_json(send, status, answer, headers)
