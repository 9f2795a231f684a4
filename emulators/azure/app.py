"""The Azure OpenAI emulator's app: the OpenAI Images emulator's validation, rendering, result
files and faults (`OpenAIApp`) behind Azure's paths, api-version, credentials and answers
(REFERENCE-MORE §5, REFERENCE §3.7, AZ-SPEC 2025-04-01-preview).

Routes (kinds for faults: `generate`, `edit` (paid), `file`):
- `POST /openai/deployments/{deployment}/images/generations|edits?api-version=...`: the
  deployment picks the model (the body's `model` is ignored); `api-version` missing is 404
  "Resource not found", one Azure does not serve 400 "API version not supported" (served: any
  `YYYY-MM-DD[-preview]` from 2023-12-01, when DALL-E 3 came to Azure [inference]);
- `POST /openai/v1/images/generations|edits`: no api-version (a dated one is refused, [3P];
  `preview`/`latest` pass), the body's `model` is the deployment name;
- `GET /_files/<id>.png?se=&sig=`: DALL-E result files (signed, expiring: 24 h by default);
- anything else: 404 "Resource not found".

Checks, in order: api-version, credentials (`api-key: <key>`, or `Authorization: Bearer` with
the Entra token; on v1 the key as Bearer too), the resource block (403; `resource_blocked`, or
a fault's `resource_blocked` switch), the deployment (404 `DeploymentNotFound`), then OpenAI's
validation of the model the deployment serves, with Azure's differences: `moderation` and
`safety_identifier` are `Unrecognized request argument`s and `output_format` is `png` or
`jpeg` ([UNVERIFIED]: absent from Azure's reference). DALL-E answers carry per-item
`content_filter_results` and `prompt_filter_results`; GPT image answers none (REFERENCE §3.7).

Prompt markers (and a fault's `marker`): `[moderate]` 400 `content_policy_violation` with
`inner_error` (`ResponsibleAIPolicyViolation`, `content_filter_results`), `[moderate-blocked]`
400 `moderation_blocked`, `[filtered]` 400 `content_filter` "The response was filtered...",
`[filtered-200]` HTTP 200 `{"created", "error": {"code": "contentFilter"}}` (accepted: counted
as a submission). Error shapes: `errors.py`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs

from ..kit import auth
from ..kit.asgi import Receive, Scope, Send, send_json
from ..kit.faults import Fault, FaultRules
from ..kit.scenarios import ScenarioTable
from ..openai_images import errors as E
from ..openai_images.answers import Answers
from ..openai_images.app import OpenAIApp, new_request_id
from ..openai_images.files import PREFIX as FILE_PREFIX
from ..openai_images.models import lookup
from ..openai_images.params import Job
from . import errors as AE

MARKERS = ("[moderate]", "[moderate-blocked]", "[filtered]", "[filtered-200]")
KINDS = ("generate", "edit", "file")
PAID = ("generate", "edit")
RULES = FaultRules(KINDS, switches=("as_url", "resource_blocked"), markers=MARKERS)
SERVED_MODELS = ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2", "dall-e-3")
OUTPUT_FORMATS = ("png", "jpeg")
UNRECOGNIZED = ("moderation", "safety_identifier")
FIRST_VERSION = "2023-12-01"
V1_VERSIONS = ("preview", "latest")
_VERSION = re.compile(r"(\d{4}-\d{2}-\d{2})(-preview)?")
_DEPLOYMENT_PATH = re.compile(r"/openai/deployments/([^/]+)/images/(generations|edits)")
_V1_PATH = re.compile(r"/openai/v1/images/(generations|edits)")
_OPERATIONS = {"generations": "generate", "edits": "edit"}
_BLOCKED = "azure.resource_blocked"  # the scope key a fault's switch sets


@dataclass(frozen=True)
class Route:
    kind: str  # generate | edit
    deployment: str | None  # None on the v1 surface


def route_of(path: str) -> Route | None:
    match = _DEPLOYMENT_PATH.fullmatch(path)
    if match is not None:
        return Route(_OPERATIONS[match[2]], match[1])
    match = _V1_PATH.fullmatch(path)
    return Route(_OPERATIONS[match[1]], None) if match is not None else None


def served_version(version: str) -> bool:
    match = _VERSION.fullmatch(version)
    return match is not None and match[1] >= FIRST_VERSION


class AzureAnswers(Answers):
    """OpenAI's answers, with DALL-E's per-item content filter results (AZ-SPEC example)."""

    async def body(self, job: Job, base: str, fault: Fault | None = None) -> dict[str, Any]:
        body = await super().body(job, base, fault)
        if job.spec.family == "dall-e-3":
            for item in body["data"]:
                item["prompt_filter_results"] = {
                    **AE.filter_results(),
                    "profanity": {"detected": False, "filtered": False},
                    "custom_blocklists": {"filtered": False, "details": []},
                }
                item["content_filter_results"] = AE.filter_results()
        return body


class AzureApp(OpenAIApp):
    FAULT_RULES: ClassVar[FaultRules] = RULES
    PAID_KINDS: ClassVar[tuple[str, ...]] = PAID

    def __init__(
        self,
        api_key: str = "azure-emulator-key",
        ad_token: str | None = None,
        deployments: Mapping[str, str] | None = None,
        resource_blocked: bool = False,
        latency: float = 0.0,
        url_ttl: float = 86400.0,
        clock: Callable[[], float] = time.time,
        rate_limit: int | None = None,
        scenarios: ScenarioTable | None = None,
        strict: bool = False,
    ) -> None:
        super().__init__(api_key, latency, url_ttl, clock, rate_limit, scenarios, strict)
        self.answers = AzureAnswers(self.files, clock)
        self.ad_token = ad_token
        self.resource_blocked = resource_blocked
        self.deployments = deployment_table(deployments or {})

    # --- the kit's hooks -----------------------------------------------------------------------

    def classify(self, scope: Scope) -> str | None:
        path, method = scope["path"], scope["method"]
        found = route_of(path)
        if found is not None:
            return found.kind if method == "POST" else None
        return "file" if path.startswith(FILE_PREFIX) and method == "GET" else None

    def error_body(self, status: int, message: str) -> Any:
        return AE.AzureError(status, str(status), message).body()

    def fault_body(self, status: int) -> Any:
        return AE.fault_body(status)

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind is None:
            error = AE.resource_not_found()
            headers = [(b"x-request-id", new_request_id().encode())]
            await send_json(send, error.status, error.body(), headers)
            return
        scope[_BLOCKED] = fault is not None and fault.switch("resource_blocked")
        await super().handle(kind, scope, receive, send, fault)

    # --- OpenAIApp's hooks ---------------------------------------------------------------------

    def _authenticate(self, scope: Scope) -> None:
        found = route_of(scope["path"])
        assert found is not None  # classify let only these through
        versions = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("api-version")
        if found.deployment is None:
            if versions and versions[0] not in V1_VERSIONS:
                raise AE.api_version_not_supported()
        elif not versions:
            raise AE.resource_not_found()
        elif not served_version(versions[0]):
            raise AE.api_version_not_supported()
        key = auth.header_key(scope, "api-key", self.api_key)
        token = auth.bearer(scope, self.ad_token or "")
        v1_key = found.deployment is None and auth.bearer(scope, self.api_key).ok
        if not (key.ok or token.ok or v1_key):
            self.auth_failures += 1
            raise AE.bad_token() if token.key and not key.key else AE.bad_key()
        if self.resource_blocked or scope.get(_BLOCKED):
            raise AE.resource_blocked()
        if found.deployment is not None and found.deployment not in self.deployments:
            raise AE.deployment_not_found()

    def job_fields(self, scope: Scope, fields: Any) -> Any:
        if not isinstance(fields, dict):
            return fields
        for name in UNRECOGNIZED:
            if fields.get(name) is not None:
                raise E.unrecognized_argument(name)
        if fields.get("output_format") not in (None, *OUTPUT_FORMATS):
            raise E.invalid_value("output_format", fields["output_format"], OUTPUT_FORMATS)
        found = route_of(scope["path"])
        assert found is not None
        deployment = found.deployment
        if deployment is None:  # v1: the body's model is the deployment
            deployment = fields.get("model")
            if not isinstance(deployment, str) or not deployment:
                raise E.missing_parameter("model")
            if deployment not in self.deployments:
                raise AE.deployment_not_found()
        return {**fields, "model": self.deployments[deployment]}

    def refusal(self, marker: str | None, rid: str, job: Job) -> E.APIError | None:
        if marker == "[moderate]":
            return AE.content_policy(f"A detailed illustration of: {job.prompt}")
        if marker == "[moderate-blocked]":
            return AE.moderation_blocked(rid)
        if marker == "[filtered]":
            return AE.response_filtered()
        if marker == "[filtered-200]":
            self.log.submitted()  # answered 200: accepted, as far as a client can tell
            return AE.filtered_200()
        return None

    def rate_limited(self, wait: float) -> E.APIError:
        return AE.rate_limited(wait)


def deployment_table(overrides: Mapping[str, str]) -> dict[str, str]:
    """Deployment name -> model: every served model under its own id, except those `overrides`
    (model -> deployment, `AZURE_DEPLOYMENTS`' form) deploy under another name. ValueError
    for a model the emulator does not know."""
    table = {model: model for model in SERVED_MODELS if model not in overrides}
    for model, deployment in overrides.items():
        try:
            lookup(model)
        except E.APIError:
            raise ValueError(f"unknown model {model!r}") from None
        table[deployment] = model
    return table
