"""`together`: Together AI's Images API on `kit/sync.SyncJSONProvider`.

One call is `POST {TOGETHER_BASE_URL}/images/generations` (JSON, `Authorization: Bearer
$TOGETHER_API_KEY`, together-python `resources/images.py`), answered synchronously with the
images (`TOGETHER_RESPONSE_FORMAT`: `base64` by default; `url` results are downloaded at once,
never with the key, from the base URL's origin or `TOGETHER_TRUSTED_HOSTS`). Up to 4 images a
call (`n`; more are fanned out with consecutive seeds). Edits are Kontext's: the one input image
goes as `image_url`, a `data:` URI (`translate.py`).

Checked here before anything is spent: the size's sides (`models.MIN_SIDE`-`MAX_SIDE`), a size or
an aspect ratio but not both, no mask, and each provider_param's type and range (`steps` at most
the model's `max_steps`).

Error answers (`translate.py`, then the status table of `kit/errors.py`):

| answer                                        | gateway error                              |
|-----------------------------------------------|--------------------------------------------|
| 4xx naming NSFW, moderation, a policy        | 400 `content_policy_violation` [UNVERIFIED] |
| 402 (error codes page), a credit-limit 4xx    | 402 quota, not retried                     |
| 400, 422 (other)                              | 400, Together's `param` as the field       |
| 401, 403                                      | 502 `provider_auth_failed`                 |
| 404                                           | 404 `model_not_found`                      |
| 429                                           | 429, `Retry-After` as its hint             |
| 5xx (503: "engine overloaded")               | 502, retried                               |
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import GatewayError, InvalidRequest, UpstreamError
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail, common_error_detail, safe_token
from image_gateway.providers.kit.sync import Answer, SyncJSONProvider
from image_gateway.providers.together import DEFINITION, translate
from image_gateway.providers.together.config import TogetherConfig
from image_gateway.providers.together.models import (
    MAX_SIDE,
    MIN_SIDE,
    MODELS,
    PARAM_SCHEMAS,
    as_together,
    spec_for,
)
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse


class TogetherProvider(SyncJSONProvider[TogetherConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def model(self, model_id: str) -> ModelSpec | None:
        """A listed model, or a `black-forest-labs/FLUX…` id passed through (`models.spec_for`)."""
        return spec_for(model_id)

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks, then Together's (module docstring)."""
        super().validate(task, spec)
        model = as_together(spec)
        if task.size is not None and task.aspect_ratio is not None:
            raise InvalidRequest(
                f"{spec.id} takes a size or an aspect_ratio; send one of them",
                param="aspect_ratio",
            )
        if task.size is not None and not all(MIN_SIDE <= side <= MAX_SIDE for side in task.size):
            raise InvalidRequest(
                f"size {task.size[0]}x{task.size[1]} is not supported by {spec.id}: width and "
                f"height must each be {MIN_SIDE}-{MAX_SIDE} px",
                param="size",
            )
        check_params(task.params, model)

    # -- the kit's hooks -----------------------------------------------------------------

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        return "/images/generations"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_together(spec), self.config.response_format)

    def from_vendor(self, payload: Any) -> Answer:
        return translate.from_vendor(payload, self.name)

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        """Together's `{"error": {"message", "type", "param", "code"}}`, its `param` named in
        the gateway's terms; a body without a `code` keeps its `type` as the code."""
        detail = common_error_detail(resp, self.name, self.secrets())
        code = detail.code
        if code is None:
            try:
                payload = resp.json(self.name)
            except UpstreamError:
                payload = None
            error = payload.get("error") if isinstance(payload, dict) else None
            if isinstance(error, dict):
                code = safe_token(error.get("type"), self.secrets())
        return ErrorDetail(detail.message, code, translate.gateway_param(detail.param))

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        return translate.refusal(resp.status, detail, self.name)


def check_params(params: dict[str, Any], model: Any) -> None:
    """Each provider_param of the right type and range (`models.PARAM_SCHEMAS`; `steps` up to
    the model's own `max_steps`)."""
    for name, value in params.items():
        schema = PARAM_SCHEMAS.get(name, {})
        kind = schema.get("type")
        if kind == "boolean":
            ok = isinstance(value, bool)
            expected = "true or false"
        else:
            low = schema.get("minimum", 0)
            high = model.max_steps if name == "steps" else schema.get("maximum")
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if kind == "integer":
                number = number and isinstance(value, int)
            ok = number and low <= value <= high
            kind_text = "an integer" if kind == "integer" else "a number"
            expected = f"{kind_text} from {low} to {high}"
        if not ok:
            raise InvalidRequest(
                f"provider_params.{name} {value!r:.40} is not valid for {model.id}: {expected}",
                param=f"provider_params.{name}",
            )
