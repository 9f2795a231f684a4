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
import hashlib
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from ..kit import auth
from ..kit.app import EmulatorApp
from ..kit.asgi import Receive, Scope, Send, read_body, send_bytes, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.limits import RateLimit
from ..kit.markers import marker_of
from ..kit.placeholder import Look, Placeholders
from ..kit.records import form_fields, json_fields
from ..kit.scenarios import ScenarioTable
from ..kit.signed_urls import SignedUrls, forbidden
from . import errors as E
from .params import Job, parse_job

ROUTES = {
    "/v1/images/generations": "generate",
    "/v1/images/imageToImage": "imageToImage",
    "/v1/images/inpaint": "inpaint",
}
KINDS = ("generate", "edit", "result")
PAID = ("generate", "edit")
RESULTS = "/recraft-results/"
MODERATE = "[moderate]"
RULES = FaultRules(KINDS, markers=(MODERATE,))
MIME = {"png": "image/png", "webp": "image/webp", "svg": "image/svg+xml"}
IMAGES = Placeholders(Look("Recraft emulator", (70, 160, 110), (250, 240, 220)))


class RecraftApp(EmulatorApp):
    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        url_ttl: float = 86400.0,
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(api_key, RULES, PAID, scenarios, strict)
        self.urls = SignedUrls(clock)
        self.url_ttl = url_ttl
        self.rate = RateLimit(rate_limit)
        self.result_base = ""  # the image host's origin, once bound
        self.counts: dict[str, int] = {}

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        if self.on_poll_listener(scope):
            return "result" if scope["path"].startswith(RESULTS) else None
        route = ROUTES.get(scope["path"])
        if route is None or scope["method"] != "POST":
            return None
        return "generate" if route == "generate" else "edit"

    def error_body(self, status: int, message: str) -> Any:
        return {"code": "invalid_request" if status == 400 else "not_found", "message": message}

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    def provider_stats(self) -> dict[str, Any]:
        keys = ("auth_failures", "silently_ignored", "units_spent", "results_served")
        return {key: self.counts.get(key, 0) for key in (*keys, "result_requests_with_key")}

    def provider_reset(self) -> None:
        self.counts.clear()
        self.rate.clear()

    def count(self, key: str, amount: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + amount

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind == "result":
            await self._serve_result(scope, send, fault)
            return
        if kind is None:
            await read_body(receive)
            await send_json(send, 404, {"code": "not_found", "message": "Not found"})
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
                    data = await image(job.width, job.height, fmt)
                item["b64_json"] = base64.b64encode(data).decode("ascii")
            else:
                expires = self.urls.clock() + self.url_ttl
                params = {"w": job.width, "h": job.height, "f": fmt}
                name = f"{image_id}.{fmt}"
                item["url"] = self.urls.make(self.result_base, RESULTS, name, expires, params)
            items.append(item)
        return {"created": int(time.time()), "credits": units, "data": items}

    async def _serve_result(self, scope: Scope, send: Send, fault: Fault | None) -> None:
        if auth.header(scope, "authorization") is not None:
            self.count("result_requests_with_key")
        name = scope["path"][len(RESULTS) :]
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
        refusal = self.urls.check(name, query, ("w", "h", "f"))
        if refusal is None and query.get("f") not in MIME:
            refusal = forbidden("Signed format unknown.")
        if refusal is not None:
            await refusal.send(send)
            return
        width, height, fmt = int(query["w"]), int(query["h"]), query["f"]
        data = fault.fake_image if fault is not None else None
        if data is None:
            data = await image(width, height, fmt)
        etag = f'"{hashlib.sha256(name.encode()).hexdigest()[:16]}"'.encode()
        await send_bytes(send, 200, data, [(b"content-type", MIME[fmt].encode()), (b"etag", etag)])
        self.count("results_served")


async def image(width: int, height: int, fmt: str) -> bytes:
    """An image of that size and format saying what it is: the kit's placeholder, or an SVG
    document for vector models."""
    if fmt != "svg":
        return (await IMAGES.get(width, height, fmt)).data
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="100%" height="100%" fill="#4a6"/><text x="10" y="40">Recraft '
        "emulator - not a real image</text></svg>"
    ).encode()
