"""`recraft`: Recraft's API on `kit/sync.py`, `Authorization: Bearer $RECRAFT_API_TOKEN`.

- a generation: JSON to `/images/generations` (OpenAI's shape; `model` always sent);
- an edit: a multipart form with the input `image` to `/images/imageToImage` (V3, V4, V4.1;
  `provider_params.strength` required, as Recraft requires it), or with a `mask` too to
  `/images/inpaint` (V3 only). The mask is OpenAI's (transparent = edit) turned into
  Recraft's (white = regenerate, black = keep, same size as the image: RECRAFT-DOCS
  tools/inpainting).

One call makes up to 6 images (`n` fans out beyond). Results come as `url` on Recraft's image
host (kept about 24 h; downloaded at once through the trusted-origin check,
`RECRAFT_TRUSTED_HOSTS`, never with the key) or as `b64_json` (`RECRAFT_RESPONSE_FORMAT`). The
answer's `credits` (API units) is the call's charge.

Recraft "rejects or ignores" what a model does not support (RECRAFT-DOCS agents rule 4), so the
gateway checks everything itself before anything is spent: the size (from the model's list) or
aspect ratio, the prompt's length (10000 characters for V4/V4.1, 1000 for V2/V3), style and
negative prompt (V2/V3), `controls`' shape, `strength`, `style_id` without `style`.

Error answers (`translate.error_detail`, then `classify_error`; Recraft documents no codes, so
the words are matched [UNVERIFIED]):

| answer                                            | gateway error                        |
|---------------------------------------------------|--------------------------------------|
| 4xx naming NSFW, inappropriate content, moderation | 400 `content_policy_violation`      |
| 402, or a 4xx saying the API units ran out         | 402 quota, not retried              |
| 400, 422                                           | 400, Recraft's message and code     |
| 401, 403 (other)                                   | 502 `provider_auth_failed`          |
| 429                                                | 429, retry hint from `Retry-After`  |
| 5xx                                                | 502, retried                        |
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    InvalidRequest,
    ProviderQuotaExhausted,
)
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.masks import WHITE, black_and_white_mask
from image_gateway.providers.kit.sync import Answer, SyncJSONProvider
from image_gateway.providers.recraft import DEFINITION, translate
from image_gateway.providers.recraft.config import RecraftConfig
from image_gateway.providers.recraft.models import (
    MODELS,
    PARAM_SCHEMAS,
    RecraftModel,
    as_recraft,
)
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse
from image_gateway.upstream.encoding import FormPart

MODERATION_TEXT = ("nsfw", "inappropriate", "moderation", "content policy", "unsafe content")
QUOTA_TEXT = ("not enough credits", "not enough api units", "insufficient", "balance")
CONTROL_KEYS = ("colors", "background_color", "no_text", "artistic_level")


class RecraftProvider(SyncJSONProvider[RecraftConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks (`models.py` declarations), then Recraft's (module docstring)."""
        super().validate(task, spec)
        model = as_recraft(spec)
        if len(task.prompt) > model.max_prompt:
            raise InvalidRequest(
                f"the prompt is {len(task.prompt)} characters; {spec.id} takes at most "
                f"{model.max_prompt}",
                param="prompt",
            )
        self._check_size(task, model)
        check_params(task.params)
        if task.style is not None and "style_id" in task.params:
            raise InvalidRequest(
                "send style or provider_params.style_id (a custom style), not both",
                param="provider_params.style_id",
            )
        if "substyle" in task.params and task.style is None:
            raise InvalidRequest(
                "provider_params.substyle needs a style", param="provider_params.substyle"
            )
        self._check_edit(task, model)

    def _check_size(self, task: ImageTask, model: RecraftModel) -> None:
        if task.aspect_ratio is None:
            return
        if task.is_edit:
            raise InvalidRequest(
                f"an edit by {model.id} keeps its input image's size: leave aspect_ratio out",
                param="aspect_ratio",
            )
        size = model.size_for(task.aspect_ratio)
        if size is None:
            raise InvalidRequest(
                f"aspect_ratio {task.aspect_ratio} is not supported by {model.id}; supported: "
                f"{model.aspect_names()}",
                param="aspect_ratio",
            )
        if task.size is not None and f"{task.size[0]}x{task.size[1]}" != size:
            raise InvalidRequest(
                f"size {task.size[0]}x{task.size[1]} is not aspect_ratio {task.aspect_ratio} "
                f"on {model.id} ({size}); send one of them",
                param="aspect_ratio",
            )

    def _check_edit(self, task: ImageTask, model: RecraftModel) -> None:
        if not task.is_edit:
            if "strength" in task.params:
                raise InvalidRequest(
                    "provider_params.strength applies to an input image: use POST /v1/images/edits",
                    param="provider_params.strength",
                )
            return
        if task.size is not None:
            raise InvalidRequest(
                f"an edit by {model.id} keeps its input image's size: leave size out",
                param="size",
                code="unsupported_parameter",
            )
        if task.mask is not None:
            for name in ("strength", "controls"):  # not fields of Recraft's inpaint
                if name in task.params:
                    raise InvalidRequest(
                        f"provider_params.{name} does not apply to an edit with a mask "
                        "(Recraft's inpainting)",
                        param=f"provider_params.{name}",
                    )
        elif "strength" not in task.params:
            raise InvalidRequest(
                f"an edit by {model.id} needs provider_params.strength (0-1: how far the "
                "result moves from the input image)",
                param="provider_params.strength",
            )

    async def prepare(self, task: ImageTask, spec: ModelSpec) -> None:
        """An OpenAI-style mask (transparent = edit) becomes Recraft's (white = regenerate),
        checked to be the input image's size, once per request."""
        if task.mask is not None and task.images:
            mask = await asyncio.to_thread(_recraft_mask, task.images[0].data, task.mask.data)
            task.vendor = {**task.vendor, "mask": mask}

    # -- the kit's hooks -----------------------------------------------------------------

    def uses_form(self, task: ImageTask) -> bool:
        return task.is_edit

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        if not task.is_edit:
            return "/images/generations"
        return "/images/inpaint" if task.mask is not None else "/images/imageToImage"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_recraft(spec), self.config.response_format)

    def form_files(self, task: ImageTask) -> list[FormPart]:
        image = task.images[0]
        parts = [FormPart("image", image.data, image.filename, image.content_type)]
        if task.mask is not None:
            mask = task.vendor.get("mask", task.mask.data)
            parts.append(FormPart("mask", mask, "mask.png", "image/png"))
        return parts

    def from_vendor(self, payload: Any) -> Answer:
        return translate.from_vendor(payload, self.name)

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        return translate.error_detail(resp, self.name, self.secrets())

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        words = f"{detail.code or ''} {detail.message}".lower().replace("_", " ")
        if 400 <= resp.status < 500 and any(w in words for w in MODERATION_TEXT):
            return ContentPolicyViolation(
                f"{self.name}'s moderation refused this request: {detail.message}",
                code="content_policy_violation",
                provider=self.name,
            )
        if resp.status == 402 or (400 <= resp.status < 500 and any(w in words for w in QUOTA_TEXT)):
            return ProviderQuotaExhausted(
                f"the {self.name} account is out of API units", provider=self.name
            )
        return None


