"""`xai`: xAI's Images API on `kit/sync.py`: JSON to `/images/generations`, and JSON (not
OpenAI's multipart form) to `/images/edits`, Bearer `XAI_API_KEY`. One call makes up to 10
images (`n`). Results come as `url` on xAI's image host (downloaded at once through the
trusted-origin check, `XAI_TRUSTED_HOSTS`, never with the key) or as `b64_json`
(`XAI_RESPONSE_FORMAT`).

Why not a subclass of the OpenAI adapter: xAI's edits are JSON, its models are not OpenAI's
(`OpenAIModel`), and nearly every hook differs; what is the same is reused from it: the
reading of an `ImagesResponse` (`openai.translate.from_vendor`) and its moderation and quota
codes.

xAI silently falls back to its defaults for a value it does not know (an aspect ratio,
`resolution: "1K"`, REFERENCE-MORE §7 [3P]), so the gateway checks every value itself: a bad one
is a 400 naming the field before anything is sent.
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import GatewayError, InvalidRequest
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.sync import Answer, SyncJSONProvider
from image_gateway.providers.xai import DEFINITION, errors, translate
from image_gateway.providers.xai.config import XAIConfig
from image_gateway.providers.xai.models import (
    ASPECT_RATIOS,
    MODELS,
    PARAM_SCHEMAS,
    RESOLUTIONS,
    as_xai,
    canonical,
)
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse

# The gateway's spelling of xAI's ratios, for messages (`translate.wire_aspect_ratio`).
_RATIOS = ", ".join(r.replace("9:19.5", "6:13").replace("19.5:9", "13:6") for r in ASPECT_RATIOS)


class XAIProvider(SyncJSONProvider[XAIConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def model(self, model_id: str) -> ModelSpec | None:
        """A listed id, or one xAI also answers to (`models.canonical`: `-pro`, `-beta`)."""
        name = canonical(model_id)
        return None if name is None else MODELS[name]

    def normalize(self, task: ImageTask, spec: ModelSpec) -> None:
        """`provider_params.resolution` "1K"/"2K" becomes xAI's lowercase (xAI would silently
        make 1k for "2K"); other values are left for `validate`."""
        value = task.params.get("resolution")
        if isinstance(value, str) and value != value.lower():
            task.params = {**task.params, "resolution": value.lower()}

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks (`models.py` declarations), then xAI's rules: no size, its aspect
        ratios, `resolution` 1k or 2k, no mask, one end-user id."""
        super().validate(task, spec)
        as_xai(spec)
        if task.size is not None:
            raise InvalidRequest(
                f"size is not supported by {spec.id} (xAI takes no size): use aspect_ratio "
                f"({_RATIOS}) and provider_params.resolution (1k or 2k)",
                param="size",
                code="unsupported_parameter",
            )
        if task.aspect_ratio is not None and translate.wire_aspect_ratio(task.aspect_ratio) is None:
            raise InvalidRequest(
                f"aspect_ratio {task.aspect_ratio} is not supported by {spec.id}; supported: "
                f"{_RATIOS} (leave it out for xAI's auto)",
                param="aspect_ratio",
            )
        if "resolution" in task.params:
            check_resolution(task.params["resolution"], spec.id)
        if task.user and task.safety_identifier and task.user != task.safety_identifier:
            raise InvalidRequest(
                "xAI takes one end-user id (its `user`): send user or safety_identifier, "
                "not two different ones",
                param="safety_identifier",
            )

    # -- the kit's hooks -----------------------------------------------------------------

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        return "/images/edits" if task.is_edit else "/images/generations"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_xai(spec), self.config.response_format)

    def from_vendor(self, payload: Any) -> Answer:
        return translate.from_vendor(payload, self.name, self.secrets())

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        return errors.error_detail(resp, self.name, self.secrets())

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        return errors.classify(self.definition, resp, detail)


def check_resolution(value: Any, model: str) -> None:
    """`provider_params.resolution`: 1k or 2k (lowercased by `normalize`). xAI answers "4k"
    with a 503 `model_service_unavailable` (REFERENCE-MORE §7 [3P]), and anything else with
    1k, silently; both are refused here."""
    if value in RESOLUTIONS:
        return
    if isinstance(value, str) and value.lower() == "4k":
        detail = "xAI offers no 4k (it answers 503 model_service_unavailable); use 1k or 2k"
    else:
        detail = "supported: 1k (about 1 megapixel) or 2k (about 4 megapixels)"
    raise InvalidRequest(
        f"provider_params.resolution {value!r:.40} is not supported by {model}; {detail}",
        param="provider_params.resolution",
    )
