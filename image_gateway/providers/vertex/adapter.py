"""`vertex-ai`: Vertex AI on `kit/sync.py`, one JSON POST per call to
`{host}/{version}/projects/{project}/locations/{location}/publishers/google/models/{model}:
{method}` (express mode: `{host}/{version}/publishers/google/models/{model}:{method}`, no
project; REFERENCE-MORE §1.8, python-genai `_api_client.py`). The method is the model's:
Imagen's `predict` (`imagen.py`, up to 4 images a call) or the Gemini image models'
`generateContent` (`gemini.py` over the `gemini` provider's translations: one image a call,
edits with input images inline; an answer without an image is `content_policy_violation` or
`no_image_generated`, as there).

Credentials: with a project or a credentials file, `Authorization: Bearer <access token>`
(`auth.py`; plus `x-goog-user-project` when the credentials name a quota project); a 401 is
answered once more with a refreshed token (the kit's `renewed_credential_headers`). Otherwise
express mode: `x-goog-api-key: <VERTEX_AI_API_KEY>`.

Errors: Google's envelope as the `gemini` provider reads it (`gemini/errors.py`: a refused
key, a per-day quota, `FAILED_PRECONDITION`, `RetryInfo.retryDelay` as the retry hint), and
what the status table alone would get wrong on Vertex:

| answer                                                  | error                              |
|---------------------------------------------------------|------------------------------------|
| 400, Imagen's refusal text (Error Code 58061214)        | 400 `content_policy_violation`     |
| 400, `ErrorInfo` `API_KEY_INVALID` (express mode)       | 502 `provider_auth_failed`         |
| 401 `UNAUTHENTICATED` (after one refresh)               | 502 `provider_auth_failed`         |
| 403 `PERMISSION_DENIED`, `ErrorInfo` `BILLING_DISABLED` | 402 `provider_quota_exhausted`     |
| 403 `PERMISSION_DENIED` otherwise (role, project, API)  | 502 `provider_auth_failed`         |
| 404 `NOT_FOUND`                                         | 404 `model_not_found`              |
| 429 `RESOURCE_EXHAUSTED`, a per-day `QuotaFailure`      | 402 `provider_quota_exhausted`     |
| 429 `RESOURCE_EXHAUSTED` otherwise                      | 429 after `RetryInfo.retryDelay`   |

Imagen's refusal reads "... The response is blocked, as it may violate our policies ... Error
Code: 58061214" ([3P] epam/ai-dial-adapter-vertexai #48/#66, REFERENCE-MORE §1.8); the wording
"... violate Google's Responsible AI practices ... Support codes: ..." is taken too
[UNVERIFIED]. `BILLING_DISABLED` is Google APIs' `ErrorInfo` reason for a project that cannot
pay [UNVERIFIED on Vertex].

Auth failures name the variables to check (the credentials file or key, the project); a 404
the location; a 429's hint is `RetryInfo.retryDelay`, else `Retry-After`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    NotFound,
    ProviderNotConfigured,
    ProviderQuotaExhausted,
    UpstreamError,
)
from image_gateway.fetch import ImageFetcher
from image_gateway.providers.gemini import translate as gemini_translate
from image_gateway.providers.gemini.errors import GoogleStatus, classify, read_status
from image_gateway.providers.gemini.models import GeminiModel
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.sync import Answer, SyncJSONProvider
from image_gateway.providers.vertex import DEFINITION, gemini, imagen
from image_gateway.providers.vertex.auth import AccessTokens
from image_gateway.providers.vertex.config import VertexConfig
from image_gateway.providers.vertex.models import IMAGEN, MODELS, PARAM_SCHEMAS, as_vertex
from image_gateway.schemas import ImageTask
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient, UpstreamResponse

GLOBAL_HOST = "https://aiplatform.googleapis.com"
MULTI_REGIONS = ("us", "eu")  # python-genai `_MULTI_REGIONAL_LOCATIONS`


class VertexProvider(SyncJSONProvider[VertexConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def __init__(
        self, settings: Settings, http: UpstreamClient, fetcher: ImageFetcher | None = None
    ) -> None:
        super().__init__(settings, http, fetcher)
        self.tokens = AccessTokens(
            self.name,
            http,
            self.config.credentials_file,
            self.definition.variable_text("credentials_file"),
            self.secrets,
        )

    # -- configuration -----------------------------------------------------------------------

    @property
    def oauth(self) -> bool:
        """Whether calls carry access tokens (a project or a credentials file is set), else the
        express-mode key."""
        return self.config.project is not None or self.config.credentials_file is not None

    @property
    def configured(self) -> bool:
        return self.oauth or self.config.api_key is not None

    def not_configured(self) -> ProviderNotConfigured:
        variables = self.definition.variable_text
        return ProviderNotConfigured(
            f"provider {self.name} is not configured: set {variables('project')} and "
            f"{variables('credentials_file')} (a service-account key file; without one, "
            f"application default credentials), or {variables('api_key')} (express mode)",
            provider=self.name,
        )

    def secrets(self) -> list[str]:
        tokens = getattr(self, "tokens", None)
        return [*super().secrets(), *(tokens.secrets if tokens is not None else [])]

    @property
    def api_base(self) -> str:
        """`VERTEX_AI_BASE_URL`, else the host of the location (express mode: the global one)."""
        if self.config.base_url is not None:
            return self.config.base_url
        location = self.config.location
        if not self.oauth or location == "global":
            return GLOBAL_HOST
        if location in MULTI_REGIONS:
            return f"https://aiplatform.{location}.rep.googleapis.com"
        return f"https://{location}-aiplatform.googleapis.com"

    @property
    def project(self) -> str:
        """`VERTEX_AI_PROJECT`, else the credentials' (known once they are loaded)."""
        project = self.config.project or self.tokens.project
        if project is None:
            raise ProviderNotConfigured(
                f"provider {self.name} is not configured: set "
                f"{self.definition.variable_text('project')} (the credentials name no project)",
                provider=self.name,
            )
        return project

    # -- the catalogue -------------------------------------------------------------------------

    def model(self, model_id: str) -> ModelSpec | None:
        """The catalogue's, or a newer Gemini image id passed through as `gemini` does."""
        return MODELS.get(model_id) or gemini.passthrough(model_id)

    def owns(self, model_id: str) -> bool:
        """A bare Imagen id; a bare Gemini id is the `gemini` provider's (as a bare `gpt-image-1`
        stays `openai`'s): the Gemini models here are named `vertex-ai/<model>`."""
        return model_id in IMAGEN

    def normalize(self, task: ImageTask, spec: ModelSpec) -> None:
        if isinstance(spec, GeminiModel):
            gemini_translate.fill_size(task, spec)

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        super().validate(task, spec)
        if isinstance(spec, GeminiModel):
            gemini.check(task, spec)
        else:
            imagen.check(task, as_vertex(spec))

    # -- the kit's hooks -----------------------------------------------------------------------

    async def credential_headers(self) -> dict[str, str]:
        if not self.oauth:
            return {"x-goog-api-key": self.api_key()}
        return self._bearer(await self.tokens.token())

    async def renewed_credential_headers(self, resp: UpstreamResponse) -> dict[str, str] | None:
        """A refreshed token when Vertex says the one sent is not (or no longer) valid: 401
        `UNAUTHENTICATED` in Google's envelope (a 401 in another shape, from a proxy, say, is
        mapped as it is)."""
        google = self._status(resp)
        if not self.oauth or not self.tokens.issued or google is None:
            return None
        if google.status != "UNAUTHENTICATED":
            return None
        return self._bearer(await self.tokens.renewed(self.tokens.issued[-1]))

    def _bearer(self, token: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        if self.tokens.quota_project:
            headers["x-goog-user-project"] = self.tokens.quota_project
        return headers

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        """The path after `api_base` (called after `credential_headers`, so a project named
        only by the credentials is known)."""
        method = "generateContent" if isinstance(spec, GeminiModel) else as_vertex(spec).method
        model = f"publishers/google/models/{quote(spec.id, safe='')}:{method}"
        if not self.oauth:
            return f"/{self.config.api_version}/{model}"
        scope = f"projects/{quote(self.project, safe='')}/locations/{self.config.location}"
        return f"/{self.config.api_version}/{scope}/{model}"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        if isinstance(spec, GeminiModel):
            return gemini.to_vendor(task, spec)
        return imagen.to_vendor(task, as_vertex(spec))

    def read_answer(self, payload: Any, task: ImageTask, spec: ModelSpec) -> Answer:
        if isinstance(spec, GeminiModel):
            return Answer(gemini_translate.read_answer(payload, self.name, self.secrets()))
        return self.from_vendor(payload)

    def from_vendor(self, payload: Any) -> Answer:
        """An Imagen answer (`read_answer` reads a Gemini model's)."""
        return imagen.from_vendor(payload, self.name, self.secrets())

    # -- errors ----------------------------------------------------------------------------------

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        google = self._status(resp)
        return google.detail() if google is not None else super().error_detail(resp)

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        google = self._status(resp) or GoogleStatus()
        said = f": {google.message}" if google.message else ""
        if resp.status == 400 and imagen.refused(google.message):
            return ContentPolicyViolation(
                f"the provider's safety filters refused this request{said}", provider=self.name
            )
        if resp.status == 401:
            check = (
                self.definition.variable_text("credentials_file")
                if self.oauth
                else self.definition.key_variable()
            )
            return self._auth_failed(
                f"{self.name} rejected the gateway's credentials (check {check})"
            )
        if resp.status == 403:
            if "BILLING_DISABLED" in google.reasons:
                return ProviderQuotaExhausted(
                    f"the {self.name} project cannot be billed{said}", provider=self.name
                )
            where = (
                f"project {self.config.project or self.tokens.project}"
                if self.oauth
                else "the API key"
            )
            return self._auth_failed(
                f"{self.name} denied permission to {where} (the credentials need the Vertex AI "
                f"User role, and the project the Vertex AI API){said}"
            )
        if resp.status == 404:
            return NotFound(
                f"{self.name}{said or ': not found'} (a model Vertex AI does not serve in location "
                f"{self.config.location}, or {self.definition.variable_text('base_url')} is not "
                "its API's host)",
                code=detail.code or "model_not_found",
                provider=self.name,
            )
        # A refused key, a per-day quota, FAILED_PRECONDITION, RetryInfo: as on the Gemini API.
        return classify(self.definition, resp.status, resp.headers, self._status(resp))

    def _auth_failed(self, message: str) -> UpstreamError:
        return UpstreamError(message, code="provider_auth_failed", provider=self.name, outage=False)

    def _status(self, resp: UpstreamResponse) -> GoogleStatus | None:
        try:
            return read_status(resp.json(self.name), self.secrets())
        except UpstreamError:
            return None
