"""The Recraft emulator's app on the kit: its routes, Bearer auth, request parsing, answers,
error shapes and its image host (the second listener); faults, counters and the control
surface are the kit's.

Routes (RECRAFT-DOCS; recraft-ai/mcp-recraft-server `ImageApi.ts`): `POST
/v1/images/generations` (JSON), `POST /v1/images/imageToImage` and `POST /v1/images/inpaint`
(multipart forms with the files `image`, `mask`; JSON with data URLs is Recraft's other form,
not emulated). Answers `{"created", "credits", "data": [{"image_id", "url" | "b64_json"}]}`:
`credits` the API units charged (the model's price per image times `n`); `url` on the image
host, signed, expiring after `url_ttl` (Recraft keeps files "about 24 hours"); vector models
answer SVG files.

Request kinds (a fault's `match`): `generate`, `edit` (both paid), `result` (a download).
Prompt markers: `[moderate]` a 400 `inappropriate_content` (not billed).
"""

from __future__ import annotations

import base64
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from ..kit import auth
from ..kit.asgi import Receive, Scope, Send, read_body, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.markers import marker_of
from ..kit.placeholder import MIME, Look
from ..kit.records import form_fields, json_fields
from ..kit.results import ResultHost, ResultHostApp
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .params import Job, parse_job

ROUTES = {
    "/v1/images/generations": "generate",
    "/v1/images/imageToImage": "imageToImage",
    "/v1/images/inpaint": "inpaint",
}
KINDS = ("generate", "edit", "result")
PAID = ("generate", "edit")
MODERATE = "[moderate]"
RULES = FaultRules(KINDS, markers=(MODERATE,))
LOOK = Look("Recraft emulator", (70, 160, 110), (250, 240, 220))
FORMATS = {"png": "png", "webp": "webp", "svg": "svg"}  # image_format -> the file's extension


class RecraftResults(ResultHost):
    """The image host (kit/results.py): `GET /recraft-results/<image_id>.<fmt>?se=&w=&h=&f=
    &sig=`, the kit's placeholder, or an SVG document for vector models."""

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        super().__init__(
            "/recraft-results/",
            LOOK,
            ttl=ttl,
            max_side=math.inf,
            formats=FORMATS,
            sign_format=True,
            mime={**MIME, "svg": "image/svg+xml"},
            clock=clock,
        )

    async def image(self, width: int, height: int, fmt: str) -> bytes:
        if fmt != "svg":
            return await super().image(width, height, fmt)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<rect width="100%" height="100%" fill="#4a6"/><text x="10" y="40">Recraft '
            "emulator - not a real image</text></svg>"
        ).encode()


class RecraftApp(ResultHostApp):
    COUNTERS = (
        *("auth_failures", "silently_ignored", "units_spent", "results_served"),
        "result_requests_with_key",
    )

    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        url_ttl: float = 86400.0,
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        results = RecraftResults(url_ttl, clock)
        super().__init__(api_key, RULES, PAID, scenarios, strict, results, rate_limit)

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify_api(self, scope: Scope) -> str | None:
        route = ROUTES.get(scope["path"])
        if route is None or scope["method"] != "POST":
            return None
        return "generate" if route == "generate" else "edit"

    def error_body(self, status: int, message: str) -> Any:
        return {"code": "invalid_request" if status == 400 else "not_found", "message": message}

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    async def handle_api(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind is None:
            await read_body(receive)
            await E.not_found().send(send)
            return
        try:
            job = await self._job(ROUTES[scope["path"]], scope, receive)
            if marker_of(job.prompt, RULES.markers, fault) == MODERATE:
                raise E.moderated()
            self.log.submitted()  # accepted: Recraft charges for it
            units = job.model.units * job.n
            self.count("units_spent", units)
            await send_json(send, 200, await self._answer(job, units, fault))
        except E.RecraftError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    async def _job(self, route: str, scope: Scope, receive: Receive) -> Job:
        if not auth.bearer(scope, self.api_key).ok:
            await read_body(receive)
            self.count("auth_failures")
            raise E.unauthenticated()
        wait = self.rate.take()
        if wait is not None:
            await read_body(receive)
            raise E.rate_limited(wait)
        content_type = (auth.header(scope, "content-type") or "").lower()
        if route == "generate":
            raw = await read_body(receive)
            if not content_type.startswith("application/json"):
                raise E.invalid("content-type: must be application/json")
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise E.invalid("body: not valid JSON") from None
            if not isinstance(body, dict):
                raise E.invalid("body: must be a JSON object")
            self.log.record("POST", scope["path"], json_fields(body))
            return parse_job(route, body, self.strict, self.count)
        if not content_type.startswith("multipart/form-data"):
            await read_body(receive)
            raise E.invalid("content-type: must be multipart/form-data")
        try:
            form = await Request(scope, receive).form(max_files=4, max_fields=64)
        except MultiPartException as exc:
            raise E.invalid(f"body: {exc.message}") from None
        try:
            self.log.record("POST", scope["path"], await form_fields(form))
            values: dict[str, Any] = {}
            for name, value in form.multi_items():
                values[name] = await value.read() if isinstance(value, UploadFile) else value
        finally:
            await form.close()
        return parse_job(route, values, self.strict, self.count)

    async def _answer(self, job: Job, units: int, fault: Fault | None) -> dict[str, Any]:
        fmt = "svg" if job.model.vector else job.image_format
        items = []
        for _ in range(job.n):
            image_id = str(uuid.uuid4())
            item: dict[str, Any] = {"image_id": image_id}
            if job.response_format == "b64_json":
                data = fault.fake_image if fault is not None else None
                if data is None:
                    data = await self.results.image(job.width, job.height, fmt)
                item["b64_json"] = base64.b64encode(data).decode("ascii")
            else:
                base = self.result_base
                item["url"] = self.results.url(base, job.width, job.height, fmt, image_id)
            items.append(item)
        return {"created": int(time.time()), "credits": units, "data": items}
