"""`stability`: Stability AI's Stable Image API on `kit/sync.SyncMultipartProvider`.

Each call is one `POST {STABILITY_BASE_URL}{model.path}` as `multipart/form-data` (even without
a file), `authorization: Bearer $STABILITY_API_KEY`, `accept: STABILITY_ACCEPT`
(`application/json` by default; either answer is read, `translate.py`). One call makes one
image: `n` fans out. Edits are the edit-only models of `models.py`; Ultra and SD3.5 take one
input image as image-to-image (`strength` required, as Stability requires it).

Checked here before anything is spent (Stability's 400s cost nothing either, but name fields
less clearly): the aspect ratio (a size must have one of Stability's), the seed's range,
`strength` with an input image, outpaint's sides, search-and-replace's `search_prompt`, and
the provider_params' types (`models.PARAM_SCHEMAS`).

Error answers (`translate.error_detail`, then `classify_error`):

| answer                                   | gateway error                                  |
|------------------------------------------|------------------------------------------------|
| 200 `finish_reason: CONTENT_FILTERED`    | 400 `content_policy_violation` (charged [UNVERIFIED]) |
| 403 `content_moderation`, 422 `public_figure` | 400 `content_policy_violation` (not charged) |
| 400, 422 (`invalid_language`, ...)       | 400, Stability's `name` as code, its field named |
| 401, 403 (other)                         | 502 `provider_auth_failed`                     |
| 402 `payment_required`                   | 402 quota ([3P] for v2beta)                    |
| 413 `payload_too_large`                  | 413 `payload_too_large` naming `image`         |
| 429 `rate_limit_exceeded`                | 429, retry hint `Retry-After`, else 60 s (lock-out) |
| 5xx                                      | 502, retried                                   |
"""

from __future__ import annotations

import asyncio
from typing import Any

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    InvalidRequest,
    PayloadTooLarge,
    ProviderRateLimited,
)
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import (
    ErrorDetail,
    retry_after_header,
    retry_after_seconds,
)
from image_gateway.providers.kit.masks import WHITE, black_and_white_mask
from image_gateway.providers.kit.param_types import check_param_types
from image_gateway.providers.kit.sync import Answer, Submission, SyncMultipartProvider
from image_gateway.providers.stability import DEFINITION, translate
from image_gateway.providers.stability.config import StabilityConfig
from image_gateway.providers.stability.models import (
    ASPECT_RATIOS,
    MAX_SEED,
    MODELS,
    OUTPAINT_SIDES,
    PARAM_SCHEMAS,
    as_stability,
)
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import FormPart, UpstreamResponse

_RATIOS = ", ".join(ASPECT_RATIOS)


