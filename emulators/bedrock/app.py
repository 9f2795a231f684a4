"""The Bedrock emulator's app on the kit: InvokeModel's route, SigV4 (or API-key) auth, the
per-model bodies, the answers and Bedrock's error shapes; faults, counters and the control
surface are the kit's (`emulators/kit/app.py`).

One request kind, `invoke` (`POST /model/{modelId}/invoke`, paid). In order: the credentials
(`sigv4.py`, 403s), the model id (400 "The provided model identifier is invalid."), the body
(`bodies.py`, 400 ValidationException), the prompt markers (below), then the answer:
Nova/Titan `{"images": [b64, ...]}`, Stability `{"seeds": [n], "finish_reasons": [null],
"images": [b64]}`, images of the asked (or implied) size and format.

Markers, in the prompt or the negative prompt (or a fault's `marker`):

    [moderate]         Nova/Titan: 400 ValidationException "...blocked by our content
                       filters..."; Stability: 200 {"finish_reasons": ["Filter reason: prompt"]}
    [moderate-output]  the same for the output ("...blocked the generated image(s)...";
                       "Filter reason: output image")
    [inference-error]  Stability: 200 {"finish_reasons": ["Inference error"]}; Nova/Titan: 424
    [model-error]      424 ModelErrorException (originalStatusCode 500)
    [model-timeout]    408 ModelTimeoutException
    [not-ready]        429 ModelNotReadyException
    [access-denied]    403 AccessDeniedException (model access not granted)
    [quota]            400 ServiceQuotaExceededException

A 200 is a submission Bedrock accepted (`submissions` counts it, filtered ones included:
whether Bedrock bills those is [UNVERIFIED]); an error answer is not.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import orjson

from ..kit.app import EmulatorApp
from ..kit.asgi import Headers, Receive, Scope, Send, encode_headers, read_body, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.markers import marker_of
from ..kit.records import json_fields
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .bodies import MODELS, Job, Model, job
from .images import ImageCache
from .sigv4 import Identity, Received, check

KINDS = ("invoke",)
MODERATE, MODERATE_OUTPUT, INFERENCE_ERROR = "[moderate]", "[moderate-output]", "[inference-error]"
MARKER_ERRORS = {
    "[model-error]": lambda: E.BedrockError(
        424, "ModelErrorException", originalStatusCode=500, resourceName="model"
    ),
    "[model-timeout]": lambda: E.BedrockError(408, "ModelTimeoutException"),
    "[not-ready]": lambda: E.BedrockError(429, "ModelNotReadyException"),
    "[access-denied]": lambda: E.BedrockError(403, "AccessDeniedException"),
    "[quota]": lambda: E.BedrockError(400, "ServiceQuotaExceededException"),
}
MARKERS = (MODERATE_OUTPUT, MODERATE, INFERENCE_ERROR, *MARKER_ERRORS)
RULES = FaultRules(KINDS, markers=MARKERS)
PREFIX, SUFFIX = "/model/", "/invoke"


class BedrockApp(EmulatorApp):
    def __init__(
        self,
        identity: Identity,
        scenarios: ScenarioTable,
        strict: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(identity.secret, RULES, KINDS, scenarios, strict)
        self.identity = identity
        self.clock = clock
        self.images = ImageCache()
        self.auth_failures = 0
        self.last_body: dict[str, Any] | None = None  # the last parsed body, whole

    def classify(self, scope: Scope) -> str | None:
        path = scope["path"]
        if scope["method"] == "POST" and path.startswith(PREFIX) and path.endswith(SUFFIX):
            return "invoke"
        return None

    def error_body(self, status: int, message: str) -> Any:
        return {"message": message}

    def fault_body(self, status: int) -> Any:
        return E.for_status(status).body()

    def fault_headers(self, status: int) -> Headers:
        return encode_headers(E.for_status(status).headers()) if status >= 400 else []

    def response_headers(self) -> Headers:
        return [(b"x-amzn-requestid", str(uuid.uuid4()).encode())]

    def provider_stats(self) -> dict[str, Any]:
        return {"auth_failures": self.auth_failures}

    def provider_reset(self) -> None:
        self.auth_failures = 0
        self.last_body = None

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind is None:
            await read_body(receive)
            return await self._error(send, E.BedrockError(404, "UnknownOperationException",
                                                          "Unknown operation"))  # fmt: skip
        body = await read_body(receive)
        try:
            check(_received(scope, body), self.identity, self.clock)
        except E.BedrockError as exc:
            self.auth_failures += 1
            return await self._error(send, exc)
        try:
            answer = await self._invoke(scope, body, fault)
        except E.BedrockError as exc:
            return await self._error(send, exc)
        self.log.submitted()  # accepted: Bedrock bills it
        headers = [*self.response_headers(), (b"x-amzn-bedrock-invocation-latency", b"42")]
        await send_json(send, 200, answer, headers)

    async def _invoke(self, scope: Scope, raw: bytes, fault: Fault | None) -> dict[str, Any]:
        model = MODELS.get(unquote(scope["path"][len(PREFIX) : -len(SUFFIX)]))
        if model is None:
            raise E.invalid(E.INVALID_MODEL)
        content_type = _header(scope, "content-type") or "application/json"
        if not content_type.startswith("application/json"):
            raise E.invalid(f"Content type {content_type} is not supported; use application/json")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise E.invalid(E.MESSAGES["ValidationException"]) from None
        self.log.record("POST", scope["path"], json_fields(body))
        self.last_body = body if isinstance(body, dict) else None
        work = job(model, body, self.strict)
        marker = marker_of(" ".join(work.texts), MARKERS, fault)
        refusal = _refusal(model, marker)
        if refusal is not None:
            if isinstance(refusal, E.BedrockError):
                raise refusal
            return refusal
        return await self._answer(model, work, fault)

    async def _answer(self, model: Model, work: Job, fault: Fault | None) -> dict[str, Any]:
        fake = fault.fake_image if fault is not None else None
        images = []
        for variant in range(work.count):
            if fake is not None:
                images.append(base64.b64encode(fake).decode("ascii"))
            else:
                rendered = await self.images.get(*work.size, work.fmt, variant)
                images.append(rendered.b64)
        if model.family != "stability":
            return {"images": images}
        seed = work.seed if work.seed is not None else 1 + secrets.randbelow(4_294_967_293)
        return {"seeds": [seed], "finish_reasons": [None], "images": images}

    async def _error(self, send: Send, exc: E.BedrockError) -> None:
        headers = [*encode_headers(exc.headers()), *self.response_headers()]
        await send_json(send, exc.status, exc.body(), headers)


def _refusal(model: Model, marker: str | None) -> E.BedrockError | dict[str, Any] | None:
    """The answer a marker asks for: an error, a Stability 200 refusal, or None."""
    if marker is None:
        return None
    if marker in MARKER_ERRORS:
        return MARKER_ERRORS[marker]()
    if model.family == "stability":
        reason = {
            MODERATE: "Filter reason: prompt",
            MODERATE_OUTPUT: "Filter reason: output image",
            INFERENCE_ERROR: "Inference error",
        }[marker]
        return {"finish_reasons": [reason]}  # AWS-DOCS: a filtered answer, nothing else
    if marker == INFERENCE_ERROR:
        return MARKER_ERRORS["[model-error]"]()
    return E.invalid(E.CONTENT_FILTERED if marker == MODERATE else E.OUTPUT_FILTERED)


def _received(scope: Scope, body: bytes) -> Received:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    raw_path = scope.get("raw_path") or scope["path"].encode()
    return Received(
        method=scope["method"],
        scheme=scope.get("scheme", "http"),
        raw_path=raw_path.decode("latin-1") if isinstance(raw_path, bytes) else raw_path,
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
    )


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope["headers"]:
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None
