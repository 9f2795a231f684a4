"""The emulator's ASGI app: routing, auth, fault application, and the image responses.

A plain ASGI callable rather than a framework app: the fault injector needs uvicorn's own `send`
(to reach the connection's transport for resets) and the hot path stays a dict lookup.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from . import errors as E
from .faults import (
    Fault,
    FaultQueue,
    Stats,
    abort_connection,
    fault_response,
    hold_open,
    parse_faults,
)
from .files import BlobError, FileStore
from .images import ImageCache, Rendered, usage
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
FILE_PREFIX = "/_files/"
_FILE_FIELDS = {"edit": ("image", "image[]", "mask"), "variation": ("image", "image[]")}


class EmulatorApp:
    """The whole emulator as one ASGI callable; state lives on the instance (one per server)."""

    def __init__(
        self,
        api_key: str = "sk-emulator",
        latency: float = 0.0,
        url_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_key = api_key.encode()
        self.latency = latency
        self.clock = clock
        self.files = FileStore(url_ttl, clock=clock)
        self.images = ImageCache()
        self.faults = FaultQueue()
        self.stats = Stats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    def _closing_event(self) -> asyncio.Event:
        if self._closing is None:  # no lifespan (e.g. an in-process ASGI client)
            self._closing = asyncio.Event()
        return self._closing

    def release_stalled(self) -> None:
        """Thread-safe: abort stalled connections so the server can shut down promptly."""
        if self._loop is not None and self._closing is not None:
            try:
                self._loop.call_soon_threadsafe(self._closing.set)
            except RuntimeError:  # the loop is already closed: nothing left to release
                pass

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._loop, self._closing = asyncio.get_running_loop(), asyncio.Event()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = "req_" + os.urandom(16).hex()
        path, method = scope["path"], scope["method"]
        kind = API_ROUTES.get(path)
        if kind is None and path.startswith(FILE_PREFIX):
            kind = "file"
        if kind is not None and method == ("GET" if kind == "file" else "POST"):
            await self._endpoint(kind, scope, receive, send, rid)
            return
        if path.startswith("/_emulator/"):
            response = await self._control(method, path, Request(scope, receive), rid)
        else:
            response = _error(E.invalid_url(method, path), rid)
        await response(scope, receive, send)

    async def _endpoint(
        self, kind: str, scope: Scope, receive: Receive, send: Send, rid: str
    ) -> None:
        record = self.stats.begin(kind, scope["path"], scope["headers"])
        try:
            extra_headers: dict[str, str] = {}
            fault = self.faults.take(kind)
            switches: Fault | None = None  # a fault that shapes the normal answer
            if fault is not None:
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.reset:
                    await abort_connection(send, receive)
                    return
                if fault.stall:
                    await hold_open(send, receive, self._closing_event())
                    return
                if fault.status is not None:
                    await fault_response(fault, rid)(scope, receive, send)
                    return
                extra_headers, switches = fault.headers, fault
            request = Request(scope, receive)
            if kind == "file":
                response = self._file(request, rid, switches)
            else:
                if self.latency:
                    await asyncio.sleep(self.latency)
                response = await self._api(kind, request, record, rid, switches)
            response.headers.update(extra_headers)
            await response(scope, receive, send)
        except ClientDisconnect:
            return  # the caller left mid-body (a gateway stopping): nobody to answer
        finally:
            self.stats.end()

    async def _api(
        self,
        kind: str,
        request: Request,
        record: dict[str, Any],
        rid: str,
        switches: Fault | None = None,
    ) -> Response:
        try:
            self._authenticate(request, record)
            if kind == "generate":
                body = await request.body()
                try:
                    payload = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raise E.invalid_json() from None
                record["json"] = payload
                job = generation_job(payload)
            else:
                job = await self._multipart_job(kind, request, record)
            if MODERATION_MARKER in job.prompt:
                raise E.content_policy(rid, job.spec.gpt)
            if job.stream:
                headers = {"x-request-id": rid, "cache-control": "no-cache"}
                return StreamingResponse(
                    self._events(job), media_type="text/event-stream", headers=headers
                )
            return await self._result(job, request, rid, switches)
        except E.APIError as exc:
            return _error(exc, rid)

    def _authenticate(self, request: Request, record: dict[str, Any]) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip() if scheme.lower() == "bearer" else ""
        ok = bool(key) and hmac.compare_digest(key.encode(), self.api_key)
        if "authorization" in record["headers"]:
            record["headers"]["authorization"] = (
                "<redacted; matched>" if ok else "<redacted; did not match>"
            )
        if not ok:
            self.stats.auth_failures += 1
            raise E.unauthorized(key)

    async def _multipart_job(self, kind: str, request: Request, record: dict[str, Any]) -> Job:
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
            values: dict[str, Any] = {}
            images: list[Upload] = []
            mask: Upload | None = None
            names: list[str] = []
            file_fields = _FILE_FIELDS[kind]
            for name, value in form.multi_items():
                names.append(name)
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
            record["form"] = names
            record["form_values"] = dict(values)
            return (
                edit_job(values, images, mask) if kind == "edit" else variation_job(values, images)
            )
        finally:
            await form.close()

    async def _result(
        self, job: Job, request: Request, rid: str, switches: Fault | None = None
    ) -> Response:
        body: dict[str, Any] = {"created": int(self.clock())}
        as_url = switches is not None and switches.as_url
        fake = switches.fake_image if switches is not None else None
        base = f"{request.url.scheme}://{request.url.netloc}"
        if job.spec.gpt:
            image = await self.images.get(
                job.width, job.height, job.output_format, job.transparent, job.compression
            )
            if fake is not None:
                image = Rendered(fake, base64.b64encode(fake).decode("ascii"))
            body["data"] = [
                {"url": base + self.files.put(image.data)} if as_url else {"b64_json": image.b64}
                for _ in range(job.n)
            ]
            body.update(_gpt_fields(job))
            body["usage"] = usage(job.prompt, job.quality, job.width, job.height, job.n, job.inputs)
        else:
            image = await self.images.get(job.width, job.height)
            if fake is not None:
                image = Rendered(fake, base64.b64encode(fake).decode("ascii"))
            items: list[dict[str, Any]] = []
            for _ in range(job.n):
                item = (
                    {"url": base + self.files.put(image.data)}
                    if job.response_format == "url" or as_url
                    else {"b64_json": image.b64}
                )
                if job.spec.family == "dall-e-3":
                    item["revised_prompt"] = (
                        f"A detailed, high-quality illustration of: {job.prompt}"
                    )
                items.append(item)
            body["data"] = items
        return Response(
            orjson.dumps(body), media_type="application/json", headers={"x-request-id": rid}
        )

    async def _events(self, job: Job) -> AsyncIterator[bytes]:
        prefix = "image_generation" if job.kind == "generate" else "image_edit"
        fields = _gpt_fields(job)
        final = await self.images.get(
            job.width, job.height, job.output_format, job.transparent, job.compression
        )
        for _ in range(job.n):
            for index in range(job.partial_images):
                partial = await self.images.get(
                    job.width,
                    job.height,
                    job.output_format,
                    job.transparent,
                    job.compression,
                    variant=1,
                )
                yield _sse(
                    f"{prefix}.partial_image",
                    {
                        "partial_image_index": index,
                        "b64_json": partial.b64,
                        "created_at": int(self.clock()),
                        **fields,
                    },
                )
            job_usage = usage(
                job.prompt, job.quality, job.width, job.height, 1, job.inputs, job.partial_images
            )
            yield _sse(
                f"{prefix}.completed",
                {
                    "b64_json": final.b64,
                    "created_at": int(self.clock()),
                    **fields,
                    "usage": job_usage,
                },
            )
        yield b"data: [DONE]\n\n"

    def _file(self, request: Request, rid: str, switches: Fault | None = None) -> Response:
        name = request.url.path[len(FILE_PREFIX) :]
        result = self.files.get(
            name, request.query_params.get("se", ""), request.query_params.get("sig", "")
        )
        if isinstance(result, BlobError):
            headers = {"x-request-id": rid, "x-ms-error-code": result.code}
            return Response(
                result.xml(), result.status, headers=headers, media_type="application/xml"
            )
        if switches is not None and switches.fake_image is not None:
            result = switches.fake_image  # still claimed to be a PNG
        return Response(result, media_type="image/png", headers={"x-request-id": rid})

    async def _control(self, method: str, path: str, request: Request, rid: str) -> Response:
        route = (method, path.removeprefix("/_emulator/"))
        if route == ("POST", "faults"):
            try:
                faults = parse_faults(orjson.loads(await request.body()))
            except ValueError as exc:  # includes orjson.JSONDecodeError
                return _json(
                    {"error": {"message": str(exc), "type": "invalid_request_error"}}, rid, 400
                )
            self.faults.add(faults)
            return _json({"queued": len(self.faults)}, rid)
        if route == ("GET", "faults"):
            return _json({"faults": [asdict(f) for f in self.faults.pending()]}, rid)
        if route == ("DELETE", "faults"):
            self.faults.clear()
            return _json({"queued": 0}, rid)
        if route == ("GET", "stats"):
            return _json(self.stats.snapshot(len(self.faults)), rid)
        if route == ("POST", "reset"):
            self.stats.reset()
            self.faults.clear()
            return _json({"reset": True}, rid)
        return _error(E.invalid_url(method, path), rid)


def _gpt_fields(job: Job) -> dict[str, Any]:
    return {
        "background": "transparent" if job.transparent else "opaque",
        "output_format": job.output_format,
        "quality": job.quality,
        "size": job.size,
    }


def _sse(event: str, payload: dict[str, Any]) -> bytes:
    return (
        b"event: "
        + event.encode()
        + b"\ndata: "
        + orjson.dumps({"type": event, **payload})
        + b"\n\n"
    )


def _json(body: Any, rid: str, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body), status, media_type="application/json", headers={"x-request-id": rid}
    )


def _error(exc: E.APIError, rid: str) -> Response:
    return _json(exc.body(), rid, exc.status)