class StabilityProvider(SyncMultipartProvider[StabilityConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks, then Stability's (module docstring)."""
        super().validate(task, spec)
        model = as_stability(spec)
        check_param_types(task.params, PARAM_SCHEMAS)
        if task.seed is not None and not 0 <= task.seed <= MAX_SEED:
            raise InvalidRequest(
                f"seed {task.seed} is out of range for {spec.id}: 0-{MAX_SEED} (0 = random)",
                param="seed",
            )
        if model.kind == "generate":
            self._check_ratio(task, spec)
            if task.is_edit and "strength" not in task.params:
                raise InvalidRequest(
                    f"an image-to-image request to {spec.id} needs provider_params.strength "
                    "(0-1: how much the input image changes)",
                    param="provider_params.strength",
                )
            if not task.is_edit and "strength" in task.params:
                raise InvalidRequest(
                    "provider_params.strength applies to an input image: use POST /v1/images/edits",
                    param="provider_params.strength",
                )
        elif task.size is not None:
            raise InvalidRequest(
                f"size is not supported by {spec.id}: {spec.size_rule}",
                param="size",
                code="unsupported_parameter",
            )
        if model.kind == "outpaint" and not any(task.params.get(s) for s in OUTPAINT_SIDES):
            raise InvalidRequest(
                f"{spec.id} needs at least one of provider_params.left, right, up, down "
                "(pixels to add on that side)",
                param="provider_params.left",
            )
        if model.kind == "search-and-replace" and not task.params.get("search_prompt"):
            raise InvalidRequest(
                f"{spec.id} needs provider_params.search_prompt (what to replace)",
                param="provider_params.search_prompt",
            )

    def _check_ratio(self, task: ImageTask, spec: ModelSpec) -> None:
        if task.aspect_ratio is not None and task.aspect_ratio not in ASPECT_RATIOS:
            raise InvalidRequest(
                f"aspect_ratio {task.aspect_ratio} is not supported by {spec.id}; "
                f"supported: {_RATIOS}",
                param="aspect_ratio",
            )
        if task.size is None:
            return
        ratio = translate.size_ratio(task.size, ASPECT_RATIOS)
        size = f"{task.size[0]}x{task.size[1]}"
        if ratio is None:
            raise InvalidRequest(
                f"size {size} is not supported by {spec.id}: Stability takes no size, only "
                f"the aspect ratios {_RATIOS} (a size of one of them picks it)",
                param="size",
            )
        if task.aspect_ratio is not None and ratio != task.aspect_ratio:
            raise InvalidRequest(
                f"size {size} is {ratio}, not aspect_ratio {task.aspect_ratio}; send one of them",
                param="aspect_ratio",
            )

    async def prepare(self, task: ImageTask, spec: ModelSpec) -> None:
        """An OpenAI-style mask (transparent = edit) becomes Stability's (white = edit), once
        per request (400 `mask` when it cannot be decoded)."""
        if task.mask is not None:
            mask = await asyncio.to_thread(black_and_white_mask, task.mask.data, edited=WHITE)
            task.vendor = {**task.vendor, "mask": mask}

    # -- the kit's hooks -----------------------------------------------------------------

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        return as_stability(spec).path

    async def submission(self, task: ImageTask, spec: ModelSpec) -> Submission:
        request = await super().submission(task, spec)
        request.headers = {**request.headers, "accept": self.config.accept}
        return request

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_stability(spec), ASPECT_RATIOS)

    def form_files(self, task: ImageTask) -> list[FormPart]:
        mask = task.vendor.get("mask")
        if mask is None and task.mask is not None:
            mask = task.mask.data
        return translate.form_files(task, mask)

    def read_response(self, resp: UpstreamResponse, task: ImageTask, spec: ModelSpec) -> Answer:
        """JSON or the image's bytes, whichever the answer's content-type says."""
        content_type = resp.headers.get("content-type", "").lower()
        if content_type.startswith("image/"):
            return translate.from_image(resp.body, resp.headers, self.secrets())
        return translate.from_json(resp.json(self.name), self.secrets())

    def from_vendor(self, payload: Any) -> Answer:
        return translate.from_json(payload, self.secrets())

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        try:
            payload = resp.json(self.name)
        except GatewayError:
            payload = None
        found = translate.error_detail(payload, self.secrets())
        return found if found is not None else super().error_detail(resp)

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        if resp.status in (403, 422) and detail.code in translate.MODERATION_NAMES:
            return ContentPolicyViolation(
                f"{self.name}'s content moderation refused this request (not charged): "
                f"{detail.message}",
                code="content_policy_violation",
                provider=self.name,
            )
        if resp.status == 413:
            return PayloadTooLarge(
                f"{self.name} refused the request as too large (at most 10 MiB): {detail.message}",
                code="payload_too_large",
                param="image",
                provider=self.name,
            )
        if resp.status == 429:
            wait = retry_after_seconds(resp.headers) or translate.lockout_seconds(detail)
            return ProviderRateLimited(
                f"{self.name} rate limit reached (150 requests in 10 s; then locked out for "
                f"{wait:.0f} s); retry later",
                provider=self.name,
                headers=retry_after_header(wait),
                retryable=True,
                retry_after=wait,
            )
        return None
