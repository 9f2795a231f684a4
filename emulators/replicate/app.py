"""The Replicate emulator's app on the kit: routes, Bearer auth, predictions, output files and
Replicate's error shapes; faults, counters and the control surface are the kit's.

Request kinds (what a fault's `match` names): `create` (the paid one: `POST /v1/models/{owner}/
{name}/predictions` or `POST /v1/predictions`), `get` (`GET /v1/predictions/{id}`), `cancel`
(`POST /v1/predictions/{id}/cancel`) and `file` (an output download, on the second listener).
Switches: `data_uri` (the outputs of the matched creation are `data:` URIs).

Headers of a creation: `Prefer: wait` or `wait=N` (1-60) holds the answer until the prediction
ends or N seconds pass (60 for a bare `wait`); `Cancel-After` (`30s`, `1m`, `1h2m3s`, `1.5s`, or
plain seconds; anything else a 400) sets its deadline. Prompt markers: `[nsfw]`, `[sensitive]`
(failed with Replicate's moderation texts), `[fail]` (failed), `[never]` (never ends by itself).
"""

from __future__ import annotations

import base64
import io
import math
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
from PIL import Image, UnidentifiedImageError

from ..kit import auth
from ..kit.app import EmulatorApp
from ..kit.asgi import Receive, Scope, Send, read_body, send_bytes, send_json, sleep_unless_stopping
from ..kit.faults import Fault, FaultRules
from ..kit.limits import RateLimit
from ..kit.markers import marker_of
from ..kit.records import json_fields
from ..kit.scenarios import ScenarioTable
from ..kit.signed_urls import forbidden
from . import errors as E
from .catalog import MODELS, Model, by_version, check_input
from .predictions import MARKER_ERRORS, MIME, NEVER, PREFIX, Book

KINDS = ("create", "get", "cancel", "file")
RULES = FaultRules(KINDS, switches=("data_uri",), markers=(*MARKER_ERRORS, NEVER))
OFFICIAL = re.compile(r"^/v1/models/([^/]+/[^/]+)/predictions$")
PREDICTION = re.compile(r"^/v1/predictions/([A-Za-z0-9]+)(/cancel)?$")
BODY_FIELDS = {"input", "version", "webhook", "webhook_events_filter", "stream"}
DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|ms|m|s))+$")
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
MAX_WAIT = 60.0  # `Prefer: wait` holds up to 60 s (REPL-PY `models/predictions.py`)


