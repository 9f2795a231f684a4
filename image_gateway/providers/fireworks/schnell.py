"""The synchronous part of `fireworks`: FLUX.1 [schnell] on `kit/sync.SyncJSONProvider`.

One `POST {FIREWORKS_BASE_URL}/workflows/{model.path}` with `Authorization: Bearer` and
`Accept` (`translate.accept`); the answer is the image (its bytes, or JSON with base64), read
by `translate.py`. One call makes one image: `n` fans out. Errors: Fireworks' 412 and 413
(`errors.py`), else the kit's status table (401/403 `provider_auth_failed`, 402 quota, 429 with
`Retry-After`, 5xx retried; a 400's OpenAI-style body gives the message).

Checked here: an aspect ratio from `SCHNELL_RATIOS`, a size of one of them (Fireworks takes
no width or height on this workflow), provider_params' types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from image_gateway.errors import GatewayError, InvalidRequest
from image_gateway.providers.fireworks import DEFINITION, errors, translate
from image_gateway.providers.fireworks.config import FireworksConfig
from image_gateway.providers.fireworks.models import (
    SCHNELL,
    SCHNELL_RATIOS,
    SCHNELL_SCHEMAS,
    SchnellModel,
)
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.param_types import check_param_types
from image_gateway.providers.kit.sync import Answer, Submission, SyncJSONProvider
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse

_RATIOS = ", ".join(SCHNELL_RATIOS)


class SchnellPart(SyncJSONProvider[FireworksConfig]):
    definition = DEFINITION
    models: ClassVar[Mapping[str, ModelSpec]] = {SCHNELL.id: SCHNELL}
    param_schemas = SCHNELL_SCHEMAS

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        super().validate(task, spec)
        check_param_types(task.params, SCHNELL_SCHEMAS)
        if task.aspect_ratio is not None and task.aspect_ratio not in SCHNELL_RATIOS:
            raise InvalidRequest(
                f"aspect_ratio {task.aspect_ratio} is not supported by {spec.id}; "
                f"supported: {_RATIOS}",
                param="aspect_ratio",
            )
        if task.size is not None:
            ratio = translate.size_ratio(task.size)
            size = f"{task.size[0]}x{task.size[1]}"
            if ratio is None:
                raise InvalidRequest(
                    f"size {size} is not supported by {spec.id}: it takes no size, only the "
                    f"aspect ratios {_RATIOS} (a size of one of them picks it)",
                    param="size",
                )
            if task.aspect_ratio is not None and ratio != task.aspect_ratio:
                raise InvalidRequest(
                    f"size {size} is {ratio}, not aspect_ratio {task.aspect_ratio}",
                    param="aspect_ratio",
                )

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        return f"/workflows/{_schnell(spec).path}"

    async def submission(self, task: ImageTask, spec: ModelSpec) -> Submission:
        request = await super().submission(task, spec)
        accept = translate.accept(task, self.config.accept)
        request.headers = {**request.headers, "Accept": accept}
        return request

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task)

    def read_response(self, resp: UpstreamResponse, task: ImageTask, spec: ModelSpec) -> Answer:
        """The image's bytes or JSON, whichever the answer's content-type says."""
        if resp.headers.get("content-type", "").lower().startswith("image/"):
            return translate.from_image(resp.body, resp.headers, self.secrets())
        return translate.from_json(resp.json(self.name), self.secrets())

    def from_vendor(self, payload: Any) -> Answer:
        return translate.from_json(payload, self.secrets())

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        return errors.refusal(resp, detail, self.name)


def _schnell(spec: ModelSpec) -> SchnellModel:
    if not isinstance(spec, SchnellModel):
        raise TypeError(f"{spec.id} is not a synchronous Fireworks model")
    return spec
