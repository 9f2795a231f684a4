"""The fal emulator's app on the kit: the queue's routes, `Authorization: Key` auth, requests,
result files and fal's error shapes; faults, counters, the rate limit, file serving and the
control surface are the kit's (`kit/job_app.py`).

Request kinds (what a fault's `match` names): `submit` (the paid one: `POST /{endpoint id}`),
`status` (`GET /{owner}/{app}/requests/{id}/status`), `result` (`GET /{owner}/{app}/requests/
{id}`), `cancel` (`PUT .../requests/{id}/cancel`) and `file` (an image, on the second listener).
A status, result or cancel URL built by hand from the whole endpoint id (`/fal-ai/flux/dev/
requests/...`) is a 404, counted as `hand_built_urls`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import orjson

from ..kit import auth
from ..kit.asgi import Receive, Scope, Send, read_body, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.job_app import JobApp
from ..kit.markers import marker_of
from ..kit.records import json_fields
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .catalog import PRESETS, check_input, find
from .queue import MARKERS, MIME, PREFIX, Book, Request, size_of

KINDS = ("submit", "status", "result", "cancel", "file")
RULES = FaultRules(KINDS, markers=MARKERS)
REQUEST_PATH = re.compile(
    r"^/(?P<app>.+?)/requests/(?P<id>[A-Za-z0-9-]+)(?P<tail>/status|/cancel)?$"
)


class FalApp(JobApp):
    COUNTERS = ("auth_failures", "hand_built_urls", "files_served", "file_requests_with_key",
                "cancels", "result_reads", "expired_results")  # fmt: skip
    FILE_SIGNED = ("w", "h", "f", "b")  # b=1: a moderated (black) image
    book: Book

    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        queue_seconds: float = 0.0,
        generation_seconds: float = 0.3,
        retention: float = 3600.0,
        large_retention: float = 360.0,
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        book = Book(queue_seconds, generation_seconds, retention, large_retention, clock)
        super().__init__(
            api_key, RULES, ("submit",), scenarios, strict, book=book, rate_limit=rate_limit
        )

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        path, method = scope["path"], scope["method"]
        if self.on_poll_listener(scope):
            return "file" if path.startswith(PREFIX) and method == "GET" else None
        found = REQUEST_PATH.match(path)
        if found is None:
            return "submit" if method == "POST" else None
        tail = found["tail"]
        if tail == "/status" and method == "GET":
            return "status"
        if tail == "/cancel" and method == "PUT":
            return "cancel"
        return "result" if tail is None and method == "GET" else None

    def error_body(self, status: int, message: str) -> Any:
        return {"detail": message}

    def fault_body(self, status: int) -> Any:
        return E.body_for(status)

    async def file_image(self, width: int, height: int, fmt: str, query: dict[str, str]) -> bytes:
        return await self.book.image(width, height, fmt, query.get("b") == "1")

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        try:
            if kind == "file":
                await self.serve_file(scope, send, fault, PREFIX, MIME)
                return
            raw = await read_body(receive)
            if kind is None:
                raise E.FalError(404, {"detail": "Not Found"})
            self._authenticate(scope)
            if kind == "submit":
                await self._submit(scope, raw, send, fault)
                return
            request = self._request(scope)
            if kind == "status":
                status, body = self.book.status(request)
            elif kind == "cancel":
                self.count("cancels")
                status, body = self.book.cancel_answer(request)
            else:
                status, body = await self._result(request)
            await send_json(send, status, body, [(b"x-fal-request-id", request.id.encode())])
        except E.FalError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    def _authenticate(self, scope: Scope) -> None:
        """`Authorization: Key <FAL_KEY>` (fal-js `request.ts`)."""
        scheme, _, key = (auth.header(scope, "authorization") or "").partition(" ")
        if scheme != "Key" or not auth.matches(key.strip(), self.api_key):
            self.count("auth_failures")
            raise E.FalError(401, E.body_for(401))

    def _request(self, scope: Scope) -> Request:
        found = REQUEST_PATH.match(scope["path"])
        request = self.book.get(found["id"]) if found else None
        if request is None:
            raise E.FalError(404, {"detail": "Request not found"})
        if found is not None and found["app"] != request.app:
            self.count("hand_built_urls")  # the endpoint's sub-path kept: not fal's URL
            raise E.FalError(404, {"detail": "Not Found"})
        return request

    async def _submit(self, scope: Scope, raw: bytes, send: Send, fault: Fault | None) -> None:
        model = find(scope["path"])
        if model is None:
            raise E.FalError(
                404, {"detail": f"Application '{scope['path'].strip('/')[:80]}' not found"}
            )
        limited = self.rate_limited()
        if limited is not None:
            raise E.FalError(429, E.body_for(429), limited)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise E.FalError(422, {"detail": "Invalid JSON body"}) from None
        self.log.record("POST", scope["path"], json_fields(body))
        data = check_input(model, body, self.strict)
        marker = marker_of(data["prompt"], RULES.markers, fault)
        self.log.submitted()
        image_format = data.get("output_format", model.default_format)
        request = self.book.add(
            model,
            data,
            size=_size(model, data),
            image_format=image_format if image_format in MIME else "png",
            count=int(data.get("num_images", 1)),
            marker=marker,
        )
        answer = self.book.submitted(request)
        await send_json(send, 200, answer, [(b"x-fal-request-id", request.id.encode())])

    async def _result(self, request: Request) -> tuple[int, Any]:
        self.count("result_reads")
        if request.status(self.book.clock()) != "COMPLETED":
            return 400, {"detail": "Request is still in progress"}
        status, body = await self.book.result(request)
        if self.book.expired_result(request, size_of(body)):
            self.count("expired_results")
            return 404, {"detail": "Request not found"}
        return status, body


def _size(model: Any, data: dict[str, Any]) -> tuple[int, int]:
    """The pixel size the request makes."""
    size = data.get("image_size")
    if isinstance(size, str):
        return PRESETS[size]
    if isinstance(size, dict):
        return int(size["width"]), int(size["height"])
    ratio = data.get("aspect_ratio")
    if isinstance(ratio, str) and ":" in ratio:
        w, h = (float(t) for t in ratio.split(":"))
        height = (1024 * 1024 * h / w) ** 0.5
        return max(16, round(height * w / h / 16) * 16), max(16, round(height / 16) * 16)
    if "image_url" in data:
        return _input_size(data["image_url"])
    return model.default_size or (1024, 1024)


def _input_size(value: Any) -> tuple[int, int]:
    """An input image's size (a data: URI), else 1024x1024 (a URL the emulator does not fetch)."""
    import base64
    import io

    from PIL import Image, UnidentifiedImageError

    if isinstance(value, str) and value.startswith("data:"):
        try:
            with Image.open(io.BytesIO(base64.b64decode(value.partition(",")[2]))) as img:
                return img.size
        except (ValueError, UnidentifiedImageError):
            raise E.validation(
                "image_url", "Could not read the image", "image_load_error"
            ) from None
    return 1024, 1024
