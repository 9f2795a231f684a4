"""`luma`: Luma's Photon models on the submit-and-poll kit (`kit/polling.py`).

A generation is `POST {LUMA_BASE_URL}/generations/image` (JSON, `Authorization: Bearer
$LUMAAI_API_KEY`, lumaai-python `resources/generations/image.py`), answered with a Generation
(its `id`); it is polled at `GET {LUMA_BASE_URL}/generations/{id}` (Luma returns no status URL:
the kit builds it, `poll_url`) while `queued` or `dreaming`, and its `assets.image` downloaded at
once once `completed`, without the key, from `LUMA_TRUSTED_HOSTS`. A generation the gateway stops
waiting for is deleted (`DELETE /generations/{id}`, the SDK's `generations.delete`: Luma has no
separate cancel). `sync`/`sync_timeout` (the SDK documents them: Luma holds the answer until the
image is done) are not used: polling reports the status words to jobs and streams, and a
submission's read timeout stays short.

Checked here before anything is spent: a size is one of Luma's ratios, not both a size and an
aspect ratio, and the reference fields' shapes and URLs (`translate.check_references`). An
upload (`POST /v1/images/edits`) is a 400 saying how to edit with Luma (`models.py`).

Error answers (`translate.py`, then the status table of `kit/errors.py`):

| answer                                     | gateway error                                  |
|--------------------------------------------|------------------------------------------------|
| poll `failed` naming moderation (HTTP 200) | 400 `content_policy_violation`, after acceptance |
| poll `failed` (other)                      | 502 `generation_failed`, after acceptance      |
| 4xx naming moderation or NSFW (submission) | 400 `content_policy_violation` ([UNVERIFIED])  |
| 402, or a 4xx about credits                | 402 quota, not retried                         |
| 400, 422 (`detail` list)                   | 400, the field it names                        |
| 401, 403                                   | 502 `provider_auth_failed`                     |
| 429                                        | 429, `Retry-After` as its hint                 |
| 5xx                                        | 502, retried (submissions; polls are free)     |
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import GatewayError, InvalidRequest, UpstreamError
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.polling import Call, PollOutcome, SubmitAndPollProvider, Submitted
from image_gateway.providers.luma import DEFINITION, translate
from image_gateway.providers.luma.config import LumaConfig
from image_gateway.providers.luma.models import ASPECT_RATIOS, MODELS, PARAM_SCHEMAS, as_luma
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse

_RATIOS = ", ".join(ASPECT_RATIOS)


class LumaProvider(SubmitAndPollProvider[LumaConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """An upload first (the clearest answer), then the common checks, then Luma's."""
        if task.is_edit:
            raise InvalidRequest(
                f"{spec.id} reads input images only from URLs Luma fetches itself, and the "
                "gateway does not publish uploaded images: to edit, send POST "
                "/v1/images/generations with provider_params.modify_image_ref "
                '{"url": "https://...", "weight": 1.0} (or image_ref, style_ref, character_ref)',
                param="image",
                code="unsupported_parameter",
            )
        super().validate(task, as_luma(spec))
        if task.size is not None and task.aspect_ratio is not None:
            raise InvalidRequest(
                f"{spec.id} takes a size or an aspect_ratio; send one of them",
                param="aspect_ratio",
            )
        if task.aspect_ratio is not None and task.aspect_ratio not in ASPECT_RATIOS:
            raise InvalidRequest(
                f"aspect_ratio {task.aspect_ratio} is not supported by {spec.id}; "
                f"supported: {_RATIOS}",
                param="aspect_ratio",
            )
        if task.size is not None and translate.size_ratio(task.size) is None:
            raise InvalidRequest(
                f"size {task.size[0]}x{task.size[1]} is not one of {spec.id}'s aspect ratios "
                f"({_RATIOS}); Luma takes no pixel size: send one of them as aspect_ratio",
                param="size",
            )
        translate.check_references(task.params)

    # -- the kit's hooks -----------------------------------------------------------------

    def submit_url(self, spec: ModelSpec) -> str:
        return f"{self.config.base_url}/generations/image"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_luma(spec))

    def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
        return translate.parse_submit(payload)

    def poll_url(self, task_id: str) -> str:
        return f"{self.config.base_url}/generations/{task_id}"

    def parse_poll(self, resp: UpstreamResponse, payload: Any, submitted: Submitted) -> PollOutcome:
        return translate.parse_poll(payload, submitted.task_id, self.secrets())

    def cancel_call(self, submitted: Submitted) -> Call:
        """`DELETE /generations/{id}` (lumaai-python `generations.delete`)."""
        return Call("DELETE", self.poll_url(submitted.task_id))

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        try:
            payload = resp.json(self.name)
        except UpstreamError:
            payload = None
        found = translate.error_detail(payload, self.secrets())
        return found if found is not None else super().error_detail(resp)

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        return translate.refusal(resp.status, detail)
