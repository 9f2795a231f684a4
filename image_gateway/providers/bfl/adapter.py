"""`bfl-flux`: Black Forest Labs' FLUX API on the submit-and-poll kit (`kit/polling.py`):
submit to `/v1/<endpoint>` with `x-key`, poll the returned `polling_url` (or, when it is not on
a trusted origin, `/v1/get_result?id=` on BFL_BASE_URL), download `result.sample` (signed, for
10 minutes) without the key. The translations are `translate.py`'s; this module adds BFL's
checks of a request, its input images and masks, and its hooks.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from image_gateway.errors import InvalidRequest, UpstreamError
from image_gateway.fetch import check_image_value, resolve_image_params
from image_gateway.providers.bfl import DEFINITION, translate
from image_gateway.providers.bfl.config import BFLConfig
from image_gateway.providers.bfl.masks import openai_mask_to_bfl
from image_gateway.providers.bfl.models import (
    IMAGE_PARAMS,
    MODELS,
    PARAM_SCHEMAS,
    REQUIRED_PARAMS,
    BFLModel,
)
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.cost import CreditPrice
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.polling import PollOutcome, SubmitAndPollProvider, Submitted
from image_gateway.providers.kit.sizing import ratio_value
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse


class BFLProvider(SubmitAndPollProvider[BFLConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS
    credit_price = CreditPrice(0.01, "BFL's pricing page: 1 credit = $0.01")

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        super().validate(task, spec)
        model = _bfl(spec)
        if task.aspect_ratio is not None and not 9 / 21 <= ratio_value(task.aspect_ratio) <= 21 / 9:
            raise InvalidRequest("aspect_ratio must be between 21:9 and 9:21", param="aspect_ratio")
        for name in REQUIRED_PARAMS.get(model.id, ()):
            if name not in task.params:
                raise InvalidRequest(
                    f"{model.id} needs provider_params.{name}", param=f"provider_params.{name}"
                )
        # safety_tolerance is 0-6 on FLUX1.x and Kontext, 0-5 on FLUX.2 (BFL's OpenAPI): the
        # schema gives only the minimum they share, the maximum is the model's.
        top = 5 if model.id.startswith("flux-2") else 6
        tolerance = task.params.get("safety_tolerance")
        if isinstance(tolerance, int) and tolerance > top:
            raise InvalidRequest(
                f"provider_params.safety_tolerance is 0-{top} on {model.id}",
                param="provider_params.safety_tolerance",
            )
        if task.is_edit and model.size_mode == "none" and task.size is not None:
            raise InvalidRequest(f"{model.id} keeps the input image's size", param="size")
        for name in IMAGE_PARAMS:
            if name in task.params:
                check_image_value(
                    task.params[name],
                    field=f"provider_params.{name}",
                    max_bytes=self.settings.fetch_max_bytes,
                    allow_raw_base64=True,
                )

    async def prepare(self, task: ImageTask, spec: ModelSpec) -> None:
        """Input images named in `provider_params` (URL, data: URL or base64) become the base64
        of their checked bytes, so BFL never fetches a client's URL; an OpenAI-style mask is
        converted to BFL's black-and-white one (400 `mask` when it cannot be decoded). Part of
        the pre-flight: both refusals come before any job exists or any call is sent."""
        task.params = await resolve_image_params(
            task.params, IMAGE_PARAMS, self.fetcher, prefix="provider_params."
        )
        if task.mask is not None:
            mask = await asyncio.to_thread(openai_mask_to_bfl, task.mask.data)
            task.vendor = {**task.vendor, "mask": mask}  # this task's own: candidates share one

    # -- the kit's hooks -----------------------------------------------------------------

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"x-key": key}

    def submit_url(self, spec: ModelSpec) -> str:
        return f"{self.config.base_url}/v1/{_bfl(spec).path}"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, _bfl(spec))

    def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
        return translate.parse_submit(payload)

    def parse_poll(self, resp: UpstreamResponse, payload: Any, submitted: Submitted) -> PollOutcome:
        return translate.parse_poll(payload, submitted.task_id, self.secrets())

    def poll_url(self, task_id: str) -> str:
        """BFL's 2024 client built it so; BFL now says to poll the returned one."""
        return f"{self.config.base_url}/v1/get_result?id={quote(task_id)}"

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        try:
            payload = resp.json(self.name)
        except UpstreamError:
            payload = None
        found = translate.validation_detail(payload, self.secrets())
        return found if found is not None else super().error_detail(resp)


def _bfl(spec: ModelSpec) -> BFLModel:
    if not isinstance(spec, BFLModel):
        raise TypeError(f"{spec.id} is not a BFL model")
    return spec
