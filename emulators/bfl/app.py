"""Top-level ASGI app serving both listeners (told apart by the local port of the connection).

- Submit listener: the FastAPI app of `api.py` (generation endpoints, `/v1/credits`).
- Poll listener: `GET /v1/get_result?id=` (requires `x-key`) and the signed `/delivery/...`
  downloads (no key), as lean raw-ASGI handlers since thousands of tasks poll ~1/s.
- Both: the `/_emulator/*` control surface. It needs NO auth: it is a loopback test tool.
  `POST /_emulator/faults` `{"faults": [...]}` queues faults (see `faults.py`),
  `DELETE /_emulator/faults` clears them, `GET /_emulator/faults` lists them,
  `GET /_emulator/stats` returns the counters, `POST /_emulator/reset` resets counters, tasks,
  credits and faults.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson

from .api import auth_failure, build_submit_app
from .catalog import ENDPOINTS
from .delivery import serve_sample
from .faults import (
    Fault,
    Receive,
    Scope,
    Send,
    abort_connection,
    hold_until_disconnect,
    parse_faults,
    send_fault_response,
    send_json,
    sleep_unless_stopping,
)
from .images import RenderCache
from .tasks import EmulatorState

NOT_FOUND = {"detail": "Not Found"}


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


class BFLApp:
    def __init__(self, state: EmulatorState, poll_port: int) -> None:
        self.state = state
        self.poll_port = poll_port
        self.submit_app = build_submit_app(state)
        self.render_cache = RenderCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith("/_emulator/"):
            await self.control(scope, receive, send)
            return
        server = scope.get("server")
        on_poll = server is not None and server[1] == self.poll_port
        kind = self.classify(on_poll, scope["method"], path)
        fault = self.state.faults.take(kind)
        if fault is not None:
            self.state.count("faults_triggered")
            if await self.apply_fault(fault, kind, scope, receive, send):
                return
        if on_poll:
            fake = fault.fake_image if fault is not None else None
            await self.poll_listener(scope, receive, send, fake)
        else:
            await self.submit_app(scope, receive, send)

    @staticmethod
    def classify(on_poll: bool, method: str, path: str) -> str:
        if on_poll:
            if path == "/v1/get_result":
                return "poll"
            return "sample" if path.startswith("/delivery/") else "other"
        if method == "POST" and path in ENDPOINTS:
            return "submit"
        return "credits" if path == "/v1/credits" else "other"

    async def apply_fault(
        self, fault: Fault, kind: str, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """Play a fault. Returns True when the request has been dealt with."""
        stopping = self.state.stopping
        if fault.delay:
            await sleep_unless_stopping(fault.delay, stopping)
        if fault.stall:
            await hold_until_disconnect(receive, send, stopping)
            return True
        if fault.accept_then_reset and kind == "submit":

            async def swallow(message: Any) -> None:
                return None

            await self.submit_app(scope, receive, swallow)
            await abort_connection(send)
            return True
        if fault.reset or fault.accept_then_reset:
            await abort_connection(send)
            return True
        if fault.status is not None:
            await read_body(receive)
            await send_fault_response(send, fault)
            return True
        return False

    async def poll_listener(
        self, scope: Scope, receive: Receive, send: Send, fake_image: bytes | None = None
    ) -> None:
        """Polls and sample downloads; `fake_image` (a fault's `image`) replaces the bytes of a
        sample that would have been served."""
        path, method = scope["path"], scope["method"]
        if path.startswith("/delivery/") and method in ("GET", "HEAD"):
            headers = dict(scope["headers"])
            if b"x-key" in headers:
                self.state.count("sample_requests_with_key")
            query = scope["query_string"]
            served = await serve_sample(
                path, query, self.state.signer, self.render_cache, send, fake_image
            )
            if served:
                self.state.count("samples")
            return
        if path != "/v1/get_result":
            await send_json(send, 404, NOT_FOUND)
            return
        if method != "GET":
            await send_json(send, 405, {"detail": "Method Not Allowed"}, [(b"allow", b"GET")])
            return
        key = next((v for k, v in scope["headers"] if k == b"x-key"), None)
        failure = auth_failure(self.state, key.decode("latin-1") if key is not None else None)
        if failure is not None:
            self.state.count("auth_failures")
            await send_json(send, failure[0], {"detail": failure[1]})
            return
        ids = parse_qs(scope["query_string"].decode("latin-1")).get("id")
        if not ids:
            missing = {
                "type": "missing",
                "loc": ["query", "id"],
                "msg": "Field required",
                "input": None,
            }
            await send_json(send, 422, {"detail": [missing]})
            return
        await send_json(send, 200, self.state.poll(ids[0]))

    async def control(self, scope: Scope, receive: Receive, send: Send) -> None:
        state, path, method = self.state, scope["path"], scope["method"]
        body = await read_body(receive)
        if path == "/_emulator/stats" and method == "GET":
            await send_json(send, 200, state.stats())
        elif path == "/_emulator/reset" and method == "POST":
            state.reset()
            await send_json(send, 200, {"ok": True})
        elif path == "/_emulator/faults" and method == "GET":
            await send_json(send, 200, {"faults": state.faults.pending()})
        elif path == "/_emulator/faults" and method == "DELETE":
            await send_json(send, 200, {"cleared": state.faults.clear()})
        elif path == "/_emulator/faults" and method == "POST":
            try:
                faults = parse_faults(orjson.loads(body))
            except ValueError as exc:
                await send_json(send, 400, {"detail": f"invalid faults: {exc}"})
                return
            await send_json(send, 200, {"queued": state.faults.add(faults)})
        else:
            await send_json(send, 404, NOT_FOUND)
