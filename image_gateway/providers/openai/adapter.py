"""`openai`: the OpenAI Images API and OpenAI-compatible endpoints on `kit/sync.py`: JSON to
`/images/generations`, a multipart form to `/images/edits`. The translations are in
`translate.py`; this class holds the hooks: which models it serves (newer GPT image ids pass
through), what only OpenAI checks, and which error codes the status table would get wrong.
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
from image_gateway.providers.kit.sync import Answer, SyncJSONProvider
from image_gateway.providers.openai import DEFINITION, translate
from image_gateway.providers.openai.config import OpenAIConfig
from image_gateway.providers.openai.models import MODELS, as_openai, passthrough_spec
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import FormPart, UpstreamResponse

# `error.code`s of OpenAI's moderation (a 400): the prompt or an input image was refused.
MODERATION_CODES = ("content_policy_violation", "moderation_blocked")
# `error.code`s that mean the account cannot pay (on a 429 too): retrying will not help, as it
# would for a plain rate limit.
QUOTA_CODES = ("insufficient_quota", "billing_hard_limit_reached", "credit_balance_exhausted")


class OpenAIProvider(SyncJSONProvider[OpenAIConfig]):
    definition = DEFINITION
    models = MODELS
    # Its base64 is only decoded (`translate.from_vendor`), from the answer's own bytes, never
    # copied into a str first (issue 16, bench/RESULTS.md).
    b64_views = True

    def model(self, model_id: str) -> ModelSpec | None:
        return MODELS.get(model_id) or passthrough_spec(model_id)

    def normalize(self, task: ImageTask, spec: ModelSpec) -> None:
        """An aspect ratio without a size becomes the size to ask for (`size_for_aspect`); a
        model that takes none is left for `validate` to refuse."""
        if task.aspect_ratio is not None and task.size is None and spec.aspect_ratios:
            task.size = translate.size_for_aspect(task.aspect_ratio, as_openai(spec))

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks (what each model declares, `models.py`), then what only OpenAI
        has: per-model prompt lengths and gpt-image-2's flexible sizes."""
        super().validate(task, spec)
        model = as_openai(spec)
        if len(task.prompt) > model.max_prompt:
            raise InvalidRequest(
                f"prompt is longer than {model.max_prompt} characters for {spec.id}",
                param="prompt",
            )
        if model.flexible_size and task.size is not None:
            translate.check_flexible_size(task.size)

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        return "/images/edits" if task.is_edit else "/images/generations"

    def uses_form(self, task: ImageTask) -> bool:
        return task.is_edit

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_openai(spec))

    def form_files(self, task: ImageTask) -> list[FormPart]:
        return translate.form_files(task)

    def from_vendor(self, payload: Any) -> Answer:
        return translate.from_vendor(payload, self.name)

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        """Moderation (a 400) and an account out of quota (a 429 `insufficient_quota`) by their
        `error.code`; the status table decides the rest (408 and 409 are retried there, as
        openai-python does: OpenAI did not make, or bill, the images)."""
        if detail.code in MODERATION_CODES:
            return ContentPolicyViolation(
                "the provider's safety system rejected this request",
                code="content_policy_violation",
                provider=self.name,
            )
        if detail.code in QUOTA_CODES:
            return ProviderQuotaExhausted(
                f"the {self.name} account is out of quota", provider=self.name
            )
        return None
