"""The Stability emulator's app on the kit: routes, Bearer auth, the multipart form, answers in
either `accept`, the rate limit with its lock-out; faults, counters and the control surface are
the kit's.

Request kinds: `generate` (`/v2beta/stable-image/generate/{ultra,core,sd3}`) and `edit`
(`/v2beta/stable-image/edit/{inpaint,erase,outpaint,search-and-replace}`), both paid.

Prompt markers: `[moderate]` the 403 `content_moderation` (not charged); `[filtered]` an HTTP
200 with `finish_reason` / `finish-reason: CONTENT_FILTERED` and a blurred image (charged);
`[public-figure]` the 422 `public_figure`. Switches (a fault's): `as_image` answers the image's
bytes whatever `accept` asked; `v1_401` answers a bad key in v1's `{id, name, message}` shape.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

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
from ..kit.records import form_fields
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .params import Job, Upload, parse_job, upload

GENERATE = "/v2beta/stable-image/generate/"
EDIT = "/v2beta/stable-image/edit/"
SERVICES = {
    **{f"{GENERATE}{name}": name for name in ("ultra", "core", "sd3")},
    **{f"{EDIT}{name}": name for name in ("inpaint", "erase", "outpaint", "search-and-replace")},
}
KINDS = ("generate", "edit")
MODERATE, FILTERED, PUBLIC_FIGURE = "[moderate]", "[filtered]", "[public-figure]"
RULES = FaultRules(
    KINDS, switches=("as_image", "v1_401"), markers=(MODERATE, FILTERED, PUBLIC_FIGURE)
)
ACCEPTS = ("image/*", "application/json")
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class StabilityApp(EmulatorApp):
    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        rate_limit: int | None = 150,
        lockout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(api_key, RULES, KINDS, scenarios, strict)
        self.rate = RateLimit(rate_limit, window=10.0, clock=clock)
        self.lockout = lockout
        self.clock = clock
        self.locked_until = 0.0
        self.counts: dict[str, float] = {}
        self._lock = threading.Lock()

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        path = scope["path"]
        if path not in SERVICES or scope["method"] != "POST":
            return None
        return "generate" if path.startswith(GENERATE) else "edit"

    def error_body(self, status: int, message: str) -> Any:
        return {"id": E.request_id(), "name": "bad_request", "errors": [message]}

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    def provider_stats(self) -> dict[str, Any]:
        keys = ("auth_failures", "credits_spent", "filtered", "rate_limited", "silent_reroutes")
        return {key: self.counts.get(key, 0) for key in keys}

    def provider_reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.locked_until = 0.0
        self.rate.clear()

    def count(self, key: str, amount: float = 1) -> None:
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + amount

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind is None:
            await read_body(receive)
            await send_json(
                send,
                404,
                {"id": E.request_id(), "name": "not_found", "errors": ["path: not found"]},
            )
            return
        try:
            job = await self._job(SERVICES[scope["path"]], scope, receive, fault)
            marker = marker_of(job.prompt, RULES.markers, fault)
            if marker == MODERATE:
                raise E.moderated()
            if marker == PUBLIC_FIGURE:
                raise E.public_figure()
            self.log.submitted()  # accepted: Stability charges for it
            self.count("credits_spent", job.credits)
            if marker == FILTERED:
                self.count("filtered")
            await self._answer(scope, send, job, marker == FILTERED, fault)
        except E.StabilityError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    def _take_rate(self) -> None:
        """150 requests in 10 s, then every request refused for `lockout` seconds."""
        now = self.clock()
        with self._lock:
            locked = now < self.locked_until
        if locked or self.rate.take() is not None:
            with self._lock:
                if not locked:
                    self.locked_until = now + self.lockout
            self.count("rate_limited")
            raise E.rate_limited()

    async def _job(self, service: str, scope: Scope, receive: Receive, fault: Fault | None) -> Job:
        if not auth.bearer(scope, self.api_key).ok:
            await read_body(receive)
            self.count("auth_failures")
            raise E.unauthorized(fault is not None and fault.switch("v1_401"))
        self._take_rate()
        accept = auth.header(scope, "accept") or "image/*"
        if accept not in (*ACCEPTS, "*/*"):
            await read_body(receive)
            raise E.bad_request("accept: must be image/* or application/json")
        content_type = (auth.header(scope, "content-type") or "").lower()
        if not content_type.startswith("multipart/form-data"):
            await read_body(receive)
            raise E.bad_request("content-type: must be multipart/form-data")
        request = Request(scope, receive)
        try:
            form = await request.form(max_files=8, max_fields=64)
        except MultiPartException as exc:
            raise E.bad_request(f"body: {exc.message}") from None
        try:
            self.log.record("POST", scope["path"], await form_fields(form))
            values: dict[str, Any] = {}
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    is_image = name in ("image", "mask")
                    values[name] = upload(data) if is_image else Upload(data, (0, 0))
                else:
                    values[name] = value
        finally:
            await form.close()
        return parse_job(service, values, self.strict, self.count)

    async def _answer(
        self, scope: Scope, send: Send, job: Job, filtered: bool, fault: Fault | None
    ) -> None:
        data = fault.fake_image if fault is not None else None
        if data is None:
            detail = f"not a real image - {job.service} {job.width}x{job.height}"
            rendered = await IMAGES.get(
                job.width, job.height, job.output_format, detail=detail, blur=24 if filtered else 0
            )
            data = rendered.data
        seed = job.seed or 1234567
        reason = "CONTENT_FILTERED" if filtered else "SUCCESS"
        rid = E.request_id()
        accept = auth.header(scope, "accept") or "image/*"
        as_image = accept != "application/json" or (fault is not None and fault.switch("as_image"))
        if as_image:
            headers = [
                (b"content-type", MIME[job.output_format].encode()),
                (b"finish-reason", reason.encode()),
                (b"seed", str(seed).encode()),
                (b"x-request-id", rid.encode()),
            ]
            await send_bytes(send, 200, data, headers)
            return
        body = {"image": base64.b64encode(data).decode(), "finish_reason": reason, "seed": seed}
        content_type = f"application/json; type={MIME[job.output_format]}"
        await send_bytes(
            send,
            200,
            orjson.dumps(body),
            [(b"content-type", content_type.encode()), (b"x-request-id", rid.encode())],
        )


# A real image of the asked size and format saying what it is, blurred when filtered; kept (the
# same answer is asked for again and again in tests) and encoded in a worker thread.
IMAGES = Placeholders(Look("Stability emulator", (120, 60, 150), (240, 200, 80), "corner"), 32)
