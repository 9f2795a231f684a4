"""`ideogram`: Ideogram's API on `kit/sync.SyncMultipartProvider`.

Each call is one `POST {IDEOGRAM_BASE_URL}/v1/ideogram-{v3|v4}/{generate|edit|remix}` as
`multipart/form-data`, `Api-Key: $IDEOGRAM_API_KEY` (REFERENCE §3.5), the model's
`rendering_speed`; 3.0 makes up to 8 images a call (`num_images`), 4.0 one. Its answer names
each image by a temporary URL, downloaded at once (`kit/sync`: only from `IDEOGRAM_BASE_URL`'s
origin and `IDEOGRAM_TRUSTED_HOSTS`, never with the key). Ideogram allows 10 requests in
flight by default (REFERENCE §3.5): more are 429s, which the dispatcher's fan-out can meet.

Checked here before anything is spent: a size from the model's list and an aspect ratio it
has (3.0: `ASPECT_RATIOS_V3`; 4.0: the ratio of a listed size), not both; the seed's range;
a mask only on 3.0 (`/edit`) and no size, aspect ratio or negative prompt with it (the edit
keeps the input image's size); `image_weight` only on a remix; provider_params' types.

Error answers (`translate.py` for the HTTP-200 refusal):

| answer                                     | gateway error                               |
|--------------------------------------------|---------------------------------------------|
| 200, every image `is_image_safe: false`    | 400 `content_policy_violation` (priced)     |
| 200 with some unsafe                       | the others, `images_filtered`; all priced   |
| 422 ("Prompt failed the safety check")     | 400 `content_policy_violation`              |
| 402 (`reject_reason`: `insufficient_funds`, ...) | 402 quota, the reason named        |
| 400                                        | 400, Ideogram's message                     |
| 401, 403                                   | 502 `provider_auth_failed`                  |
| 429                                        | 429, retry hint `Retry-After`               |
| 5xx                                        | 502, retried                                |
"""

from __future__ import annotations

import asyncio
from fractions import Fraction
from typing import Any

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    InvalidRequest,
    ProviderQuotaExhausted,
)
from image_gateway.providers.ideogram import DEFINITION, translate
from image_gateway.providers.ideogram.config import IdeogramConfig
from image_gateway.providers.ideogram.models import (
    ASPECT_RATIOS_V3,
    MAX_SEED,
    MODELS,
    PARAM_SCHEMAS,
    V4_BY_RATIO,
    as_ideogram,
)
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.masks import BLACK, black_and_white_mask
from image_gateway.providers.kit.param_types import check_param_types
from image_gateway.providers.kit.sizing import parse_ratio
from image_gateway.providers.kit.sync import Answer, SyncMultipartProvider
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import FormPart, UpstreamResponse

_V4_RATIOS = ", ".join(f"{r.numerator}:{r.denominator}" for r in V4_BY_RATIO)


class IdeogramProvider(SyncMultipartProvider[IdeogramConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks, then Ideogram's (module docstring)."""
        super().validate(task, spec)
        model = as_ideogram(spec)
        check_param_types(task.params, PARAM_SCHEMAS)
        if task.seed is not None and not 0 <= task.seed <= MAX_SEED:
            raise InvalidRequest(
                f"seed {task.seed} is out of range for {spec.id}: 0-{MAX_SEED}", param="seed"
            )
        if task.size is not None and task.aspect_ratio is not None:
            raise InvalidRequest(
                f"{spec.id} takes a size or an aspect_ratio, not both", param="aspect_ratio"
            )
        if task.aspect_ratio is not None:
            self._check_ratio(task.aspect_ratio, model.version, spec.id)
        call = translate.call_of(task)
        if call == "edit":  # Ideogram 3.0 only (`masks`): 4.0 only remixes
            for name in ("size", "aspect_ratio", "negative_prompt"):
                if getattr(task, name) is not None:
                    raise InvalidRequest(
                        f"{name} is not supported by {spec.id} with a mask (Ideogram's edit "
                        "keeps the input image's size and takes no negative prompt)",
                        param=name,
                        code="unsupported_parameter",
                    )
        if call == "remix" and model.version == "v4" and task.size is not None:
            raise InvalidRequest(
                f"size is not supported by {spec.id} when remixing (the input image's)",
                param="size",
                code="unsupported_parameter",
            )
        if call != "remix" and "image_weight" in task.params:
            raise InvalidRequest(
                "provider_params.image_weight applies to a remix: an edit with an input image "
                "and no mask",
                param="provider_params.image_weight",
            )

    @staticmethod
    def _check_ratio(ratio: str, version: str, model_id: str) -> None:
        if version == "v3" and ratio in ASPECT_RATIOS_V3:
            return
        width, height = parse_ratio(ratio)
        if version == "v4" and Fraction(width, height) in V4_BY_RATIO:
            return
        offered = ", ".join(ASPECT_RATIOS_V3) if version == "v3" else _V4_RATIOS
        raise InvalidRequest(
            f"aspect_ratio {ratio} is not supported by {model_id}; supported: {offered}",
            param="aspect_ratio",
        )

    async def prepare(self, task: ImageTask, spec: ModelSpec) -> None:
        """An OpenAI-style mask (transparent = edit) becomes Ideogram's (black = edit, the input
        image's size), once per request (400 `mask` when it cannot be decoded or fits not)."""
        if task.mask is not None and task.images:
            size = await asyncio.to_thread(_image_size, task.images[0].data)
            mask = await asyncio.to_thread(
                black_and_white_mask, task.mask.data, edited=BLACK, mode="RGB", size=size
            )
            task.vendor = {**task.vendor, "mask": mask}

    # -- the kit's hooks -----------------------------------------------------------------

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        return translate.path(as_ideogram(spec), translate.call_of(task))

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Api-Key": key}

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_ideogram(spec))

    def form_files(self, task: ImageTask) -> list[FormPart]:
        mask = task.vendor.get("mask")
        if mask is None and task.mask is not None:
            mask = task.mask.data
        return translate.form_files(task, mask)

    def from_vendor(self, payload: Any) -> Answer:
        return translate.from_vendor(payload)

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        if resp.status == 422:  # IDEO-DOCS: "Prompt failed the safety check"
            return ContentPolicyViolation(
                f"{self.name}'s safety check refused this prompt: {detail.message}",
                code="content_policy_violation",
                provider=self.name,
            )
        if resp.status == 402:  # Ideogram's errors page: a reject_reason, nothing billed
            reason = translate.reject_reason(resp, self.secrets())
            return ProviderQuotaExhausted(
                f"the {self.name} account cannot pay for this request"
                + (f" (reject_reason {reason})" if reason else ""),
                provider=self.name,
            )
        return None


def _image_size(data: bytes) -> tuple[int, int] | None:
    """The input image's size, for the mask's check; None when Pillow cannot tell (the
    gateway has checked the image already: Ideogram's 400 then says what is wrong)."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except (OSError, ValueError):
        return None
