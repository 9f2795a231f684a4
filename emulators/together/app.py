"""The Together emulator's app on the kit: its route, Bearer auth, parsing, answers and error
shapes; faults, counters and the control surface are the kit's.

Request kinds (what a fault's `match` names): `generate` (the paid one) and `result` (a download
from the result host, the second listener). A fault's `image` replaces the bytes of a `base64`
answer or of a `result` download.

Prompt marker: `[moderate]` the 422 naming NSFW content (no image, not billed; form
[UNVERIFIED]). Together documents no HTTP-200 refusal, so the emulator has none.

`response_format: "url"` answers point at the result host (kit/results.py): `GET /imgproxy/<id>
.<jpg|png>?se=&w=&h=&f=&sig=`. Where Together really hosts its results, and for how long, is
[UNVERIFIED] (`--url-ttl` here). Images are JPEG (Together's default `output_format`) or PNG,
"Together emulator" across them.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from ..kit import auth
from ..kit.asgi import Receive, Scope, Send, read_body, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.markers import marker_of
from ..kit.placeholder import Look
from ..kit.records import json_fields
from ..kit.results import ResultHost, ResultHostApp
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .params import Job, parse_job

ROUTE = "/v1/images/generations"
KINDS = ("generate", "result")
MODERATE = "[moderate]"
RULES = FaultRules(KINDS, markers=(MODERATE,))
LOOK = Look("Together emulator", (30, 26, 40), (200, 190, 230))
FORMATS = {"jpeg": "jpg", "png": "png"}  # output_format -> the file's extension


class TogetherApp(ResultHostApp):
    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        url_ttl: float = 3600.0,
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        results = ResultHost(
            "/imgproxy/", LOOK, ttl=url_ttl, formats=FORMATS, sign_format=True, clock=clock
        )
        super().__init__(api_key, RULES, ("generate",), scenarios, strict, results, rate_limit)

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify_api(self, scope: Scope) -> str | None:
        return "generate" if scope["path"] == ROUTE and scope["method"] == "POST" else None

    def error_body(self, status: int, message: str) -> Any:
        return E.body(message)

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    async def handle_api(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind is None:
            await read_body(receive)
            if scope["path"] == ROUTE:
                await E.TogetherError(405, "Method not allowed").send(send)
            else:
                await send_json(send, 404, E.body("Not found"))
            return
        try:
            job = await self._job(scope, receive)
            if marker_of(job.prompt, RULES.markers, fault) == MODERATE:
                raise E.moderated()
            self.log.submitted()  # accepted: Together bills it
            await send_json(send, 200, await self._answer(job, fault))
        except E.TogetherError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    async def _job(self, scope: Scope, receive: Receive) -> Job:
        raw = await read_body(receive)
        if not auth.bearer(scope, self.api_key).ok:
            self.count("auth_failures")
            raise E.bad_key()
        wait = self.rate.take()
        if wait is not None:
            raise E.rate_limited(wait)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise E.invalid("Request body is not valid JSON") from None
        self.log.record("POST", scope["path"], json_fields(body))
        return parse_job(body, self.strict)

    async def _answer(self, job: Job, fault: Fault | None) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for index in range(job.n):
            if job.response_format == "base64":
                data = fault.fake_image if fault is not None else None
                if data is None:
                    data = await self.results.image(job.width, job.height, job.output_format)
                b64 = base64.b64encode(data).decode("ascii")
                items.append({"index": index, "b64_json": b64, "type": "b64_json"})
            else:
                url = self.results.url(self.result_base, job.width, job.height, job.output_format)
                items.append({"index": index, "url": url, "type": "url"})
        return {"id": uuid.uuid4().hex[:20], "model": job.model, "object": "list", "data": items}