def check_params(params: dict[str, Any]) -> None:
    """Each provider_param of the right type and range (`models.PARAM_SCHEMAS`)."""
    for name in ("substyle", "style_id"):
        value = params.get(name)
        if name in params and not (isinstance(value, str) and value.strip()):
            raise InvalidRequest(
                f"provider_params.{name} must be a non-empty string",
                param=f"provider_params.{name}",
            )
    if "strength" in params:
        value = params["strength"]
        if not (_number(value) and 0 <= value <= 1):
            raise InvalidRequest(
                f"provider_params.strength {value!r:.40} is not valid: a number from 0 to 1",
                param="provider_params.strength",
            )
    if "controls" in params:
        check_controls(params["controls"])


def check_controls(controls: Any) -> None:
    """Recraft's `controls` object (`UserControls`): every key known, colours as `{rgb: [r, g,
    b]}` with 0-255 integers, `no_text` a boolean, `artistic_level` an integer 0-5."""
    param = "provider_params.controls"
    if not isinstance(controls, dict):
        raise InvalidRequest(f"{param} must be an object", param=param)
    unknown = sorted(set(controls) - set(CONTROL_KEYS))
    if unknown:
        raise InvalidRequest(
            f"{param}.{unknown[0]:.40} is not one of Recraft's controls: {', '.join(CONTROL_KEYS)}",
            param=f"{param}.{unknown[0]:.40}",
        )
    colors = controls.get("colors", [])
    if not isinstance(colors, list) or not all(_color(c) for c in colors):
        raise InvalidRequest(
            f"{param}.colors must be a list of {{rgb: [r, g, b]}} (0-255)", param=f"{param}.colors"
        )
    if "background_color" in controls and not _color(controls["background_color"]):
        raise InvalidRequest(
            f"{param}.background_color must be {{rgb: [r, g, b]}} (0-255)",
            param=f"{param}.background_color",
        )
    if "no_text" in controls and not isinstance(controls["no_text"], bool):
        raise InvalidRequest(f"{param}.no_text must be a boolean", param=f"{param}.no_text")
    level = controls.get("artistic_level", 0)
    if not (isinstance(level, int) and not isinstance(level, bool) and 0 <= level <= 5):
        raise InvalidRequest(
            f"{param}.artistic_level must be an integer from 0 to 5",
            param=f"{param}.artistic_level",
        )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _color(value: Any) -> bool:
    if not isinstance(value, dict) or set(value) != {"rgb"}:
        return False
    rgb = value["rgb"]
    return (
        isinstance(rgb, list)
        and len(rgb) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgb)
    )


def _recraft_mask(image: bytes, mask: bytes) -> bytes:
    """The mask in Recraft's form at the input image's size (400 naming `image` when the image
    cannot be decoded; `mask` when the mask cannot, or has another size)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as img:
            size = img.size
    except (OSError, ValueError):
        raise InvalidRequest("the image could not be decoded", param="image") from None
    return black_and_white_mask(mask, edited=WHITE, size=size)
