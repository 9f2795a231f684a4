"""The OpenAI Images emulator's app on the kit: its routes, Bearer auth, request parsing and
error shapes; faults, counters and the control surface are the kit's (`emulators/kit/app.py`).

Request kinds (what a fault's `match` names): `generate`, `edit`, `variation` (the paid ones)
and `file` (a DALL·E result download). Its own fault switches and numbers: `as_url`; for streams
`stream_interval` (seconds before each event), `stream_fail_after` (events, then an `error`
event) and `stream_reset` (the connection dropped instead; alone: after the first event).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import orjson
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

from ..kit import auth
from ..kit.app import EmulatorApp
from ..kit.asgi import Headers, Receive, Scope, Send, abort_connection, send_bytes, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.limits import RateLimit
from ..kit.markers import marker_of
from ..kit.records import form_fields, json_fields
from ..kit.scenarios import ScenarioTable
from ..kit.signed_urls import Refusal
from . import errors as E
from .answers import CUT, Answers, StreamPlan
from .files import PREFIX as FILE_PREFIX
from .files import FileStore
from .params import (
    EDIT_FIELDS,
    MODERATION_MARKER,
    VARIATION_FIELDS,
    Job,
    Upload,
    edit_job,
    generation_job,
    variation_job,
)

API_ROUTES = {
    "/v1/images/generations": "generate",
    "/v1/images/edits": "edit",
    "/v1/images/variations": "variation",
}
KINDS = ("generate", "edit", "variation", "file")
PAID = ("generate", "edit", "variation")
STREAM_SWITCHES = ("stream_reset",)
STREAM_NUMBERS = ("stream_interval", "stream_fail_after")
RULES = FaultRules(
    KINDS,
    switches=("as_url", *STREAM_SWITCHES),
    markers=(MODERATION_MARKER,),
    numbers=STREAM_NUMBERS,
)
REDACTED_HEADERS = {"authorization", "api-key", "x-api-key", "cookie", "proxy-authorization"}
_FILE_FIELDS = {"edit": ("image", "image[]", "mask"), "variation": ("image", "image[]")}


class OpenAIApp(EmulatorApp):
    """The whole emulator as one ASGI callable; state lives on the instance (one per server).

    An emulator of an API with OpenAI's bodies behind other paths and auth (Azure's) subclasses
    it: its request kinds and switches (`FAULT_RULES`, `PAID_KINDS`), and the hooks
    `_authenticate`, `job_fields` (the fields a job is built from), `refusal` (a marker's
    answer) and `rate_limited`."""

    FAULT_RULES: ClassVar[FaultRules] = RULES
    PAID_KINDS: ClassVar[tuple[str, ...]] = PAID

    def __init__(
        self,
        api_key: str = "sk-emulator",
        latency: float = 0.0,
        url_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
        rate_limit: int | None = None,
        scenarios: ScenarioTable | None = None,
        strict: bool = False,
        partial_interval: float = 0.05,
    ) -> None:
        super().__init__(api_key, self.FAULT_RULES, self.PAID_KINDS, scenarios or {}, strict)
        self.latency = latency
        self.partial_interval = partial_interval  # seconds before each event of a stream
        self.clock = clock
        self.files = FileStore(url_ttl, clock=clock)
        self.answers = Answers(self.files, clock)
        self.rate = RateLimit(rate_limit)
        self.auth_failures = 0
        self.last_request: dict[str, Any] | None = None

    @property
    def images(self) -> Any:
        return self.answers.images

    @images.setter
    def images(self, images: Any) -> None:  # the benchmark serves fixed images
        self.answers.images = images

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        path, method = scope["path"], scope["method"]
        kind = API_ROUTES.get(path)
        if kind is not None:
            return kind if method == "POST" else None
        return "file" if path.startswith(FILE_PREFIX) and method == "GET" else None

    def error_body(self, status: int, message: str) -> Any:
        return E.APIError(status, message).body()

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    def response_headers(self) -> Headers:
        return [(b"x-request-id", new_request_id().encode())]

    def provider_stats(self) -> dict[str, Any]:
        return {"auth_failures": self.auth_failures, "last_request": self.last_request}

    def provider_reset(self) -> None:
        self.auth_failures = 0
        self.last_request = None
        self.rate.clear()

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        rid = new_request_id()
        if kind is None:
            error = E.invalid_url(scope["method"], scope["path"])
            await send_json(send, error.status, error.body(), [(b"x-request-id", rid.encode())])
            return
        self.last_request = {"path": scope["path"], "headers": visible_headers(scope["headers"])}
        if kind == "file":
            await self._file(scope, send, rid, fault)
            return
        if self.latency:
            await asyncio.sleep(self.latency)
        request = Request(scope, receive)
        response = await self._api(kind, request, rid, fault)
        await response(scope, receive, send)

    # --- the API -------------------------------------------------------------------------------

    async def _api(
        self, kind: str, request: Request, rid: str, fault: Fault | None
    ) -> Response | EventStream:
        try:
            self._authenticate(request.scope)
            wait = self.rate.take()
            if wait is not None:
                raise self.rate_limited(wait)
            if kind == "generate":
                try:
                    payload = orjson.loads(await request.body())
                except orjson.JSONDecodeError:
                    raise E.invalid_json() from None
                self._record(request, "json", payload, json_fields(payload))
                job = generation_job(self.job_fields(request.scope, payload))
            else:
                job = await self._multipart_job(kind, request)
            refused = self.refusal(marker_of(job.prompt, self.rules.markers, fault), rid, job)
            if refused is not None:
                raise refused
            self.log.submitted()
            if job.stream:
                plan = StreamPlan.of(self.partial_interval, fault)
                return EventStream(self.answers.events(job, plan, fault), rid)
            base = f"{request.url.scheme}://{request.url.netloc}"
            body = await self.answers.body(job, base, fault)
            return Response(
                orjson.dumps(body), media_type="application/json", headers={"x-request-id": rid}
            )
        except E.APIError as exc:
            return Response(
                orjson.dumps(exc.body()),
                exc.status,
                media_type="application/json",
                headers={**exc.headers, "x-request-id": rid},
            )

    def job_fields(self, scope: Scope, fields: Any) -> Any:
        """The request's fields (a JSON body, or a form's text fields) a job is built from,
        once recorded as sent. OpenAI: as they are."""
        return fields

    def refusal(self, marker: str | None, rid: str, job: Job) -> E.APIError | None:
        """The answer to a prompt marker (or a fault's `marker`) instead of the images: the
        safety system's 400. An answer with status 200 is rendered as it is."""
        if marker == MODERATION_MARKER:
            return E.content_policy(rid, job.spec.gpt)
        return None

    def rate_limited(self, wait: float) -> E.APIError:
        return E.rate_limited(wait)

    def _authenticate(self, scope: Scope) -> None:
        presented = auth.bearer(scope, self.api_key)
        if self.last_request is not None and "authorization" in self.last_request["headers"]:
            self.last_request["headers"]["authorization"] = (
                "<redacted; matched>" if presented.ok else "<redacted; did not match>"
            )
        if not presented.ok:
            self.auth_failures += 1
            raise E.unauthorized(presented.key)

    def _record(self, request: Request, name: str, value: Any, fields: dict[str, Any]) -> None:
        if self.last_request is not None:
            self.last_request[name] = value
        self.log.record(request.method, request.url.path, fields)

    async def _multipart_job(self, kind: str, request: Request) -> Job:
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise E.bad_request(
                f"Invalid Content-Type header ({content_type or 'none'}), "
                "expected multipart/form-data.",
                None,
                None,
            )
        try:
            form = await request.form(max_files=64, max_fields=64)
        except MultiPartException as exc:
            raise E.bad_request(
                f"Could not parse the multipart form: {exc.message}", None, None
            ) from None
        try:
            names = [name for name, _ in form.multi_items()]
            self._record(request, "form", names, await form_fields(form))
            values: dict[str, Any] = {}
            images: list[Upload] = []
            mask: Upload | None = None
            file_fields = _FILE_FIELDS[kind]
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if name not in file_fields:
                        known = EDIT_FIELDS if kind == "edit" else VARIATION_FIELDS
                        raise (
                            E.invalid_type(name, "a string", value)
                            if name in known
                            else E.unrecognized_argument(name)
                        )
                    upload = Upload(
                        name, value.content_type or "application/octet-stream", await value.read()
                    )
                    if name == "mask":
                        mask = upload
                    else:
                        images.append(upload)
                elif name in file_fields:
                    raise E.invalid_type(name.removesuffix("[]"), "a file", value)
                else:
                    values[name] = value
            if self.last_request is not None:
                self.last_request["form_values"] = dict(values)
            values = self.job_fields(request.scope, values)
            return (
                edit_job(values, images, mask) if kind == "edit" else variation_job(values, images)
            )
        finally:
            await form.close()

    async def _file(self, scope: Scope, send: Send, rid: str, fault: Fault | None) -> None:
        name = scope["path"][len(FILE_PREFIX) :]
        request = Request(scope)
        result = self.files.get(name, request.query_params)
        headers = [(b"x-request-id", rid.encode())]
        if isinstance(result, Refusal):
            await result.send(send, headers)
            return
        if fault is not None and fault.fake_image is not None:
            result = fault.fake_image  # still claimed to be a PNG
        await send_bytes(send, 200, result, [(b"content-type", b"image/png"), *headers])


class EventStream:
    """A `text/event-stream` answer sent frame by frame as `frames` yields them (nothing held);
    a `CUT` frame drops the connection there."""

    def __init__(self, frames: AsyncIterator[bytes], rid: str) -> None:
        self.frames = frames
        self.rid = rid

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-request-id", self.rid.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        async for frame in self.frames:
            if frame == CUT:
                await abort_connection(send, receive, started=True)
                return
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def new_request_id() -> str:
    return "req_" + os.urandom(16).hex()


def visible_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        out[name] = "<redacted>" if name in REDACTED_HEADERS else raw_value.decode("latin-1")
    return out
