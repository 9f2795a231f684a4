"""BFL's app on the kit: both listeners, told apart by the local port of the connection; the
control surface, faults and counters are the kit's (`emulators/kit/app.py`).

- Submit listener: the FastAPI app of `api.py` (generation endpoints, `/v1/credits`).
- Poll listener: `GET /v1/get_result?id=` (requires `x-key`) and the signed `/delivery/...`
  downloads (no key), as lean raw-ASGI handlers since thousands of tasks poll ~1/s.

Request kinds for faults: `submit` (paid), `credits`, `poll`, `sample`, and `other` (any other
path, on either listener). A fault's `image` replaces a `sample` download's bytes; its
`marker` applies one of BFL's prompt markers to the submission.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from ..kit.app import EmulatorApp
from ..kit.asgi import Receive, Scope, Send, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.placeholder import Placeholders
from ..kit.scenarios import ScenarioTable
from .api import FAULT_SCOPE_KEY, auth_failure, build_submit_app
from .catalog import ENDPOINTS
from .delivery import PREFIX as DELIVERY_PREFIX
from .delivery import serve_sample
from .images import LOOK
from .tasks import MARKERS, BFLState

NOT_FOUND = {"detail": "Not Found"}
KINDS = ("submit", "poll", "sample", "credits", "other")
RULES = FaultRules(KINDS, markers=MARKERS)


class BFLApp(EmulatorApp):
    def __init__(
        self,
        api_key: str,
        state_options: dict[str, Any],
        scenarios: ScenarioTable,
        strict: bool = False,
    ) -> None:
        super().__init__(api_key, RULES, ("submit",), scenarios, strict)
        self.state = BFLState(api_key, self.log, **state_options)
        self.submit_app = build_submit_app(self.state, self.log, strict)
        self.render_cache = Placeholders(LOOK, 32)

    def classify(self, scope: Scope) -> str:
        path = scope["path"]
        if self.on_poll_listener(scope):
            if path == "/v1/get_result":
                return "poll"
            return "sample" if path.startswith(DELIVERY_PREFIX) else "other"
        if scope["method"] == "POST" and path in ENDPOINTS:
            return "submit"
        return "credits" if path == "/v1/credits" else "other"

    def error_body(self, status: int, message: str) -> Any:
        return {"detail": message}

    def fault_body(self, status: int) -> Any:
        try:
            return {"detail": HTTPStatus(status).phrase}
        except ValueError:
            return {"detail": "Error"}

    def provider_stats(self) -> dict[str, Any]:
        return self.state.stats()

    def provider_reset(self) -> None:
        self.state.reset()

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind in ("poll", "sample") or (kind == "other" and self.on_poll_listener(scope)):
            await self.poll_listener(scope, send, fault.fake_image if fault else None)
            return
        if fault is not None:
            scope[FAULT_SCOPE_KEY] = fault
        await self.submit_app(scope, receive, send)

    async def poll_listener(self, scope: Scope, send: Send, fake_image: bytes | None) -> None:
        """Polls and sample downloads; `fake_image` (a fault's `image`) replaces the bytes of a
        sample that would have been served."""
        path, method = scope["path"], scope["method"]
        if path.startswith(DELIVERY_PREFIX) and method in ("GET", "HEAD"):
            if any(k == b"x-key" for k, _ in scope["headers"]):
                self.state.count("sample_requests_with_key")
            served = await serve_sample(
                path, scope["query_string"], self.state.urls, self.render_cache, send, fake_image
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
