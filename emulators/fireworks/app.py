"""The Fireworks emulator's app on the kit: FLUX.1 [schnell]'s synchronous workflow and FLUX.1
Kontext's BFL-style tasks, Bearer auth, the result host; faults, counters and the control
surface are the kit's.

Routes (under `/inference/v1/workflows/accounts/fireworks/models/`):
- `flux-1-schnell-fp8/text_to_image` (kind `generate`): JSON `{prompt, aspect_ratio, seed,
  guidance_scale, num_inference_steps}`; by `Accept`, the image's bytes (`image/png`,
  `image/jpeg`) or `{"id", "base64": [data URI], "finishReason", "seed"}`;
- `flux-kontext-pro`, `flux-kontext-max` (kind `submit`): BFL's Kontext body, validated by the
  BFL emulator's own schema (`emulators.bfl.schemas`), answered `{"request_id"}`;
- `<model>/get_result` (kind `poll`): POST `{"id"}`, BFL's statuses; a task polled at another
  model's URL is "Task not found";
- the second listener serves result samples (kind `result`): signed URLs, expiring with the
  book's retention.

Prompt markers: `[filtered]` (schnell: `finishReason: CONTENT_FILTERED`, no image, [UNVERIFIED];
Kontext: `Content Moderated`); Kontext: `[moderate-request]`, `[moderate-content]`, `[error]`,
`[never-ready]`, as BFL's.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson
from pydantic import ValidationError

from ..bfl.schemas import FluxKontextProInputs
from ..kit import auth
from ..kit.app import EmulatorApp
from ..kit.asgi import Receive, Scope, Send, read_body, send_bytes, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.jobs import Job, JobBook, JobSwitches
from ..kit.limits import RateLimit
from ..kit.markers import marker_of
from ..kit.placeholder import Look
from ..kit.records import json_fields
from ..kit.scenarios import ScenarioTable
from . import errors as E

MODELS = "/inference/v1/workflows/accounts/fireworks/models/"
SCHNELL = "flux-1-schnell-fp8"
KONTEXT = ("flux-kontext-pro", "flux-kontext-max")
RATIOS = {
    "1:1": (1024, 1024),
    "21:9": (1568, 672),
    "16:9": (1344, 768),
    "3:2": (1216, 832),
    "5:4": (1152, 928),
    "4:5": (928, 1152),
    "2:3": (832, 1216),
    "9:16": (768, 1344),
    "9:21": (672, 1568),
}
SCHNELL_FIELDS = ("prompt", "aspect_ratio", "seed", "guidance_scale", "num_inference_steps")
KINDS = ("generate", "submit", "poll", "result")
PAID = ("generate", "submit")
FILTERED = "[filtered]"
KONTEXT_MARKERS = ("[moderate-request]", "[moderate-content]", "[error]", "[never-ready]")
RULES = FaultRules(KINDS, markers=(FILTERED, *KONTEXT_MARKERS))
SWITCHES = JobSwitches(
    generation_seconds=0.3,
    retention=600.0,
    retention_help="seconds a sample URL stays valid after the task finished",
)
RESULTS = "/results/"


@dataclass(kw_only=True)
class Task(Job):
    model: str
    width: int
    height: int
    fmt: str
    seed: int
    marker: str | None


class FireworksApp(EmulatorApp):
    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        queue_seconds: float | None = None,
        generation_seconds: float | None = None,
        retention: float | None = None,
        rate_limit: int | None = None,
    ) -> None:
        super().__init__(api_key, RULES, PAID, scenarios, strict)
        self.book: JobBook[Task] = JobBook(
            SWITCHES,
            queue_seconds=queue_seconds,
            generation_seconds=generation_seconds,
            retention=retention,
            look=Look("Fireworks emulator", (92, 40, 160), (250, 170, 60), block="corner"),
        )
        self.rate = RateLimit(rate_limit)
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        path = scope["path"]
        if self.on_poll_listener(scope):
            return "result" if path.startswith(RESULTS) else None
        if scope["method"] != "POST" or not path.startswith(MODELS):
            return None
        rest = path[len(MODELS) :]
        if rest == f"{SCHNELL}/text_to_image":
            return "generate"
        if rest in KONTEXT:
            return "submit"
        if rest.endswith("/get_result") and rest.removesuffix("/get_result") in KONTEXT:
            return "poll"
        return None

    def error_body(self, status: int, message: str) -> Any:
        return E.body(message)

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    def provider_stats(self) -> dict[str, Any]:
        keys = ("auth_failures", "filtered", "moderated", "results_served")
        return {
            **{key: self.counts.get(key, 0) for key in keys},
            "result_requests_with_key": self.counts.get("result_requests_with_key", 0),
            "tasks": len(self.book),
        }

    def provider_reset(self) -> None:
        with self._lock:
            self.counts.clear()
        self.book.clear()
        self.rate.clear()

    def count(self, key: str) -> None:
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + 1

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind == "result":
            await self._serve_result(scope, send, fault)
            return
        if kind is None:
            await read_body(receive)
            await send_json(send, 404, E.body("Model not found", "not_found"))
            return
        try:
            raw = await read_body(receive)
            if not auth.bearer(scope, self.api_key).ok:
                self.count("auth_failures")
                raise E.unauthorized()
            if kind in PAID:
                wait = self.rate.take()
                if wait is not None:
                    raise E.rate_limited(wait)
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise E.bad_request("request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise E.bad_request("request body must be a JSON object")
            self.log.record("POST", scope["path"], json_fields(body))
            if kind == "generate":
                await self._generate(scope, send, body, fault)
            elif kind == "submit":
                await self._submit(scope, send, body, fault)
            else:
                await self._poll(scope, send, body)
        except E.FireworksError as exc:
            await exc.send(send)

    # --- FLUX.1 [schnell]: one synchronous call -------------------------------------------------

    async def _generate(
        self, scope: Scope, send: Send, body: dict[str, Any], fault: Fault | None
    ) -> None:
        unknown = [name for name in body if name not in SCHNELL_FIELDS]
        if unknown and self.strict:
            raise E.bad_request(f"unknown field: {unknown[0]}")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise E.bad_request("prompt: field required")
        ratio = body.get("aspect_ratio", "16:9")
        if ratio not in RATIOS:
            raise E.bad_request(f"aspect_ratio: must be one of {', '.join(RATIOS)}")
        seed = body.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise E.bad_request("seed: must be a non-negative integer")
        steps = body.get("num_inference_steps", 4)
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 50:
            raise E.bad_request("num_inference_steps: must be an integer from 1 to 50")
        guidance = body.get("guidance_scale", 3.5)
        if isinstance(guidance, bool) or not isinstance(guidance, int | float) or guidance < 0:
            raise E.bad_request("guidance_scale: must be a non-negative number")
        accept = (auth.header(scope, "accept") or "application/json").lower()
        marker = marker_of(prompt, RULES.markers, fault)
        self.log.submitted()  # accepted: Fireworks bills it
        width, height = RATIOS[ratio]
        filtered = marker == FILTERED
        if filtered:
            self.count("filtered")
        if accept.startswith("image/"):
            fmt = "jpeg" if accept == "image/jpeg" else "png"
            data = fault.fake_image if fault is not None and fault.fake_image else None
            if data is None:
                data = await self.book.image(width, height, fmt, black=filtered)
            reason = b"CONTENT_FILTERED" if filtered else b"SUCCESS"
            headers = [
                (b"content-type", f"image/{fmt}".encode()),
                (b"finish-reason", reason),
                (b"seed", str(seed).encode()),
            ]
            await send_bytes(send, 200, data, headers)
            return
        images: list[str] = []
        if not filtered:
            data = await self.book.image(width, height, "png")
            images.append("data:image/png;base64," + base64.b64encode(data).decode())
        answer = {
            "id": self.book.new_id(),
            "base64": images,
            "finishReason": "CONTENT_FILTERED" if filtered else "SUCCESS",
            "seed": seed,
        }
        await send_json(send, 200, answer)

    # --- FLUX.1 Kontext: BFL's tasks -----------------------------------------------------------

    async def _submit(
        self, scope: Scope, send: Send, body: dict[str, Any], fault: Fault | None
    ) -> None:
        model = scope["path"][len(MODELS) :]
        if self.strict:
            unknown = [n for n in body if n not in FluxKontextProInputs.model_fields]
            if unknown:
                raise E.bad_request(f"unknown field: {unknown[0]}")
        try:
            inputs = FluxKontextProInputs.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise E.bad_request(f"{where}: {first['msg']}") from None
        width, height = RATIOS.get(inputs.aspect_ratio or "1:1", (1024, 1024))
        marker = marker_of(inputs.prompt, RULES.markers, fault)
        if marker == FILTERED:  # the HTTP-200 refusal of a task: its output moderated
            marker = "[moderate-content]"
        self.log.submitted()
        task = self.book.create(
            Task,
            model=model,
            width=width,
            height=height,
            fmt=str(inputs.output_format.value if inputs.output_format else "png"),
            seed=inputs.seed if inputs.seed is not None else 42,
            marker=marker,
            never=marker == "[never-ready]",
        )
        await send_json(send, 200, {"request_id": task.id})

    async def _poll(self, scope: Scope, send: Send, body: dict[str, Any]) -> None:
        model = scope["path"][len(MODELS) :].removesuffix("/get_result")
        task_id = body.get("id")
        task = self.book.get(task_id) if isinstance(task_id, str) else None
        if task is None or task.model != model:
            await send_json(send, 200, {"id": task_id, "status": "Task not found"})
            return
        now = self.book.clock()
        status, result = "Pending", None
        if task.marker == "[moderate-request]":
            status = "Request Moderated"
        elif task.phase(now) == "done":
            if task.marker == "[moderate-content]":
                status = "Content Moderated"
            elif task.marker == "[error]":
                status = "Error"
            else:
                status = "Ready"
                expires = task.finished_at() + self.book.retention
                name = f"{task.id}.{task.fmt}"
                params = {"w": task.width, "h": task.height}
                sample = self.book.urls.make(self.book.file_base, RESULTS, name, expires, params)
                result = {"sample": sample, "seed": task.seed}
        if status in ("Request Moderated", "Content Moderated"):
            self.count("moderated")
        answer: dict[str, Any] = {
            "id": task.id,
            "status": status,
            "result": result,
            "progress": task.progress(now) if status == "Pending" else None,
            "details": {"error": "generation failed"} if status == "Error" else None,
        }
        await send_json(send, 200, answer)

    async def _serve_result(self, scope: Scope, send: Send, fault: Fault | None) -> None:
        if auth.header(scope, "authorization") is not None:
            self.count("result_requests_with_key")
        name = scope["path"][len(RESULTS) :]
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
        refusal = self.book.urls.check(name, query, ("w", "h"))
        if refusal is not None:
            await refusal.send(send)
            return
        fmt = name.rpartition(".")[2]
        fmt = fmt if fmt in ("png", "jpeg", "webp") else "png"
        data = fault.fake_image if fault is not None and fault.fake_image else None
        if data is None:
            data = await self.book.image(int(query["w"]), int(query["h"]), fmt)
        self.count("results_served")
        await send_bytes(send, 200, data, [(b"content-type", f"image/{fmt}".encode())])
