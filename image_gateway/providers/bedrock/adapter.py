"""`bedrock`: Amazon Bedrock's image models through InvokeModel, on `kit/sync.py`:
`POST {base}/model/{modelId}/invoke` with the model's own JSON body (`translate.py`), signed
with SigV4 over the exact bytes sent, or with a Bedrock API key (`auth.py`).

This class holds the hooks: the base URL from the region, the signed submission, Bedrock's
own checks of a request (`rules.py`: Nova's sizes and seeds, prompt lengths, which edits each
model takes), the input images and masks of an edit, and Bedrock's exceptions:

    Bedrock's answer (x-amzn-ErrorType)    gateway error                         retried
    400 ValidationException "...blocked    400 content_policy_violation          no
        by our content filters..."
    400 ValidationException (other)        400 invalid_value, Bedrock's message  no
                                               after the exception's name
    400 ServiceQuotaExceededException      402 provider_quota_exhausted          no
    401, 403 AccessDenied, Unrecognized-   502 provider_auth_failed (the         no
        Client, InvalidSignature, ...          gateway's identity, not the caller's)
    404 ResourceNotFoundException          404 model_not_found                   no
    408 ModelTimeoutException              504 upstream_timeout                  no, as botocore
    424 ModelErrorException                502 upstream_error with the model's   if that is 429
                                               own `originalStatusCode`              or 5xx
    429 ThrottlingException                429 provider_rate_limited             yes, after hint
    429 ModelNotReadyException             502 model_not_ready                   yes, after hint
    500, 503, others                       the kit's table (`kit/errors.py`)     5xx yes

A ModelTimeoutException is not retried: the next try would wait as long again.
Bedrock sends no retry hint (none is documented), so 1 s — botocore's longest first backoff —
stands in for one. Errors of both shapes are read: `{"message"}` (or `Message`) and the type
in `x-amzn-ErrorType`, `__type` or `code`, the status alone when none says.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from image_gateway.errors import (
    GatewayError,
    InvalidRequest,
    ProviderNotConfigured,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from image_gateway.fetch import ImageFetcher
from image_gateway.providers.bedrock import DEFINITION, rules, translate
from image_gateway.providers.bedrock.auth import BedrockAuth, NoCredentials
from image_gateway.providers.bedrock.config import BedrockConfig
from image_gateway.providers.bedrock.images import check_opaque, check_stability_input, nova_mask
from image_gateway.providers.bedrock.models import MODELS, PARAM_SCHEMAS, as_bedrock
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import (
    ErrorDetail,
    common_error_detail,
    retry_after_header,
    retry_after_seconds,
    safe_token,
)
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sync import Answer, Submission, SyncJSONProvider
from image_gateway.schemas import ImageTask
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient, UpstreamResponse

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
AUTH_ERRORS = (
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "ExpiredTokenException",
)
DEFAULT_WAIT = 1.0  # seconds before retrying a 429 that names no wait


class BedrockProvider(SyncJSONProvider[BedrockConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def __init__(
        self, settings: Settings, http: UpstreamClient, fetcher: ImageFetcher | None = None
    ) -> None:
        super().__init__(settings, http, fetcher)
        self.auth = BedrockAuth(self.config)

    # --- configuration -----------------------------------------------------------------------

    @property
    def configured(self) -> bool:
        return self.auth.configured

    def not_configured(self, reason: str | None = None) -> ProviderNotConfigured:
        """503 naming what to set (`config.py`): a Bedrock API key, AWS keys, or a region or
        profile for the AWS credential chain; `reason` says what is missing."""
        why = reason or self.auth.problem
        return ProviderNotConfigured(
            f"provider {self.name} is not configured"
            + (f" ({why})" if why else "")
            + ": set BEDROCK_API_KEY (or AWS_BEARER_TOKEN_BEDROCK), or BEDROCK_ACCESS_KEY_ID "
            "and BEDROCK_SECRET_ACCESS_KEY with BEDROCK_REGION, or BEDROCK_REGION (or "
            "BEDROCK_PROFILE) alone to use the AWS credential chain",
            provider=self.name,
        )

    def secrets(self) -> list[str]:
        return self.auth.secrets()

    @property
    def api_base(self) -> str:
        """`BEDROCK_BASE_URL`, else the region's endpoint (`auth.endpoint`)."""
        url = self.auth.base_url
        if url is None:
            raise self.not_configured()
        return url

    # --- before anything is spent ------------------------------------------------------------

    def normalize(self, task: ImageTask, spec: ModelSpec) -> None:
        """A size and an aspect ratio sent together must agree (else a 400 naming
        `aspect_ratio`); an aspect ratio alone becomes Nova's or Titan's size (about 1 MP,
        multiples of 16; Nova's between 1:4 and 4:1), except on an inpainting edit, which keeps
        the input image's size."""
        model = as_bedrock(spec)
        translate.check_size_matches_ratio(task)
        if model.family == "stability" or task.aspect_ratio is None or task.size is not None:
            return
        if model.family == "nova":
            translate.check_nova_ratio(task.aspect_ratio)
        if not (task.is_edit and translate.inpainting(task)):
            task.size = translate.size_for_aspect(task.aspect_ratio)

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks (what each model declares), then the model's own rules."""
        super().validate(task, spec)
        model = as_bedrock(spec)
        if model.max_prompt is not None:
            rules.check_length(task.prompt, "prompt", model)
            if task.negative_prompt is not None:
                rules.check_length(task.negative_prompt, "negative_prompt", model)
        if task.seed is not None and task.seed > model.max_seed:
            raise InvalidRequest(f"seed must be 0-{model.max_seed} for {model.id}", param="seed")
        if model.family == "stability":
            rules.check_stability(task, model)
        else:
            rules.check_canvas(task, model)

    async def prepare(self, task: ImageTask, spec: ModelSpec) -> None:
        """An Amazon-model edit's input images are checked opaque (Nova refuses transparent
        pixels) and an OpenAI-style mask becomes Nova's, a Stability edit's input is checked
        at least 64 pixels a side (`images.py`), once per request: a refusal comes before any
        call is sent."""
        if not task.is_edit:
            return
        if as_bedrock(spec).family == "stability":
            await asyncio.to_thread(check_stability_input, task.images[0].data)
            return
        sizes = [
            await asyncio.to_thread(check_opaque, image.data, index)
            for index, image in enumerate(task.images)
        ]
        if task.mask is not None:
            mask = await asyncio.to_thread(nova_mask, task.mask.data, sizes[0])
            task.vendor = {**task.vendor, "mask": mask}  # this task's own: candidates share one

    # --- the call ----------------------------------------------------------------------------

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        return translate.invoke_path(spec.id)

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_bedrock(spec))

    async def submission(self, task: ImageTask, spec: ModelSpec) -> Submission:
        """The body encoded here, so the signature covers the very bytes sent."""
        url = f"{self.api_base}{self.endpoint(task, spec)}"
        body = orjson.dumps(self.to_vendor(task, spec))
        try:
            headers = await self.auth.headers(url, body, dict(HEADERS))
        except NoCredentials as exc:
            raise self.not_configured(str(exc) or None) from None
        return Submission(url, headers, content=body)

    def from_vendor(self, payload: Any) -> Answer:
        return translate.from_vendor(payload, self.secrets())

    # --- error answers -----------------------------------------------------------------------

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        """`{"message"}` (or `Message`) after the exception's name (`ValidationException:
        ...`); no code of Bedrock's is passed on, so the status table gives ours (400
        `invalid_value`, 404 `model_not_found`), as for every other provider."""
        detail = common_error_detail(resp, self.name, self.secrets())
        payload = _json(resp, self.name)
        message = detail.message
        if not message and isinstance(payload, dict) and isinstance(payload.get("Message"), str):
            message = provider_message(payload["Message"], self.secrets())
        name = safe_token(translate.error_type(resp, payload), self.secrets())
        if name and resp.status in (400, 404):
            message = f"{name}: {message}" if message else name
        return ErrorDetail(message, None, detail.param)

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        """Bedrock's exceptions (the table in the module docstring); None leaves the status
        table (`kit/errors.py`) to decide."""
        name, status = translate.error_type(resp, _json(resp, self.name)), resp.status
        said = f": {detail.message}" if detail.message else ""
        if status == 400 and translate.CONTENT_FILTERED.search(detail.message):
            return translate.refused(detail.message)
        if name == "ServiceQuotaExceededException":
            return ProviderQuotaExhausted(
                f"the {self.name} account is over a service quota{said}", provider=self.name
            )
        if status in (401, 403) or name in AUTH_ERRORS or name == "AccessDeniedException":
            known = name in AUTH_ERRORS or name == "AccessDeniedException"
            return self._auth_failed(name if known else None, status, said)
        if name == "ModelTimeoutException" or (name is None and status == 408):
            return UpstreamTimeout(
                f"the {self.name} model did not finish in time{said}", provider=self.name
            )
        if name == "ModelErrorException" or status == 424:
            original = translate.original_status(_json(resp, self.name))
            again = original is not None and (original == 429 or original >= 500)
            return UpstreamError(
                f"the {self.name} model failed (its status {original or 'unknown'}){said}",
                provider=self.name,
                retryable=again,
            )
        wait = retry_after_seconds(resp.headers)
        if name == "ModelNotReadyException":
            return UpstreamError(
                f"the {self.name} model is not ready yet{said}",
                code="model_not_ready",
                provider=self.name,
                retryable=True,
                retry_after=wait if wait is not None else DEFAULT_WAIT,
                outage=False,
            )
        if status == 429:
            wait = wait if wait is not None else DEFAULT_WAIT
            return ProviderRateLimited(
                f"{self.name} throttled the request; retry later",
                provider=self.name,
                headers=retry_after_header(wait),
                retryable=True,
                retry_after=wait,
            )
        return None

    def _auth_failed(self, name: str | None, status: int, said: str) -> UpstreamError:
        """`name`: an authentication exception's, None for a 401 or 403 naming none (or
        another one), said by its status instead."""
        if name == "ExpiredTokenException":
            self.auth.forget()  # the chain's next call resolves fresh credentials
        if name == "AccessDeniedException":
            what = (
                "refused the gateway's AWS identity: the model may not be enabled for the "
                "account in this region, or the identity lacks bedrock:InvokeModel"
            )
        else:
            what = (
                "rejected the gateway's credentials (check BEDROCK_API_KEY, "
                "BEDROCK_ACCESS_KEY_ID / BEDROCK_SECRET_ACCESS_KEY / BEDROCK_SESSION_TOKEN, "
                "BEDROCK_REGION, or the AWS credential chain)"
            )
        return UpstreamError(
            f"{self.name} {what} ({name or f'HTTP {status}'}{said})",
            code="provider_auth_failed",
            provider=self.name,
            outage=False,  # a configuration problem, not the provider being down
        )


def _json(resp: UpstreamResponse, provider: str) -> Any:
    try:
        return resp.json(provider)
    except UpstreamError:
        return None
