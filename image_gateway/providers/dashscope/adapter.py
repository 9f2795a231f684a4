"""`dashscope`: DashScope's asynchronous image-synthesis tasks on the submit-and-poll kit.

A task is submitted to `POST {DASHSCOPE_BASE_URL}/api/v1/services/aigc/{text2image |
image2image}/image-synthesis` with `Authorization: Bearer $DASHSCOPE_API_KEY` and
`X-DashScope-Async: enable` (DASH-PY: the models here have no synchronous call, or not one
this adapter uses), polled at `GET /api/v1/tasks/{task_id}` (DashScope returns no status URL:
the SDK builds it the same way), and cancelled, when the gateway stops waiting, by `POST
/api/v1/tasks/{task_id}/cancel` (DashScope cancels only a PENDING task; a later cancel is
refused, harmlessly). Results are URLs on Alibaba Cloud OSS, valid 24 hours, downloaded at
once from `DASHSCOPE_TRUSTED_HOSTS` without the key. One task makes up to 4 images (`n`;
Qwen-Image 1), more are fanned out.

Checked here before anything is spent: the size (`models.py`), the aspect ratio of Wan 2.5's,
`seed` 0-2147483647, the provider_params' types, wanx2.1-imageedit's `function` (and that
`description_edit_with_mask` has a mask and no other function is given one: it is the only
function that reads `mask_image_url`, DASH-PY), a mask on any other model.

Errors (`translate.py`):

| answer                                               | gateway error                         |
|------------------------------------------------------|---------------------------------------|
| 400 `DataInspectionFailed`, `IPInfringementSuspect`  | 400 `content_policy_violation`        |
| task FAILED with such a code, or every result failed with one | the same (after acceptance)  |
| task FAILED otherwise, CANCELED                      | 502 `generation_failed` (paid?)       |
| task UNKNOWN (more than the kit's grace)             | 502 `task_not_found`                  |
| 400 `InvalidParameter`, ...                          | 400, DashScope's code                 |
| 400 `Arrearage`, 429 `Throttling.AllocationQuota`    | 402 quota (not retried)               |
| 401 `InvalidApiKey`, 403 `AccessDenied`              | 502 `provider_auth_failed`            |
| 429 `Throttling`, `Throttling.RateQuota`             | 429 with its retry hint               |
| 5xx                                                  | 502, retried                          |
"""

from __future__ import annotations

import asyncio
from typing import Any

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    InvalidRequest,
    ProviderQuotaExhausted,
    UpstreamError,
)
from image_gateway.providers.dashscope import DEFINITION, translate
from image_gateway.providers.dashscope.config import DashScopeConfig
from image_gateway.providers.dashscope.models import (
    FUNCTIONS,
    MAX_RATIO,
    MODELS,
    PARAM_SCHEMAS,
    PIXEL_RANGE,
    SEED_MAX,
    SIDE_RANGE,
    DashScopeModel,
    as_dashscope,
)
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal
from image_gateway.providers.kit.polling import Call, PollOutcome, SubmitAndPollProvider, Submitted
from image_gateway.providers.kit.sizing import ratio_value
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse

API_PATH = "/api/v1"


