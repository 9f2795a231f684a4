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

Ideogram answers each image as a link ("Images links are available for a limited period of
time; if you would like to keep the image, you must download it", IDEO-DOCS; 1 h or 24 h,
[UNVERIFIED]: `--url-ttl` here) on its own site, `https://ideogram.ai/api/images/ephemeral/
<id>.png?exp=...&signature=...` ([3P] callers' logs). The emulator's result host
(kit/results.py): `GET /api/images/ephemeral/<id>.png?se=&w=&h=&sig=`; a download carrying
`Api-Key` or `Authorization` counts as `result_requests_with_key`.
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from ..kit import auth
from ..kit.asgi import Receive, Scope, Send, read_body, send_json, sleep_unless_stopping
from ..kit.faults import Fault, FaultRules
from ..kit.markers import marker_of
from ..kit.placeholder import Look
from ..kit.records import form_fields
from ..kit.results import ResultHost, ResultHostApp
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .params import FILES, Job, Upload, parse_job, upload

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
LOOK = Look("Ideogram emulator", (250, 236, 214), (40, 90, 160))


class IdeogramApp(ResultHostApp):
    COUNTERS = (
        *("auth_failures", "images_made", "unsafe_images", "in_flight_refused"),
        *("silent_overrides", "results_served", "result_requests_with_key"),
    )
    KEY_HEADERS = ("api-key", "authorization")

    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        url_ttl: float = 3600.0,
        max_in_flight: int | None = 10,
        generation_seconds: float = 0.0,
    ) -> None:
        results = ResultHost("/api/images/ephemeral/", LOOK, ttl=url_ttl)
        super().__init__(api_key, RULES, PAID, scenarios, strict, results)
        self.max_in_flight = max_in_flight
        self.generation_seconds = generation_seconds
        self.active = 0
        self._lock = threading.Lock()

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify_api(self, scope: Scope) -> str | None:
        endpoint = ROUTES.get(scope["path"])
        if endpoint is None or scope["method"] != "POST":
            return None
        return "generate" if endpoint.endswith("generate") else "edit"

    def error_body(self, status: int, message: str) -> Any:
        return {"detail": message}

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    async def handle_api(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
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
            full = self.max_in_flight is not None and self.active >= self.max_in_flight
            if not full:
                self.active += 1
        if full:
            self.count("in_flight_refused")
            raise E.too_many(self.max_in_flight or 0, 1)

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
            url = self.results.url(self.result_base, job.width, job.height, "png") if safe else ""
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
