"""`azure`: `OpenAIProvider` (JSON generations, multipart edits, per-model checks, OpenAI's
moderation and quota codes) posted where Azure wants it, with Azure's credentials, and Azure's
answers read (`translate.py`).

- Where: each model goes to its deployment (`AZURE_DEPLOYMENTS`, else the model id itself),
  `/openai/deployments/{deployment}/images/...?api-version=` or, with `AZURE_API_VERSION=v1`,
  `/openai/v1/images/...` with the deployment as `model`. The body's `model` is the deployment
  name on both surfaces, as openai-python's `AzureOpenAI` sends it.
- Credentials: the key as `api-key` (Bearer on v1), or a static Entra token as
  `Authorization: Bearer` (OAI-SDK `lib/azure.py` `_prepare_options`). The provider is
  configured once it has the endpoint and one of them; both at once, or a deployment for a
  model it does not serve, stop the start with the variables named.
- Requests: bare model ids stay `openai`'s (`azure/<model>` names this provider); fields
  Azure's reference lacks are refused here (`moderation`, `webp` through `models.py`;
  `safety_identifier`), never sent to be refused or ignored there.
- Answers (`classify_error`, `from_vendor`), whatever the status: a content-filter refusal is
  400 `content_policy_violation` (naming the filtered categories), also when it arrives as a
  2xx; a blocked resource is 502 `provider_resource_blocked` (not the caller's fault, not
  retried, no fallback needed to be told); a deployment Azure does not have is 404
  `deployment_not_found` naming it and `AZURE_DEPLOYMENTS`; a bad credential 502
  `provider_auth_failed` naming its variable; an api-version Azure refuses 502
  `provider_api_version_rejected`; 429 (`retry-after-ms`, `Retry-After`) and 5xx go to the
  kit's table (`kit/errors.py`).
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    InvalidRequest,
    NotFound,
    ProviderNotConfigured,
    UpstreamError,
)
from image_gateway.fetch import ImageFetcher
from image_gateway.providers.azure import DEFINITION, translate
from image_gateway.providers.azure.config import AzureConfig
from image_gateway.providers.azure.models import MODELS, spec_for
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal
from image_gateway.providers.kit.sync import Answer
from image_gateway.providers.openai.adapter import OpenAIProvider
from image_gateway.schemas import ImageTask, ProviderResult
from image_gateway.settings import ConfigurationError, Settings
from image_gateway.upstream.client import UpstreamClient, UpstreamResponse

DEPLOYMENT_NOT_FOUND = "deployment_not_found"
RESOURCE_BLOCKED = "provider_resource_blocked"
API_VERSION_REJECTED = "provider_api_version_rejected"


class AzureProvider(OpenAIProvider):
    definition = DEFINITION
    models = MODELS
    config: AzureConfig

    def __init__(
        self, settings: Settings, http: UpstreamClient, fetcher: ImageFetcher | None = None
    ) -> None:
        super().__init__(settings, http, fetcher)
        problem = self._settings_problem()
        if problem:
            raise ConfigurationError(f"image-gateway: invalid configuration\n  {problem}")

    def _settings_problem(self) -> str | None:
        """What start-up refuses: a key and a token together (the SDK's
        `MutuallyExclusiveAuthError`), a deployment for a model this provider does not serve."""
        if self.config.api_key is not None and self.config.ad_token is not None:
            return (
                f"{self._variable('api_key')} and {self._variable('ad_token')}: set one of "
                "them (an API key or a Microsoft Entra token), not both"
            )
        unknown = [model for model in self.config.deployments if spec_for(model) is None]
        if unknown:
            return (
                f"{self._variable('deployments')}: {unknown[0]!r} is not an Azure image model "
                f"(known: {', '.join(MODELS)}, or a newer gpt-image-* id)"
            )
        return None

    def _variable(self, field: str) -> str:
        return self.definition.variable_text(field)

    # --- models and credentials ------------------------------------------------------------

    def model(self, model_id: str) -> ModelSpec | None:
        return spec_for(model_id)

    def owns(self, model_id: str) -> bool:
        """Never: a bare `gpt-image-1` is `openai`'s; this provider is named (`azure/...`)."""
        return False

    def deployment(self, model_id: str) -> str:
        """The deployment serving `model_id` (`AZURE_DEPLOYMENTS`, else the id itself)."""
        return self.config.deployments.get(model_id, model_id)

    @property
    def configured(self) -> bool:
        return bool(self.config.base_url) and self._credential() is not None

    def not_configured(self) -> ProviderNotConfigured:
        missing = []
        if not self.config.base_url:
            missing.append(self._variable("base_url"))
        if self._credential() is None:
            missing.append(f"{self._variable('api_key')} or {self._variable('ad_token')}")
        return ProviderNotConfigured(
            f"provider {self.name} is not configured: set {' and '.join(missing)}",
            provider=self.name,
        )

    def _credential(self) -> str | None:
        secret = self.config.ad_token or self.config.api_key
        return secret.get_secret_value() if secret is not None else None

    def api_key(self) -> str:
        """The credential sent (the Entra token or the key); `not_configured()` without one or
        without the endpoint."""
        credential = self._credential()
        if credential is None or not self.config.base_url:
            raise self.not_configured()
        return credential

    def secrets(self) -> list[str]:
        found = (self.config.api_key, self.config.ad_token)
        return [secret.get_secret_value() for secret in found if secret is not None]

    def auth_headers(self, key: str) -> dict[str, str]:
        if self.config.ad_token is not None or self.config.v1:
            return {"Authorization": f"Bearer {key}"}
        return {"api-key": key}

    # --- requests ----------------------------------------------------------------------------

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        super().validate(task, spec)
        if task.safety_identifier is not None:
            raise InvalidRequest(
                f"safety_identifier is not supported by {self.name} (Azure's image API takes "
                "`user`)",
                param="safety_identifier",
                code="unsupported_parameter",
            )

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        return translate.path(self.config.api_version, self.deployment(spec.id), task.is_edit)

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        body = super().to_vendor(task, spec)
        body["model"] = self.deployment(spec.id)
        return body

    async def generate(
        self, task: ImageTask, spec: ModelSpec, journal: CallJournal = NO_JOURNAL
    ) -> ProviderResult:
        try:
            return await super().generate(task, spec, journal)
        except NotFound as exc:
            if exc.code != DEPLOYMENT_NOT_FOUND:
                raise
            raise NotFound(
                f"{self.name} has no deployment {self.deployment(spec.id)!r} for {spec.id} "
                f"(set {self._variable('deployments')} to model=deployment pairs; a model not "
                "listed is looked for under its own id)",
                code=DEPLOYMENT_NOT_FOUND,
                provider=self.name,
            ) from None

    # --- answers -----------------------------------------------------------------------------

    def from_vendor(self, payload: Any) -> Answer:
        if translate.content_filtered(payload):
            raise self.refusal(payload)
        return super().from_vendor(payload)

    def refusal(self, payload: Any) -> ContentPolicyViolation:
        categories = translate.filtered_categories(payload)
        which = f" (filtered: {', '.join(categories)})" if categories else ""
        return ContentPolicyViolation(
            f"Azure's content filter rejected this request{which}",
            code="content_policy_violation",
            provider=self.name,
        )

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        """Azure's answers the status table would get wrong (the module docstring); then
        `OpenAIProvider`'s moderation and quota codes."""
        try:
            payload = resp.json(self.name)
        except UpstreamError:
            payload = None
        if translate.resource_blocked(resp.status, payload):
            return UpstreamError(
                f"the {self.name} resource is temporarily blocked by Microsoft for suspected "
                "content-policy violations: every request fails until the block is lifted "
                "(see the resource in the Azure portal)",
                code=RESOURCE_BLOCKED,
                provider=self.name,
                outage=False,
            )
        if translate.content_filtered(payload):
            return self.refusal(payload)
        if translate.has_code(payload, translate.DEPLOYMENT_NOT_FOUND):
            return NotFound("deployment not found", code=DEPLOYMENT_NOT_FOUND, provider=self.name)
        if resp.status == 404:
            return NotFound(
                f"{self.name}: {detail.message or 'not found'} (check "
                f"{self._variable('base_url')}, the resource endpoint, and "
                f"{self._variable('api_version')})",
                code="model_not_found",
                provider=self.name,
            )
        if translate.refused_api_version(resp.status, payload):
            return UpstreamError(
                f"{self.name} does not serve api-version {self.config.api_version} (check "
                f"{self._variable('api_version')})",
                code=API_VERSION_REJECTED,
                provider=self.name,
                outage=False,
            )
        if resp.status in (401, 403):
            if self.config.ad_token is not None:
                check = f"{self._variable('ad_token')}: sent as it is, until it expires"
            else:
                check = self._variable("api_key")
            return UpstreamError(
                f"{self.name} rejected the gateway's credentials (check {check})",
                code="provider_auth_failed",
                provider=self.name,
                outage=False,
            )
        return super().classify_error(resp, detail)
