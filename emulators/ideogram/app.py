"""The Ideogram emulator's app on the kit: its routes, `Api-Key` auth, the multipart form,
answers with temporary URLs, the limit on requests in flight; faults, counters and the
control surface are the kit's.

Request kinds (what a fault's `match` names): `generate` (`/v1/ideogram-v{3,4}/generate`),
`edit` (`/v1/ideogram-v3/{remix,edit,inpaint}`, `/v1/ideogram-v4/remix`), both paid, and
`result` (a download from the result host, the second listener). A fault's `image` replaces a
download's bytes.

Prompt markers: `[moderate]` the 422 "Prompt failed the safety check." (not billed);
`[unsafe]` an HTTP 200 whose every image has `is_image_safe: false` and an empty URL;
`[unsafe-one]` the same for the first image only (billed: Ideogram bills per output image,
whether for unsafe ones is [UNVERIFIED]). `stats()` adds `auth_failures`, `images_made`,
`unsafe_images`, `in_flight_refused`, `silent_overrides`, `results_served`,
`result_requests_with_key`.
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from ..kit import auth
from ..kit.app import EmulatorApp
from ..kit.asgi import Receive, Scope, Send, read_body, send_json, sleep_unless_stopping
from ..kit.faults import Fault, FaultRules
from ..kit.markers import marker_of
from ..kit.records import form_fields
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .params import FILES, Job, Upload, parse_job, upload
from .results import PREFIX as RESULT_PREFIX
from .results import Results

ROUTES = {
    "/v1/ideogram-v3/generate": "v3/generate",
    "/v1/ideogram-v3/remix": "v3/remix",
    "/v1/ideogram-v3/edit": "v3/edit",
    "/v1/ideogram-v3/inpaint": "v3/inpaint",
    "/v1/ideogram-v4/generate": "v4/generate",
    "/v1/ideogram-v4/remix": "v4/remix",
}
KINDS = ("generate", "edit", "result")
PAID = ("generate", "edit")
MODERATE, UNSAFE, UNSAFE_ONE = "[moderate]", "[unsafe]", "[unsafe-one]"
RULES = FaultRules(KINDS, markers=(UNSAFE_ONE, UNSAFE, MODERATE))


class IdeogramApp(EmulatorApp):
    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        url_ttl: float = 3600.0,
        max_in_flight: int | None = 10,
        generation_seconds: float = 0.0,
    ) -> None:
        super().__init__(api_key, RULES, PAID, scenarios, strict)
        self.results = Results(url_ttl)
        self.max_in_flight = max_in_flight
        self.generation_seconds = generation_seconds
        self.result_base = ""  # the result host's origin, once bound
        self.counts: dict[str, int] = {}
        self.active = 0
        self._lock = threading.Lock()

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        if self.on_poll_listener(scope):
            return "result" if scope["path"].startswith(RESULT_PREFIX) else None
        endpoint = ROUTES.get(scope["path"])
        if endpoint is None or scope["method"] != "POST":
            return None
        return "generate" if endpoint.endswith("generate") else "edit"

    def error_body(self, status: int, message: str) -> Any:
        return {"detail": message}

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    def provider_stats(self) -> dict[str, Any]:
        keys = (
            *("auth_failures", "images_made", "unsafe_images", "in_flight_refused"),
            *("silent_overrides", "results_served", "result_requests_with_key"),
        )
        return {key: self.counts.get(key, 0) for key in keys}

    def provider_reset(self) -> None:
        with self._lock:
            self.counts.clear()

    def count(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + amount

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind == "result":
            if auth.header(scope, "api-key") or auth.header(scope, "authorization"):
                self.count("result_requests_with_key")
            fake = fault.fake_image if fault is not None else None
            if await self.results.serve(scope["path"], scope["query_string"], send, fake):
                self.count("results_served")
            return
        if kind is None:
            await read_body(receive)
            status = 405 if scope["path"] in ROUTES else 404
            await send_json(
                send, status, {"detail": "Not Found" if status == 404 else "Method Not Allowed"}
            )
            return
        try:
            if not auth.header_key(scope, "api-key", self.api_key).ok:
                await read_body(receive)
                self.count("auth_failures")
                raise E.unauthorized()
            self._enter()
            try:
                await self._serve(scope, receive, send, fault)
            finally:
                with self._lock:
                    self.active -= 1
        except E.IdeogramError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    def _enter(self) -> None:
        """One more request in flight, or a 429 past the limit (10 by default, REFERENCE §3.5)."""
        with self._lock:
            if self.max_in_flight is not None and self.active >= self.max_in_flight:
                self.counts["in_flight_refused"] = self.counts.get("in_flight_refused", 0) + 1
                raise E.too_many(self.max_in_flight, 1)
            self.active += 1

    async def _serve(self, scope: Scope, receive: Receive, send: Send, fault: Fault | None) -> None:
        job = await self._job(ROUTES[scope["path"]], scope, receive)
        marker = marker_of(job.prompt, RULES.markers, fault)
        if marker == MODERATE:
            raise E.unsafe_prompt()
        self.log.submitted()  # accepted: Ideogram bills it
        if self.generation_seconds:
            await sleep_unless_stopping(self.generation_seconds, self.stopping)
        await send_json(send, 200, self._answer(job, marker))

    async def _job(self, endpoint: str, scope: Scope, receive: Receive) -> Job:
        content_type = (auth.header(scope, "content-type") or "").lower()
        if not content_type.startswith("multipart/form-data"):
            await read_body(receive)
            raise E.bad_request("Content-Type must be multipart/form-data")
        request = Request(scope, receive)
        try:
            form = await request.form(max_files=16, max_fields=64)
        except MultiPartException as exc:
            raise E.bad_request(exc.message) from None
        try:
            self.log.record("POST", scope["path"], await form_fields(form))
            values: dict[str, Any] = {}
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    values[name] = upload(data) if name in FILES else Upload(data, (0, 0))
                else:
                    values[name] = value
        finally:
            await form.close()
        return parse_job(endpoint, values, self.strict, self.count)

    def _answer(self, job: Job, marker: str | None) -> dict[str, Any]:
        items = []
        for index in range(job.n):
            safe = not (marker == UNSAFE or (marker == UNSAFE_ONE and index == 0))
            url = self.results.url(self.result_base, job.width, job.height) if safe else ""
            items.append(
                {
                    "url": url,
                    "is_image_safe": safe,
                    "prompt": job.prompt,
                    "resolution": f"{job.width}x{job.height}",
                    "seed": (job.seed if job.seed is not None else 12345) + index,
                    "style_type": job.style_type,
                }
            )
            self.count("images_made")
            if not safe:
                self.count("unsafe_images")
        created = datetime.datetime.now(datetime.UTC).isoformat()
        return {"created": created, "data": items}
