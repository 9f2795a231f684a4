"""The Runway emulator's app on the kit: its routes, Bearer auth and the mandatory
`X-Runway-Version`, validation (`catalog.py`), tasks (`tasks.py`) and output files; faults,
counters, the rate limit, file serving and the control surface are the kit's (`kit/job_app.py`).

Routes (runwayml/sdk-python `resources/text_to_image.py`, `resources/tasks.py`): `POST
/v1/text_to_image` (kind `submit`, paid) answers `{"id"}`; `GET /v1/tasks/{id}` (`poll`);
`DELETE /v1/tasks/{id}` (`cancel`, 204); output files on the second listener (`file`). Every API
call needs `Authorization: Bearer <key>` (401 otherwise) and `X-Runway-Version: 2024-11-06` (a
400 without it, or with another version).
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
from .catalog import Invalid, check, size_of
from .tasks import MARKERS, PREFIX, Book, Task

KINDS = ("submit", "poll", "cancel", "file")
RULES = FaultRules(KINDS, markers=MARKERS)
TASK_PATH = re.compile(r"^/v1/tasks/(?P<id>[A-Za-z0-9-]{1,64})$")
VERSIONS = ("2024-11-06",)
MIME = {"png": "image/png", "jpeg": "image/jpeg"}


class RunwayApp(JobApp):
    COUNTERS = ("auth_failures", "missing_version", "ignored_fields", "cancels",
                "files_served", "file_requests_with_key")  # fmt: skip
    book: Book

    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        queue_seconds: float = 0.0,
        generation_seconds: float = 0.3,
        retention: float = 86400.0,
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
        if path == "/v1/text_to_image" and method == "POST":
            return "submit"
        if TASK_PATH.match(path):
            return {"GET": "poll", "DELETE": "cancel"}.get(method)
        return None

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}

    def fault_body(self, status: int) -> Any:
        return E.body_for(status)

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        try:
            if kind == "file":
                await self.serve_file(scope, send, fault, PREFIX, MIME)
                return
            raw = await read_body(receive)
            if kind is None:
                known = scope["path"] == "/v1/text_to_image" or TASK_PATH.match(scope["path"])
                raise E.RunwayError(405 if known else 404, E.MESSAGES[405 if known else 404])
            self._authenticate(scope)
            if kind == "submit":
                await self._submit(scope, raw, send, fault)
                return
            task = self._task(scope)
            if kind == "poll":
                await send_json(send, 200, self.book.status(task))
                return
            self.count("cancels")
            self.book.delete(task)
            await send_bytes(send, 204, b"", [])
        except E.RunwayError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    def _authenticate(self, scope: Scope) -> None:
        if not auth.bearer(scope, self.api_key).ok:
            self.count("auth_failures")
            raise E.RunwayError(401, E.MESSAGES[401])
        version = auth.header(scope, E.VERSION_HEADER.lower())
        if version is None:
            self.count("missing_version")
            raise E.missing_version()
        if version not in VERSIONS:
            raise E.RunwayError(400, f"Unsupported API version {version[:20]!r}")

    def _task(self, scope: Scope) -> Task:
        found = TASK_PATH.match(scope["path"])
        task = self.book.get(found["id"]) if found else None
        if task is None or task.deleted:
            raise E.RunwayError(404, "Task not found")
        return task

    async def _submit(self, scope: Scope, raw: bytes, send: Send, fault: Fault | None) -> None:
        limited = self.rate_limited()
        if limited is not None:
            raise E.RunwayError(429, E.MESSAGES[429], limited)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise E.RunwayError(400, "Invalid JSON body") from None
        if not isinstance(body, dict):
            raise E.RunwayError(400, "The body must be a JSON object")
        self.log.record("POST", scope["path"], json_fields(body))
        ignored: list[str] = []
        try:
            model, count = check(body, self.strict, ignored)
        except Invalid as exc:
            raise E.RunwayError(400, str(exc)) from None
        self.count("ignored_fields", len(ignored))
        marker = marker_of(body["promptText"], RULES.markers, fault)
        self.log.submitted()
        task = self.book.create(
            Task,
            model=model.id,
            size=size_of(body["ratio"]),
            image_format=body.get("outputFormat", "png"),
            count=count,
            marker=marker,
            never=marker == "[never]",
        )
        await send_json(send, 200, {"id": task.id})
