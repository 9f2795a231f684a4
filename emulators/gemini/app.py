"""The Gemini API emulator's app on the kit: its route, its key, its error shape; the
`generateContent` handling is `generate.py`'s (which Vertex's emulator reuses).

Route: `POST /v1beta/models/{model}:generateContent` (REFERENCE-MORE §1.2). The key in
`x-goog-api-key`, or `?key=` (both work at Google, §1.2): none is a 403 `PERMISSION_DENIED`,
a wrong one a 400 `INVALID_ARGUMENT` with `ErrorInfo.reason` `API_KEY_INVALID` (§1.5).
Any other path or method is a 404 in Google's error shape. Request kind (what a fault's
`match` names): `generate`, the one paid kind.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote

from ..kit import auth
from ..kit.app import EmulatorApp
from ..kit.asgi import Receive, Scope, Send, read_body, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .generate import DAILY_QUOTA_SWITCH, MARKERS, GenerateContent

ROUTE = re.compile(r"^/v1beta/models/([^/:]+):generateContent$")
KINDS = ("generate",)
RULES = FaultRules(KINDS, switches=(DAILY_QUOTA_SWITCH,), markers=MARKERS)


class GeminiApp(EmulatorApp):
    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        rate_limit: int | None = None,
        daily_quota: int | None = None,
        strict: bool = False,
    ) -> None:
        super().__init__(api_key, RULES, KINDS, scenarios, strict)
        self.generator = GenerateContent(self.log, rate_limit=rate_limit, daily_quota=daily_quota)
        self.auth_failures = 0

    def classify(self, scope: Scope) -> str | None:
        if scope["method"] == "POST" and ROUTE.match(scope["path"]):
            return "generate"
        return None

    def error_body(self, status: int, message: str) -> Any:
        return E.GoogleError(status, message).body()

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    def provider_stats(self) -> dict[str, Any]:
        return {"auth_failures": self.auth_failures, **self.generator.stats()}

    def provider_reset(self) -> None:
        self.auth_failures = 0
        self.generator.reset()

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        raw = await read_body(receive)
        try:
            if kind is None:
                raise E.GoogleError(404, "The requested URL was not found on this server.")
            self._authenticate(scope)
            match = ROUTE.match(scope["path"])
            assert match is not None
            model = unquote(match.group(1)).removeprefix("models/")
            answer = await self.generator.answer(model, raw, scope["path"], fault)
        except E.GoogleError as error:
            await send_json(send, error.code, error.body())
            return
        await send_json(send, 200, answer)

    def _authenticate(self, scope: Scope) -> None:
        presented = auth.header(scope, "x-goog-api-key")
        if presented is None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            presented = (query.get("key") or [None])[0]
        if not presented:
            self.auth_failures += 1
            raise E.no_key()
        if not auth.matches(presented, self.api_key):
            self.auth_failures += 1
            raise E.bad_key()