class DashScopeProvider(SubmitAndPollProvider[DashScopeConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    @property
    def api_root(self) -> str:
        """`DASHSCOPE_BASE_URL` with `/api/v1` (not doubled when the SDK's form was set)."""
        base = str(self.config.base_url)
        return base if base.endswith(API_PATH) else base + API_PATH

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks (`models.py` declarations), then DashScope's (module docstring)."""
        super().validate(task, spec)
        model = as_dashscope(spec)
        if task.size is not None and task.aspect_ratio is not None:
            raise InvalidRequest("send size or aspect_ratio, not both", param="aspect_ratio")
        self._check_size(task, model)
        if task.seed is not None and not 0 <= task.seed <= SEED_MAX:
            raise InvalidRequest(f"seed must be 0 to {SEED_MAX} on {spec.id}", param="seed")
        for name in ("prompt_extend", "watermark"):
            if name in task.params and not isinstance(task.params[name], bool):
                raise InvalidRequest(
                    f"provider_params.{name} must be true or false",
                    param=f"provider_params.{name}",
                )
        self._check_edit(task, model)

    def _check_size(self, task: ImageTask, model: DashScopeModel) -> None:
        if model.size_mode == "none" and task.size is not None:
            raise InvalidRequest(
                f"size is not supported by {model.id}: it keeps the input image's size",
                param="size",
                code="unsupported_parameter",
            )
        if task.aspect_ratio is not None and model.size_mode == "pixels":
            if not 1 / MAX_RATIO <= ratio_value(task.aspect_ratio) <= MAX_RATIO:
                raise InvalidRequest(
                    f"aspect_ratio {task.aspect_ratio} is not supported by {model.id}: 1:4 to 4:1",
                    param="aspect_ratio",
                )
        if task.size is None:
            return
        width, height = task.size
        problem = None
        if model.size_mode == "sides" and not all(
            SIDE_RANGE[0] <= side <= SIDE_RANGE[1] for side in task.size
        ):
            problem = f"each side must be {SIDE_RANGE[0]}-{SIDE_RANGE[1]} pixels"
        elif model.size_mode == "pixels":
            low, high = PIXEL_RANGE
            if not low <= width * height <= high:
                problem = "it must have 768x768 to 1440x1440 pixels in all"
            elif not 1 / MAX_RATIO <= width / height <= MAX_RATIO:
                problem = "its aspect ratio must be within 1:4 to 4:1"
        if problem:
            raise InvalidRequest(
                f"size {width}x{height} is not supported by {model.id}: {problem}", param="size"
            )

    def _check_edit(self, task: ImageTask, model: DashScopeModel) -> None:
        function = task.params.get("function")
        if function is not None and function not in FUNCTIONS:
            raise InvalidRequest(
                f"provider_params.function {function!r:.40} is not one of {', '.join(FUNCTIONS)}",
                param="provider_params.function",
            )
        if function == "description_edit_with_mask" and task.mask is None:
            raise InvalidRequest(
                "provider_params.function description_edit_with_mask needs a mask", param="mask"
            )
        if function not in (None, "description_edit_with_mask") and task.mask is not None:
            raise InvalidRequest(
                f"provider_params.function {function} takes no mask (only"
                " description_edit_with_mask reads one)",
                param="mask",
                code="unsupported_parameter",
            )

    async def prepare(self, task: ImageTask, spec: ModelSpec) -> None:
        """An OpenAI-style mask (transparent = edit) becomes DashScope's (white = edit), once
        per request (400 `mask` when it cannot be decoded or is not the image's size)."""
        if task.mask is not None and task.images:
            mask = await asyncio.to_thread(
                translate.vendor_mask, task.images[0].data, task.mask.data
            )
            task.vendor = {**task.vendor, "mask": mask}

    # -- the kit's hooks -----------------------------------------------------------------

    def auth_headers(self, key: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {key}"}
        if self.config.workspace:
            headers["X-DashScope-WorkSpace"] = self.config.workspace
        return headers

    def submit_headers(self, journal: CallJournal = NO_JOURNAL) -> dict[str, str]:
        return {"X-DashScope-Async": "enable"}

    def submit_url(self, spec: ModelSpec) -> str:
        return f"{self.api_root}/services/aigc/{as_dashscope(spec).task}/image-synthesis"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_dashscope(spec))

    def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
        return translate.parse_submit(payload)

    def parse_poll(self, resp: UpstreamResponse, payload: Any, submitted: Submitted) -> PollOutcome:
        return translate.parse_task(payload, self.secrets())

    def poll_url(self, task_id: str) -> str | None:
        return f"{self.api_root}/tasks/{task_id}"

    def cancel_call(self, submitted: Submitted) -> Call | None:
        return Call("POST", f"{self.api_root}/tasks/{submitted.task_id}/cancel")

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        try:
            payload = resp.json(self.name)
        except UpstreamError:
            payload = None
        found = translate.error_detail(payload, self.secrets())
        return found if found is not None else super().error_detail(resp)

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        """Inspection refusals and quota codes the status table would misread."""
        if 400 <= resp.status < 500 and translate.is_moderation(detail.code):
            return ContentPolicyViolation(
                f"{self.name}'s content inspection refused the request ({detail.code})"
                + (f": {detail.message}" if detail.message else ""),
                code="content_policy_violation",
                provider=self.name,
            )
        if 400 <= resp.status < 500 and translate.is_quota(detail.code):
            return ProviderQuotaExhausted(
                f"the {self.name} account is out of quota or in arrears ({detail.code})",
                provider=self.name,
            )
        return None
