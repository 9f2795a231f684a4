"""Bedrock's own rules for a request, checked before anything is sent (pure; `InvalidRequest`
naming the field): Nova's sizes (REFERENCE-MORE §6.3), prompt lengths, which fields belong to
which edit of the Amazon envelope (inpainting with a mask or `mask_prompt`, variation without),
Stability's aspect ratios and image-to-image `strength`, and the provider_params' types and
ranges where they are verified (Nova's; Titan's are Bedrock's to judge).
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import InvalidRequest
from image_gateway.providers.bedrock import translate
from image_gateway.providers.bedrock.models import BedrockModel
from image_gateway.schemas import ImageTask


def check_canvas(task: ImageTask, model: BedrockModel) -> None:
    """Nova's and Titan's rules: sizes (Nova's verified rule; Titan's are Bedrock's to judge),
    which edit each field belongs to, the provider_params' types and ranges."""
    if task.size is not None and model.family == "nova":
        translate.check_nova_size(task.size)
    params = task.params
    inpaint = task.is_edit and translate.inpainting(task)
    if not task.is_edit:
        for name in ("mask_prompt", "similarity_strength"):
            if name in params:
                raise InvalidRequest(
                    f"provider_params.{name} applies to edits only", param=f"provider_params.{name}"
                )
    elif task.style is not None:
        raise InvalidRequest(f"style applies to {model.id}'s text to image only", param="style")
    if inpaint:
        if task.mask is not None and "mask_prompt" in params:
            raise InvalidRequest(
                "give the area to edit as `mask` or provider_params.mask_prompt, not both",
                param="provider_params.mask_prompt",
            )
        if len(task.images) != 1:
            raise InvalidRequest(f"{model.id} inpaints one image at a time", param="image")
        if task.size is not None or task.aspect_ratio is not None:
            field = "size" if task.size is not None else "aspect_ratio"
            raise InvalidRequest(
                f"{model.id} keeps the input image's size when inpainting", param=field
            )
        if "similarity_strength" in params:
            raise InvalidRequest(
                "provider_params.similarity_strength applies to edits without a mask",
                param="provider_params.similarity_strength",
            )
        _text(params, "mask_prompt", 1024)
    _number(params, "cfg_scale", 1.1, 10.0, model.family == "nova")
    _number(params, "similarity_strength", 0.2, 1.0, model.family == "nova")


def check_stability(task: ImageTask, model: BedrockModel) -> None:
    if not task.is_edit:
        if "strength" in task.params:
            raise InvalidRequest(
                "provider_params.strength applies to image to image (an edit) only",
                param="provider_params.strength",
            )
        translate.check_stability_ratio(task, model)
        return
    if task.size is not None or task.aspect_ratio is not None:
        field = "size" if task.size is not None else "aspect_ratio"
        raise InvalidRequest(f"{model.id} keeps the input image's aspect ratio", param=field)
    if "strength" not in task.params:
        raise InvalidRequest(
            f"{model.id} needs provider_params.strength (0-1) with an input image",
            param="provider_params.strength",
        )
    _number(task.params, "strength", 0.0, 1.0, True)


def check_length(text: str, field: str, model: BedrockModel) -> None:
    if not 1 <= len(text) <= (model.max_prompt or len(text)):
        raise InvalidRequest(
            f"{field} must be 1-{model.max_prompt} characters for {model.id}", param=field
        )


def _text(params: dict[str, Any], name: str, longest: int) -> None:
    value = params.get(name)
    if name in params and not (isinstance(value, str) and 1 <= len(value) <= longest):
        raise InvalidRequest(
            f"provider_params.{name} must be a text of 1-{longest} characters",
            param=f"provider_params.{name}",
        )


def _number(params: dict[str, Any], name: str, low: float, high: float, ranged: bool) -> None:
    """A number, within [low, high] where the range is verified (`ranged`)."""
    if name not in params:
        return
    value = params[name]
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and ranged:
        ok = low <= value <= high
    if not ok:
        expected = f"a number {low}-{high}" if ranged else "a number"
        raise InvalidRequest(
            f"provider_params.{name} must be {expected}", param=f"provider_params.{name}"
        )
