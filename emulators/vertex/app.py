"""The Vertex AI emulator's app on the kit: its routes, OAuth and API-key auth, and Google's
error shapes; faults, counters and the control surface are the kit's (`emulators/kit/app.py`).

Routes (REFERENCE-MORE §1.8; python-genai `_api_client.py`):

    POST /token      the service account's token endpoint (`accounts.py`); its key file's
                     `token_uri` points here
    POST /{v1|v1beta1}/projects/{project}/locations/{location}/publishers/google/models/
         {model}:predict
                     `Authorization: Bearer <access token>` issued here and still valid, else
                     401 UNAUTHENTICATED; another project: 403 PERMISSION_DENIED; a model it
                     does not serve: 404 NOT_FOUND
    POST /{v1|v1beta1}/publishers/google/models/{model}:predict
                     express mode: `x-goog-api-key` (or `?key=`), else 400 API_KEY_INVALID

and the same two paths with `:generateContent` for the Gemini image models: the Gemini
emulator's handling (`emulators/gemini/generate.py`, `vertex=True`: `imageConfig.
personGeneration`, `prominentPeople`, `imageOutputOptions` taken; the prompt blocks
`[model-armor]` and `[jailbreak]` added) behind Vertex's paths and auth.

Request kinds (a fault's `match`): `token`, `predict` and `generate` (paid: `submit` matches
both). Its own fault switch `expire_tokens` ends every issued token before the request is
checked (the next call must get a new one). A scenario's Imagen marker on a Gemini call is
played as Gemini's form of it (`GEMINI_FORMS`): Imagen's 400 refusal as a blocked prompt (the
Gemini models have no HTTP-error form), every image filtered as `finishReason IMAGE_SAFETY`.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import time
from typing import Any
from urllib.parse import parse_qs

import orjson

from ..gemini import errors as gemini_errors
from ..gemini import generate as gemini
from ..kit import auth
from ..kit.app import EmulatorApp
from ..kit.asgi import Receive, Scope, Send, read_body, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.limits import RateLimit
from ..kit.markers import marker_of
from ..kit.records import json_fields
from ..kit.scenarios import ScenarioTable
from . import errors as E
from . import imagen
from .accounts import OAuthError, ServiceAccount
from .images import Images

KINDS = ("token", "predict", "generate")
PAID = ("predict", "generate")
RULES = FaultRules(
    KINDS,
    switches=("expire_tokens", gemini.DAILY_QUOTA_SWITCH),
    markers=(*imagen.MARKERS, *gemini.VERTEX_MARKERS),
)
# An Imagen marker a scenario puts on a Gemini call -> Gemini's form of the same refusal.
GEMINI_FORMS = {imagen.MODERATE: gemini.BLOCK_PROMPT, imagen.FILTER_ALL: gemini.IMAGE_SAFETY}
TOKEN_PATH = "/token"  # noqa: S105 - a path, not a password
_PROJECT_PATH = re.compile(
    r"/(v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/publishers/google/models/([^/:]+):(\w+)"
)
_EXPRESS_PATH = re.compile(r"/(v1|v1beta1)/publishers/google/models/([^/:]+):(\w+)")
METHODS = {"predict": "predict", "generateContent": "generate"}


class VertexApp(EmulatorApp):
    def __init__(
        self,
        api_key: str,
        project: str,
        token_ttl: float = 3600.0,
        rate_limit: int | None = None,
        scenarios: ScenarioTable | None = None,
        strict: bool = False,
    ) -> None:
        super().__init__(api_key, RULES, PAID, scenarios or {}, strict)
        self.project = project
        self.account = ServiceAccount(project, api_key, token_ttl, clock=time.time)
        self.rate = RateLimit(rate_limit)
        self.images = Images()
        self.generator = gemini.GenerateContent(self.log, vertex=True, rate_limit=rate_limit)
        self.auth_failures = 0

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        if scope["method"] != "POST":
            return None
        path = scope["path"]
        if path == TOKEN_PATH:
            return "token"
        match = _PROJECT_PATH.fullmatch(path) or _EXPRESS_PATH.fullmatch(path)
        if match is None:
            return None
        return METHODS.get(match.groups()[-1])

    def error_body(self, status: int, message: str) -> Any:
        return E.VertexError(status, message).body()

    def fault_body(self, status: int) -> Any:
        return E.fault_body(status)

    def provider_stats(self) -> dict[str, Any]:
        return {
            "tokens_issued": self.account.grants,
            "token_refusals": self.account.refusals,
            "auth_failures": self.auth_failures,
            **self.generator.stats(),
        }

    def provider_reset(self) -> None:
        self.account.reset()
        self.rate.clear()
        self.generator.reset()
        self.auth_failures = 0

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind is None:
            await read_body(receive)
            error = E.VertexError(404, f"The requested URL {scope['path']} was not found.")
            return await send_json(send, 404, error.body())
        raw = await read_body(receive)
        if kind == "token":
            return await self._token(raw, send)
        try:
            status, answer = await self._api(kind, scope, raw, fault)
        except E.VertexError as exc:
            status, answer = exc.status, exc.body()
        except gemini_errors.GoogleError as exc:
            status, answer = exc.code, exc.body()
        await send_json(send, status, answer)

    # --- the token endpoint --------------------------------------------------------------------

    async def _token(self, raw: bytes, send: Send) -> None:
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        self.log.record("POST", TOKEN_PATH, {"grant_type": form.get("grant_type")})
        try:
            answer = self.account.grant(form)
        except OAuthError as exc:
            return await send_json(send, exc.status, exc.body())
        await send_json(send, 200, answer)

    # --- the API -------------------------------------------------------------------------------

    async def _api(
        self, kind: str, scope: Scope, raw: bytes, fault: Fault | None
    ) -> tuple[int, Any]:
        if fault is not None and fault.switch("expire_tokens"):
            self.account.revoke_all()
        path = scope["path"]
        project_match = _PROJECT_PATH.fullmatch(path)
        if project_match is not None:
            _, project, location, model, _ = project_match.groups()
            self._bearer(scope)
            resource = f"projects/{project}/locations/{location}/publishers/google/models/{model}"
            if project != self.project:
                raise E.permission_denied(resource)
        else:
            express = _EXPRESS_PATH.fullmatch(path)
            assert express is not None  # classify matched one of the two
            model = express.group(2)
            self._api_key(scope)
            resource = f"publishers/google/models/{model}"
        if kind == "generate":
            if model not in self.generator.models:
                raise E.not_found(resource)
            if fault is not None and fault.marker in GEMINI_FORMS:
                fault = dataclasses.replace(fault, marker=GEMINI_FORMS[fault.marker])
            return 200, await self.generator.answer(model, raw, path, fault)
        wait = self.rate.take()
        if wait is not None:
            raise E.resource_exhausted(f"{wait}s")
        if model not in imagen.IMAGEN_MODELS:
            raise E.not_found(resource)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise E.invalid_argument("Invalid JSON payload received. Unexpected token.") from None
        self.log.record("POST", path, json_fields(body))
        job = imagen.parse(model, body, self.strict)
        marker = marker_of(job.prompt, RULES.markers, fault)
        if marker == imagen.MODERATE:
            raise E.blocked()
        self.log.submitted()  # accepted: Vertex bills the images it returns
        removed = imagen.filtered(job, marker)
        if fault is not None and fault.fake_image is not None:
            images = [base64.b64encode(fault.fake_image).decode()] * job.count
        else:
            image = await self.images.get(job.width, job.height, job.fmt, job.quality)
            images = [image] * job.count
        return 200, imagen.answer(job, images, min(removed, job.count))

    def _bearer(self, scope: Scope) -> None:
        presented = auth.header(scope, "authorization") or ""
        scheme, _, token = presented.partition(" ")
        if not presented:
            self.auth_failures += 1
            raise E.missing_credentials()
        if scheme.lower() != "bearer" or not self.account.valid(token.strip()):
            self.auth_failures += 1
            raise E.invalid_credentials()

    def _api_key(self, scope: Scope) -> None:
        key = auth.header(scope, "x-goog-api-key")
        if key is None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            key = (query.get("key") or [""])[0]
        if not auth.matches(key, self.api_key):
            self.auth_failures += 1
            raise E.api_key_invalid() if key else E.missing_credentials()