def duration(text: str) -> float | None:
    """Seconds of a `Cancel-After` value, or None when it is not one."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if not DURATION.fullmatch(text):
        return None
    return sum(float(n) * UNITS[unit] for n, unit in DURATION_PART.findall(text))


def prefer_wait(value: str | None) -> float | None:
    """Seconds `Prefer` asks to wait (`wait` or `wait=N`), or None."""
    if value is None:
        return None
    for part in value.split(","):
        name, _, number = part.strip().partition("=")
        if name.strip().lower() == "wait":
            try:
                return min(MAX_WAIT, max(1.0, float(number))) if number else MAX_WAIT
            except ValueError:
                return None
    return None


class ReplicateApp(EmulatorApp):
    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        queue_seconds: float = 0.0,
        generation_seconds: float = 0.5,
        retention: float = 3600.0,
        rate_limit: int | None = None,
        file_auth: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(api_key, RULES, ("create",), scenarios, strict)
        self.book = Book(queue_seconds, generation_seconds, retention, clock)
        self.rate = RateLimit(rate_limit)
        self.file_auth = file_auth
        self.counts: dict[str, int] = {}
        self.create_headers: list[dict[str, str | None]] = []

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        path, method = scope["path"], scope["method"]
        if self.on_poll_listener(scope):
            return "file" if path.startswith(PREFIX) and method == "GET" else None
        if method == "POST" and (OFFICIAL.match(path) or path == "/v1/predictions"):
            return "create"
        found = PREDICTION.match(path)
        if found is not None:
            if found.group(2) and method == "POST":
                return "cancel"
            if not found.group(2) and method == "GET":
                return "get"
        return None

    def error_body(self, status: int, message: str) -> Any:
        return {"title": "Bad request" if status == 400 else "Not found", "detail": message,
                "status": status}  # fmt: skip

    def fault_body(self, status: int) -> Any:
        return E.problem(status)

    def provider_stats(self) -> dict[str, Any]:
        keys = ("auth_failures", "files_served", "file_requests_with_key", "file_refusals",
                "cancels", "held_answers")  # fmt: skip
        stats: dict[str, Any] = {key: self.counts.get(key, 0) for key in keys}
        stats["create_headers"] = list(self.create_headers[-50:])
        return stats

    def provider_reset(self) -> None:
        self.counts.clear()
        self.create_headers.clear()
        self.rate.clear()
        self.book.clear()

    def count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        try:
            if kind == "file":
                await self._file(scope, send, fault)
                return
            raw = await read_body(receive)
            if kind is None:
                raise E.not_found()
            self._authenticate(scope)
            if kind == "create":
                await self._create(scope, raw, send, fault)
                return
            found = PREDICTION.match(scope["path"])
            prediction = self.book.get(found.group(1)) if found else None
            if prediction is None:
                raise E.not_found()
            if kind == "cancel":
                self.count("cancels")
                self.book.cancel(prediction)
            fake = fault.fake_image if fault is not None else None
            await send_json(send, 200, await self.book.answer(prediction, fake))
        except E.ReplicateError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    def _authenticate(self, scope: Scope) -> None:
        """`Authorization: Bearer <token>` (or `Token <token>`, older docs: REFERENCE §3.3)."""
        scheme, _, key = (auth.header(scope, "authorization") or "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or not auth.matches(key.strip(), self.api_key):
            self.count("auth_failures")
            raise E.unauthenticated()

    async def _create(self, scope: Scope, raw: bytes, send: Send, fault: Fault | None) -> None:
        wait = self.rate.take()
        if wait is not None:
            raise E.throttled(wait)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise E.bad_request("The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise E.bad_request("The request body must be a JSON object")
        self.log.record("POST", scope["path"], json_fields(body))
        official = OFFICIAL.match(scope["path"])
        if official is not None:
            model = MODELS.get(official.group(1))
            if model is None or not model.official:
                raise E.not_found()
        else:
            model = by_version(body.get("version"))
        if self.strict and set(body) - BODY_FIELDS:
            extra = sorted(set(body) - BODY_FIELDS)[0]
            raise E.invalid_input(
                "additional_property_not_allowed", "", f"Additional property {extra} is not allowed"
            )
        data = check_input(model, body.get("input"))
        prefer, limit = auth.header(scope, "prefer"), auth.header(scope, "cancel-after")
        self.create_headers.append({"prefer": prefer, "cancel-after": limit})
        cancel_after = None
        if limit is not None:
            cancel_after = duration(limit)
            if cancel_after is None:
                raise E.bad_request(f"Invalid Cancel-After duration: {limit[:40]!r}")
        marker = marker_of(data["prompt"], RULES.markers, fault)
        self.log.submitted()  # accepted: Replicate bills what runs
        prediction = self.book.add(
            model,
            data,
            size=_size(model, data),
            image_format=data.get("output_format", model.default_format),
            count=int(data.get("num_outputs", 1)) if model.output == "list" else 1,
            error=MARKER_ERRORS.get(marker or ""),
            never=marker == NEVER,
            cancel_after=cancel_after,
            data_uri=fault is not None and fault.switch("data_uri"),
        )
        held = prefer_wait(prefer)
        if held is not None:
            self.count("held_answers")
            # The book's clock is wall time, the sleep's monotonic: sleep again until the book
            # says the prediction ended (or the hold is over), so no answer comes a hair early.
            until = self.book.clock() + held
            while not self.stopping.is_set():
                left = min(until - self.book.clock(), self.book.remaining(prediction))
                if left <= 0:
                    break
                await sleep_unless_stopping(left, self.stopping)
        fake = fault.fake_image if fault is not None else None
        await send_json(send, 201, await self.book.answer(prediction, fake))

    async def _file(self, scope: Scope, send: Send, fault: Fault | None) -> None:
        presented = auth.bearer(scope, self.api_key)
        if presented.key:
            self.count("file_requests_with_key")
        if self.file_auth and not presented.ok:
            self.count("file_refusals")
            raise E.unauthenticated()
        name = scope["path"][len(PREFIX) :]
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
        refusal = self.book.urls.check(name, query, ("w", "h", "f"))
        if refusal is None and query.get("f") not in MIME:
            refusal = forbidden("Signed format unknown.")
        if refusal is not None:
            await refusal.send(send)
            return
        image_format = query["f"]
        data = fault.fake_image if fault is not None else None
        if data is None:
            data = await self.book.image(int(query["w"]), int(query["h"]), image_format)
        self.count("files_served")
        await send_bytes(send, 200, data, [(b"content-type", MIME[image_format].encode())])


def _size(model: Model, data: dict[str, Any]) -> tuple[int, int]:
    """The pixel size the prediction makes."""
    if "width" in data and "height" in data and data.get("aspect_ratio") in (None, "custom"):
        return int(data["width"]), int(data["height"])
    if isinstance(data.get("size"), str):
        width, _, height = data["size"].partition("x")
        return int(width), int(height)
    ratio = data.get("aspect_ratio")
    if ratio == "match_input_image" or (ratio is None and "input_image" in data):
        return _input_size(data.get("input_image"))
    megapixels = 0.25 if data.get("megapixels") == "0.25" else 1.0
    terms = ratio.split(":") if isinstance(ratio, str) and ":" in ratio else ["1", "1"]
    w, h = float(terms[0]), float(terms[1])
    height = math.sqrt(megapixels * 1024 * 1024 * h / w)
    return max(16, round(height * w / h / 16) * 16), max(16, round(height / 16) * 16)


def _input_size(value: Any) -> tuple[int, int]:
    """An input image's size (a data: URI), else 1024x1024 (a URL the emulator does not fetch)."""
    if isinstance(value, str) and value.startswith("data:"):
        try:
            with Image.open(io.BytesIO(base64.b64decode(value.partition(",")[2]))) as img:
                return img.size
        except (ValueError, UnidentifiedImageError):
            raise E.invalid_input(
                "invalid_image", "input_image", "input_image: not an image"
            ) from None
    return 1024, 1024
