"""The Seedream (Ark Images API) emulator's app on the kit: its route, Bearer auth, request
parsing, answers and error shapes; faults, counters and the control surface are the kit's.

Request kinds (what a fault's `match` names): `generate` (the paid one: generations and
edits share Ark's one route) and `result` (a download from the result host, the second
listener). A fault's `image` replaces the bytes of a `b64_json` answer or of a `result`
download; its `created_at` switch names the answer's timestamp `created_at` (ARK-PY's
`ImagesResponse`) instead of `created` (what third-party examples show).

Prompt markers: `[moderate]` a 400 `InputTextSensitiveContentDetected` (nothing made, not
billed); `[moderate-image]` a 400 `OutputImageSensitiveContentDetected` (made, then withheld:
counted as a submission [UNVERIFIED whether Ark bills it]); `[moderate-200]` an HTTP 200 whose
`data` entry is `{"error": {"code": "OutputImageSensitiveContentDetected", ...}}` (a group
image's failure form); `[fail-200]` an HTTP 200 with a top-level `error`
(`InternalServiceError`) and no images.

Ark answers `url` results on its object storage (TOS), a host other than its API's (URL
lifetime 24 h [UNVERIFIED], `--url-ttl` here). The emulator's result host (kit/results.py):
`GET /ark-content-generation/<uuid>.<jpeg|png>?se=&w=&h=&sig=` (the format is the extension).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from ..kit import auth
from ..kit.asgi import Receive, Scope, Send, read_body, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.markers import marker_of
from ..kit.placeholder import Look
from ..kit.records import json_fields
from ..kit.results import ResultHost, ResultHostApp
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .params import Job, parse_job

ROUTE = "/api/v3/images/generations"
KINDS = ("generate", "result")
PAID = ("generate",)
MODERATE, MODERATE_IMAGE = "[moderate]", "[moderate-image]"
MODERATE_200, FAIL_200 = "[moderate-200]", "[fail-200]"
RULES = FaultRules(
    KINDS,
    switches=("created_at",),
    markers=(MODERATE_IMAGE, MODERATE_200, MODERATE, FAIL_200),
)
LOOK = Look("Seedream emulator", (34, 28, 48), (236, 196, 120), block="corner")
FORMATS = {"jpeg": "jpeg", "png": "png"}  # output_format -> the file's extension


class SeedreamApp(ResultHostApp):
    COUNTERS = ("auth_failures", "ignored", "results_served", "result_requests_with_key")

    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        url_ttl: float = 86400.0,
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        results = ResultHost(
            "/ark-content-generation/",
            LOOK,
            ttl=url_ttl,
            max_side=8192,
            formats=FORMATS,
            stem=lambda: str(uuid.uuid4()),
            clock=clock,
        )
        super().__init__(api_key, RULES, PAID, scenarios, strict, results, rate_limit)

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify_api(self, scope: Scope) -> str | None:
        return "generate" if (scope["method"], scope["path"]) == ("POST", ROUTE) else None

    def error_body(self, status: int, message: str) -> Any:
        code = "InvalidParameter" if status == 400 else "NotFound"
        return E.body(status, code, message)

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    async def handle_api(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind is None:
            await read_body(receive)
            await send_json(send, 404, E.body(404, "NotFound", "The requested path was not found."))
            return
        try:
            job = await self._job(scope, receive)
            marker = marker_of(job.prompt, RULES.markers, fault)
            if marker == MODERATE:
                raise E.sensitive("InputTextSensitiveContentDetected")
            self.log.submitted()  # accepted: Ark bills it
            if marker == MODERATE_IMAGE:
                raise E.sensitive("OutputImageSensitiveContentDetected")
            await send_json(send, 200, await self._answer(job, marker, fault))
        except E.ArkError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    async def _job(self, scope: Scope, receive: Receive) -> Job:
        raw = await read_body(receive)
        if not auth.bearer(scope, self.api_key).ok:
            self.count("auth_failures")
            raise E.unauthenticated()
        wait = self.rate.take()
        if wait is not None:
            raise E.rate_limited(wait)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise E.invalid("body", "the request body is not valid JSON") from None
        self.log.record("POST", scope["path"], json_fields(body))
        return parse_job(body, self.strict, lambda name: self.count("ignored"))

    async def _answer(self, job: Job, marker: str | None, fault: Fault | None) -> dict[str, Any]:
        stamp = "created_at" if fault is not None and fault.switch("created_at") else "created"
        answer: dict[str, Any] = {"model": job.model, stamp: int(time.time())}
        size = f"{job.width}x{job.height}"
        if marker == FAIL_200:
            error = E.body(500, "InternalServiceError", "The service encountered an error.")
            return {**answer, "data": [], "error": error["error"], "usage": _usage(job, 0)}
        if marker == MODERATE_200:
            error = E.sensitive("OutputImageSensitiveContentDetected").body()["error"]
            return {**answer, "data": [{"error": error}], "usage": _usage(job, 0)}
        if job.response_format == "b64_json":
            data = fault.fake_image if fault is not None else None
            if data is None:
                data = await self.results.image(job.width, job.height, job.output_format)
            item = {"b64_json": base64.b64encode(data).decode("ascii"), "size": size}
        else:
            url = self.results.url(self.result_base, job.width, job.height, job.output_format)
            item = {"url": url, "size": size}
        return {**answer, "data": [item], "usage": _usage(job, 1)}


def _usage(job: Job, made: int) -> dict[str, Any]:
    tokens = made * job.width * job.height // 256  # [UNVERIFIED] Ark's image-token rate
    return {
        "input_images": len(job.inputs),
        "generated_images": made,
        "output_tokens": tokens,
        "total_tokens": tokens,
    }
