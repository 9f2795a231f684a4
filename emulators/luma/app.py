"""The Luma emulator's app on the kit: the Dream Machine routes for images, Bearer auth,
validation, generations and their files, Luma's error shapes; faults, counters, the rate limit,
file serving and the control surface are the kit's (`kit/job_app.py`).

Request kinds (what a fault's `match` names): `submit` (the paid one: `POST
/dream-machine/v1/generations/image`), `poll` (`GET .../generations/{id}`), `delete` (`DELETE
.../generations/{id}`) and `file` (an image, on the second listener).

Prompt markers: `[moderate]` the submission's 400 naming moderation (not billed);
`[moderate-output]` a generation that ends `failed` with a moderation `failure_reason` (billed:
HTTP 200 polls); `[fail]` one that fails otherwise; `[never]` one that never finishes by itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import orjson

from ..kit import auth
from ..kit.asgi import Receive, Scope, Send, read_body, send_bytes, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.job_app import JobApp
from ..kit.markers import marker_of
from ..kit.records import json_fields
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .generations import FAIL, MIME, MODERATE_OUTPUT, NEVER, PREFIX, Book
from .params import parse

BASE = "/dream-machine/v1"
SUBMIT = f"{BASE}/generations/image"
ONE = re.compile(rf"^{BASE}/generations/(?P<id>[0-9a-fA-F-]{{8,64}})$")
KINDS = ("submit", "poll", "delete", "file")
MODERATE = "[moderate]"
RULES = FaultRules(KINDS, markers=(MODERATE_OUTPUT, MODERATE, FAIL, NEVER))


class LumaApp(JobApp):
    COUNTERS = ("auth_failures", "deletes", "files_served", "file_requests_with_key")
    book: Book

    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        queue_seconds: float = 0.0,
        generation_seconds: float = 0.3,
        retention: float = 3600.0,
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        book = Book(queue_seconds, generation_seconds, retention, clock)
        super().__init__(
            api_key, RULES, ("submit",), scenarios, strict, book=book, rate_limit=rate_limit
        )

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        path, method = scope["path"], scope["method"]
        if self.on_poll_listener(scope):
            return "file" if path.startswith(PREFIX) and method == "GET" else None
        if path == SUBMIT:
            return "submit" if method == "POST" else None
        if ONE.match(path):
            return {"GET": "poll", "DELETE": "delete"}.get(method)
        return None

    def error_body(self, status: int, message: str) -> Any:
        return {"detail": message}

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        try:
            if kind == "file":
                await self.serve_file(scope, send, fault, PREFIX, MIME)
                return
            raw = await read_body(receive)
            if kind is None:
                raise E.detail(404 if scope["method"] in ("GET", "POST") else 405, "Not Found")
            self._authenticate(scope)
            if kind == "submit":
                await self._submit(scope, raw, send, fault)
                return
            found = ONE.match(scope["path"])
            generation = self.book.find(found["id"] if found else "")
            if kind == "delete":
                self.count("deletes")
                self.book.delete(generation)
                await send_bytes(send, 204, b"", [])
                return
            await send_json(send, 200, self.book.body(generation))
        except E.LumaError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    def _authenticate(self, scope: Scope) -> None:
        """`Authorization: Bearer <key>` (lumaai-python `_client.py` `auth_headers`)."""
        if auth.header(scope, "authorization") is None:
            self.count("auth_failures")
            raise E.detail(401, "Not authenticated")
        if not auth.bearer(scope, self.api_key).ok:
            self.count("auth_failures")
            raise E.detail(401, "Invalid API key")  # [UNVERIFIED] wording

    async def _submit(self, scope: Scope, raw: bytes, send: Send, fault: Fault | None) -> None:
        limited = self.rate_limited()
        if limited is not None:
            raise E.detail(429, E.RATE, limited)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise E.invalid("json_invalid", [], "JSON decode error") from None
        self.log.record("POST", scope["path"], json_fields(body))
        ask = parse(body, self.strict)
        marker = marker_of(ask.prompt, RULES.markers, fault)
        if marker == MODERATE:
            raise E.detail(400, E.MODERATED_PROMPT)
        self.log.submitted()  # accepted: Luma bills it
        request = {
            k: v for k, v in body.items() if k in ("model", "prompt", "aspect_ratio", "format")
        }
        generation = self.book.add(
            {**request, "generation_type": "image"}, ask.model, ask.aspect_ratio, ask.fmt, marker
        )
        await send_json(send, 201, self.book.body(generation))
