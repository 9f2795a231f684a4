"""The DashScope emulator's app on the kit: its routes, Bearer auth, the async header, request
parsing, task answers and error shapes; faults, counters and the control surface are the kit's.

Request kinds (what a fault's `match` names): `submit` (paid: both task URLs), `poll`
(`GET /api/v1/tasks/{id}`), `cancel` (`POST /api/v1/tasks/{id}/cancel`), `result` (a download
from the second listener). A fault's `image` replaces a `result` download's bytes.

Prompt markers (in `input.prompt` or `negative_prompt`): `[moderate]` a 400
`DataInspectionFailed` at submission (not billed); `[moderate-output]` a task that ends FAILED
with `DataInspectionFailed` (billed, [UNVERIFIED]); `[moderate-one]` the first result fails
inspection, the others are made (with `n` 1 the task FAILED); `[fail]` a task FAILED with
`InternalError`; `[canceled]` a task CANCELED while PENDING (by another caller's `POST
/api/v1/tasks/{id}/cancel`); `[never]` a task that never ends by itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import orjson

from ..kit import auth
from ..kit.app import EmulatorApp
from ..kit.asgi import Receive, Scope, Send, read_body, send_bytes, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.limits import RateLimit
from ..kit.markers import marker_of
from ..kit.records import json_fields
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .params import parse_job
from .tasks import PREFIX, Book, Task

SUBMIT = re.compile(r"^/api/v1/services/aigc/(text2image|image2image)/image-synthesis$")
TASK = re.compile(r"^/api/v1/tasks/([^/]+)(/cancel)?$")
KINDS = ("submit", "poll", "cancel", "result")
MODERATE, MODERATE_OUTPUT, MODERATE_ONE = "[moderate]", "[moderate-output]", "[moderate-one]"
FAIL, CANCELED, NEVER = "[fail]", "[canceled]", "[never]"
RULES = FaultRules(KINDS, markers=(MODERATE_OUTPUT, MODERATE_ONE, MODERATE, FAIL, CANCELED, NEVER))
COUNTERS = (
    *("auth_failures", "ignored", "sync_refused", "cancels", "results_served"),
    "result_requests_with_key",
)


class DashScopeApp(EmulatorApp):
    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        *,
        queue_seconds: float,
        generation_seconds: float,
        retention: float,
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(api_key, RULES, ("submit",), scenarios, strict)
        self.book = Book(queue_seconds, generation_seconds, retention, clock)
        self.rate = RateLimit(rate_limit)
        self.counts: dict[str, int] = {}

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        path, method = scope["path"], scope["method"]
        if self.on_poll_listener(scope):
            return "result" if path.startswith(PREFIX) else None
        if method == "POST" and SUBMIT.match(path):
            return "submit"
        found = TASK.match(path)
        if found and found.group(2) and method == "POST":
            return "cancel"
        if found and not found.group(2) and method == "GET":
            return "poll"
        return None

    def error_body(self, status: int, message: str) -> Any:
        return E.body("InvalidParameter" if status == 400 else "NotFound", message)

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    def provider_stats(self) -> dict[str, Any]:
        return {**{key: self.counts.get(key, 0) for key in COUNTERS}, "tasks": len(self.book)}

    def provider_reset(self) -> None:
        self.counts.clear()
        self.rate.clear()
        self.book.clear()

    def count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        raw = await read_body(receive)
        try:
            if kind == "result":
                return await self._result(scope, send, fault)
            if kind is None:
                return await send_json(send, 404, E.body("NotFound", "Not found."))
            if not auth.bearer(scope, self.api_key).ok:
                self.count("auth_failures")
                raise E.invalid_key()
            if kind == "submit":
                return await self._submit(scope, raw, send, fault)
            found = TASK.match(scope["path"])
            assert found is not None
            task = self.book.get(found.group(1))
            if kind == "cancel":
                self.count("cancels")
                if task is None or self.book.status(task) != "PENDING":
                    raise E.cannot_cancel()
                self.book.cancel(task)
                return await send_json(send, 200, {"request_id": E.request_id()})
            await send_json(send, 200, self.book.answer(task, found.group(1)))
        except E.DashScopeError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    async def _submit(self, scope: Scope, raw: bytes, send: Send, fault: Fault | None) -> None:
        wait = self.rate.take()
        if wait is not None:
            raise E.rate_limited(wait)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise E.invalid("The request body is not valid JSON.") from None
        self.log.record("POST", scope["path"], json_fields(body))
        found = SUBMIT.match(scope["path"])
        assert found is not None
        job = parse_job(found.group(1), body, self.strict, lambda name: self.count("ignored"))
        asynchronous = (auth.header(scope, "x-dashscope-async") or "").lower() == "enable"
        if not asynchronous and not job.sync:
            self.count("sync_refused")
            raise E.no_sync()
        source = body["input"]
        text = f"{source.get('prompt', '')} {source.get('negative_prompt', '')}"
        marker = marker_of(text, RULES.markers, fault)
        if marker == MODERATE:
            raise E.inspection_failed()
        self.log.submitted()  # accepted: DashScope bills what it makes
        task = self.book.create(
            Task,
            model=job.model,
            prompt=job.prompt,
            n=job.n,
            size=(job.width, job.height),
            never=marker == NEVER,
            failure=_failure(marker),
            failed_results=1 if marker == MODERATE_ONE else 0,
        )
        if marker == CANCELED:
            task.canceled_at = task.created
        if asynchronous:
            output = {"task_id": task.id, "task_status": "PENDING"}
            return await send_json(send, 200, {"request_id": E.request_id(), "output": output})
        task.queue_seconds = task.generation_seconds = 0.0  # a synchronous call answers done
        await send_json(send, 200, self.book.answer(task, task.id))

    async def _result(self, scope: Scope, send: Send, fault: Fault | None) -> None:
        if auth.header(scope, "authorization") is not None:
            self.count("result_requests_with_key")
        name = scope["path"][len(PREFIX) :]
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
        refusal = self.book.urls.check(name, query, ("w", "h"))
        if refusal is not None:
            return await refusal.send(send)
        fake = fault.fake_image if fault is not None else None
        data = fake if fake is not None else await self.book.image(
            int(query["w"]), int(query["h"]), "png"
        )  # fmt: skip
        self.count("results_served")
        await send_bytes(send, 200, data, [(b"content-type", b"image/png")])


def _failure(marker: str | None) -> tuple[str, str] | None:
    if marker == MODERATE_OUTPUT:
        return ("DataInspectionFailed", E.OUTPUT_INSPECTION)
    if marker == FAIL:
        return ("InternalError", "An internal error occurred while generating the image.")
    return None
