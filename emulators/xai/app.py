"""The xAI Images emulator's app on the kit: its routes, Bearer auth, request parsing, answers
and error shapes; faults, counters and the control surface are the kit's.

Request kinds (what a fault's `match` names): `generate` and `edit` (the paid ones), `result`
(a download from the result host, the second listener). A fault's `image` replaces the bytes of
a `b64_json` answer (on `generate`/`edit`) or of a `result` download; its `plain_b64` switch
answers `b64_json` without the `data:image/jpeg;base64,` prefix.

Prompt markers: `[moderate]` the 403 "Content violates usage guidelines" (no image, not billed);
`[moderate-image]` an HTTP 200 whose images did not pass moderation (`respect_moderation:
false`, no url or data; billed); `[block]` an HTTP 200 with `block_reason` and no images.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import orjson

from ..kit import auth
from ..kit.asgi import Receive, Scope, Send, read_body, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.markers import marker_of
from ..kit.records import json_fields
from ..kit.results import ResultHostApp
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .params import Job, Lenience, parse_job
from .results import dimensions, result_host

ROUTES = {"/v1/images/generations": "generate", "/v1/images/edits": "edit"}
KINDS = ("generate", "edit", "result")
PAID = ("generate", "edit")
MODERATE, MODERATE_IMAGE, BLOCK = "[moderate]", "[moderate-image]", "[block]"
RULES = FaultRules(KINDS, switches=("plain_b64",), markers=(MODERATE_IMAGE, MODERATE, BLOCK))
# What the emulator says an image cost, USD (illustrative, [3P]: docs.crazyrouter.com and
# docs.laozhang.ai quote $0.02 for grok-imagine-image; atlascloud $0.05 for -quality; fal's
# 2.0 prices by resolution and quality, REFERENCE-MORE §9; $0.07 grok-2-image). An edit also
# pays for each input image (docs.x.ai "Image Overview": "billed for both the input image and
# the generated output image"; $0.002 here [UNVERIFIED]).
PRICES = {"grok-imagine-image": 0.02, "grok-imagine-image-quality": 0.05, "grok-2-image-1212": 0.07}
PRICES_2_0 = {"1k": {"low": 0.04, "medium": 0.06}, "2k": {"low": 0.06, "medium": 0.08}}
INPUT_IMAGE_PRICE = 0.002
TICKS_PER_USD = 10**10  # xai-sdk `cost.py`: 1 tick == 1e-10 USD


class XAIApp(ResultHostApp):
    COUNTERS = (
        *("auth_failures", "silent_fallbacks", "dropped_inputs"),
        *("results_served", "result_requests_with_key"),
    )

    def __init__(
        self,
        api_key: str,
        scenarios: ScenarioTable,
        strict: bool = False,
        url_ttl: float = 3600.0,
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        results = result_host(url_ttl, clock)
        super().__init__(api_key, RULES, PAID, scenarios, strict, results, rate_limit)

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify_api(self, scope: Scope) -> str | None:
        kind = ROUTES.get(scope["path"])
        return kind if kind is not None and scope["method"] == "POST" else None

    def error_body(self, status: int, message: str) -> Any:
        return {"code": E.INVALID_ARGUMENT if status == 400 else E.NOT_FOUND, "error": message}

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    async def handle_api(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind is None:
            await read_body(receive)
            if scope["path"] in ROUTES:
                await E.XAIError(405, E.INVALID_ARGUMENT, "Method Not Allowed").send(send)
            else:
                await send_json(send, 404, self.error_body(404, "Not found"))
            return
        try:
            job = await self._job(kind, scope, receive)
            marker = marker_of(job.prompt, RULES.markers, fault)
            if marker == MODERATE:
                raise E.moderated(job.model)
            self.log.submitted()  # accepted: xAI bills it
            await send_json(send, 200, await self._answer(job, marker, fault))
        except E.XAIError as exc:
            await exc.send(send)

    # --- the API -------------------------------------------------------------------------------

    async def _job(self, kind: str, scope: Scope, receive: Receive) -> Job:
        raw = await read_body(receive)
        scheme, _, key = (auth.header(scope, "authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            self.count("auth_failures")
            raise E.missing_key()
        if not auth.bearer(scope, self.api_key).ok:
            self.count("auth_failures")
            raise E.incorrect_key(key.strip())
        wait = self.rate.take()
        if wait is not None:
            raise E.rate_limited(wait)
        content_type = (auth.header(scope, "content-type") or "").lower()
        if not content_type.startswith("application/json"):
            raise E.not_json_content_type()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise E.not_json(str(exc)) from None
        self.log.record("POST", scope["path"], json_fields(body))
        return parse_job(kind, body, Lenience(self.strict, self.count))

    async def _answer(self, job: Job, marker: str | None, fault: Fault | None) -> dict[str, Any]:
        if marker == BLOCK:
            return {
                "block_reason": "The prompt was flagged by input moderation",
                "data": [],
                "usage": {"cost_in_usd_ticks": 0},
            }
        ratio = job.aspect_ratio
        if ratio is None and job.inputs:  # an edit follows its first image (docs.x.ai)
            ratio = job.inputs[0][0] / job.inputs[0][1]
        width, height = dimensions(job.resolution, ratio)
        revised = "" if job.family == "imagine" else f"A detailed rendering of: {job.prompt}"
        items = []
        for _ in range(job.n):
            item: dict[str, Any] = {"mime_type": "image/jpeg", "revised_prompt": revised}
            if marker == MODERATE_IMAGE:
                item.update(url=None, b64_json=None, respect_moderation=False)
            elif job.response_format == "b64_json":
                data = fault.fake_image if fault is not None else None
                if data is None:
                    data = await self.results.image(width, height, "jpeg")
                b64 = base64.b64encode(data).decode("ascii")
                plain = fault is not None and fault.switch("plain_b64")
                item.update(b64_json=b64 if plain else f"data:image/jpeg;base64,{b64}")
                item["respect_moderation"] = True
            else:
                item.update(url=self.results.url(self.result_base, width, height, "jpeg"))
                item["respect_moderation"] = True
            items.append(item)
        return {"data": items, "usage": {"cost_in_usd_ticks": _ticks(job)}}


def _ticks(job: Job) -> int:
    if job.model == "grok-imagine-image-2.0":
        tier = PRICES_2_0[job.resolution]
        per_image = tier.get(job.quality, tier["medium"])
    else:
        per_image = PRICES[job.model]
    usd = per_image * job.n + INPUT_IMAGE_PRICE * len(job.inputs)
    return round(usd * TICKS_PER_USD)
