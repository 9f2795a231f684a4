"""`seedream`: Seedream on Ark's Images API (`kit/sync.SyncJSONProvider`).

Each call is one `POST {SEEDREAM_BASE_URL}/api/v3/images/generations`, JSON, `Authorization:
Bearer $SEEDREAM_API_KEY` (`ARK_API_KEY`), for generations and edits alike (an edit's input
images go in `image`). One call makes one image: `n` fans out (`models.py` says why Ark's group
generation is not used). Results come as `url` (downloaded at once through the trusted-origin
check, `SEEDREAM_TRUSTED_HOSTS`, never with the key) or `b64_json` (`SEEDREAM_RESPONSE_FORMAT`).

Checked here before anything is spent: the size against the model's range (`models.py`), the
aspect ratio (1:16 to 16:1), `resolution` per model and not beside a size, a mask (Ark takes
none), the seed's range (3.0 models), `watermark` and `guidance_scale`'s types and range.

Error answers (`translate.py`; the body is OpenAI's envelope, read by the kit):

| answer                                               | gateway error                        |
|------------------------------------------------------|--------------------------------------|
| 400 `*SensitiveContentDetected*`, `*RiskDetection`, ... | 400 `content_policy_violation`    |
| 200 with `error` or a failed `data` entry            | moderation: as above; else 502 (paid) |
| 400 `InvalidParameter`, `MissingParameter`           | 400, Ark's code, its `param` named   |
| 401 `AuthenticationError`, 403 `AccessDenied`        | 502 `provider_auth_failed`           |
| 403 `AccountOverdueError`, 429 `QuotaExceeded`, `SetLimitExceeded` | 402 quota (not retried) |
| 404 `InvalidEndpoint.NotFound`, `ModelNotOpen`       | 404, Ark's code                      |
| 429 `RateLimitExceeded.*`, `ServerOverloaded`        | 429 with its retry hint              |
| 5xx (`InternalServiceError`)                         | 502, retried                         |
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    InvalidRequest,
    ProviderQuotaExhausted,
)
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.sizing import ratio_value
from image_gateway.providers.kit.sync import Answer, SyncJSONProvider
from image_gateway.providers.seedream import DEFINITION, translate
from image_gateway.providers.seedream.config import SeedreamConfig
from image_gateway.providers.seedream.models import (
    GUIDANCE_RANGE,
    MODELS,
    PARAM_SCHEMAS,
    SEED_RANGE,
    SeedreamModel,
    as_seedream,
    lookup,
)
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse

API_PATH = "/api/v3"


class SeedreamProvider(SyncJSONProvider[SeedreamConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def model(self, model_id: str) -> ModelSpec | None:
        """A listed id, or Volcengine's `doubao-<id>` of one (`models.lookup`)."""
        return lookup(model_id)

    @property
    def api_base(self) -> str:
        """`SEEDREAM_BASE_URL` with Ark's `/api/v3` (not doubled when the SDK's form, which
        includes it, was configured)."""
        base = str(self.config.base_url)
        return base if base.endswith(API_PATH) else base + API_PATH

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks (`models.py` declarations), then Seedream's (module docstring)."""
        super().validate(task, spec)
        model = as_seedream(spec)
        resolution = task.params.get("resolution")
        if resolution is not None and resolution not in model.resolutions:
            offered = ", ".join(model.resolutions) or "none (use size)"
            raise InvalidRequest(
                f"provider_params.resolution {resolution!r:.20} is not supported by {spec.id}; "
                f"supported: {offered}",
                param="provider_params.resolution",
            )
        self._check_size(task, model)
        self._check_params(task, model)

    def _check_size(self, task: ImageTask, model: SeedreamModel) -> None:
        if task.size is not None and model.family == "3-edit":
            raise InvalidRequest(
                f"size is not supported by {model.id}: it keeps the input image's size",
                param="size",
                code="unsupported_parameter",
            )
        if task.size is not None and task.aspect_ratio is not None:
            raise InvalidRequest("send size or aspect_ratio, not both", param="aspect_ratio")
        if task.size is not None and "resolution" in task.params:
            raise InvalidRequest(
                "send size or provider_params.resolution, not both",
                param="provider_params.resolution",
            )
        if task.size is not None:
            problem = translate.check_size(task.size, model)
            if problem:
                raise InvalidRequest(
                    f"size {task.size[0]}x{task.size[1]} is not supported by {model.id}: {problem}",
                    param="size",
                )
        if task.aspect_ratio is not None and not 1 / 16 <= ratio_value(task.aspect_ratio) <= 16:
            raise InvalidRequest(
                f"aspect_ratio {task.aspect_ratio} is not supported by {model.id}: 1:16 to 16:1",
                param="aspect_ratio",
            )

    def _check_params(self, task: ImageTask, model: SeedreamModel) -> None:
        if task.seed is not None and not SEED_RANGE[0] <= task.seed <= SEED_RANGE[1]:
            raise InvalidRequest(
                f"seed must be {SEED_RANGE[0]} to {SEED_RANGE[1]} on {model.id}", param="seed"
            )
        watermark = task.params.get("watermark")
        if "watermark" in task.params and not isinstance(watermark, bool):
            raise InvalidRequest(
                "provider_params.watermark must be true or false",
                param="provider_params.watermark",
            )
        if "guidance_scale" in task.params:
            value = task.params["guidance_scale"]
            low, high = GUIDANCE_RANGE
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidRequest(
                    "provider_params.guidance_scale must be a number",
                    param="provider_params.guidance_scale",
                )
            if not low <= value <= high:
                raise InvalidRequest(
                    f"provider_params.guidance_scale must be {low:g} to {high:g}",
                    param="provider_params.guidance_scale",
                )

    # -- the kit's hooks -----------------------------------------------------------------

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        return "/images/generations"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_seedream(spec), self.config.response_format)

    def from_vendor(self, payload: Any) -> Answer:
        return translate.from_vendor(payload, self.name, self.secrets())

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        """Moderation codes (400) and quota codes (403, 429) the status table would misread."""
        if 400 <= resp.status < 500 and translate.is_moderation(detail.code):
            return ContentPolicyViolation(
                f"{self.name}'s moderation refused the request ({detail.code})"
                + (f": {detail.message}" if detail.message else ""),
                code="content_policy_violation",
                provider=self.name,
            )
        if resp.status in (402, 403, 429) and translate.is_quota(detail.code):
            return ProviderQuotaExhausted(
                f"the {self.name} account is out of quota or in arrears ({detail.code})",
                provider=self.name,
            )
        return None
