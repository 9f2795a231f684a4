"""Bedrock InvokeModel translations, pure: a task to the model's JSON body, the answer to
images, an error answer to its exception name, and the size and ratio rules.

Bodies (REFERENCE-MORE §6; field names are the models' own):

    Nova / Titan  {"taskType": TEXT_IMAGE | INPAINTING | IMAGE_VARIATION,
                   "textToImageParams": {text, negativeText?, style?}            (generation)
                   "inPaintingParams": {image, text, negativeText?, maskImage | maskPrompt}
                   "imageVariationParams": {images[1-5], text, negativeText?, similarityStrength?},
                   "imageGenerationConfig": {numberOfImages, width?, height?, quality?,
                                             cfgScale?, seed?}}   (no size on inpainting: the
                                                                   input's is kept)
    Stability     {prompt, negative_prompt?, seed?, output_format?, aspect_ratio?}, or for image
                  to image {..., mode: "image-to-image", image, strength}

Answers: Nova/Titan `{"images": [b64, ...]}` (an `error` field [UNVERIFIED] is read too);
Stability `{"seeds": [..], "finish_reasons": [null | "Filter reason: prompt" | "Filter reason:
output image" | "Filter reason: input image" | "Inference error"], "images": [b64]}`, where a
filter reason on HTTP 200 is a refusal (`ContentPolicyViolation`), never an empty answer.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote

import pybase64

from image_gateway.errors import ContentPolicyViolation, InvalidRequest, UpstreamError
from image_gateway.providers.bedrock.models import STABILITY_RATIOS, BedrockModel
from image_gateway.providers.kit.output import decode_b64_image
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sizing import aspect_of, dims_for_aspect, ratio_value
from image_gateway.providers.kit.sync import Answer
from image_gateway.schemas import GeneratedImage, ImageTask, ProviderResult
from image_gateway.upstream.client import UpstreamResponse

PROVIDER = "bedrock"
# Nova Canvas sizes (REFERENCE-MORE §6.3): each side 320-4096 and a multiple of 16; at most
# 4,194,304 pixels and an aspect ratio between 1:4 and 4:1, from the text of Bedrock's
# ValidationException ("The total pixel count must be no more than 4194304 and the aspect ratio
# between 1:4 and 4:1", as issue 13's review reports it and the emulator answers; §6.3 marks
# these limits [UNVERIFIED], so a wrong reading refuses a size Bedrock would refuse anyway).
NOVA_SIDE = (320, 4096)
NOVA_MULTIPLE = 16
NOVA_MAX_PIXELS = 4_194_304
NOVA_MAX_RATIO = 4.0  # the long side at most four times the short one
# Nova/Titan refuse a prompt with this (a 400 ValidationException, REFERENCE-MORE §6.1 [3P]).
CONTENT_FILTERED = re.compile(r"blocked by our content filters?", re.IGNORECASE)
FILTER_REASON = "Filter reason:"


def invoke_path(model_id: str) -> str:
    """`/model/{modelId}/invoke` with the id percent-encoded as botocore encodes a URI label
    (`amazon.nova-canvas-v1:0` -> `amazon.nova-canvas-v1%3A0`)."""
    return f"/model/{quote(model_id, safe='-._~')}/invoke"


def inpainting(task: ImageTask) -> bool:
    """An Amazon-envelope edit with a mask (an image, or `mask_prompt`) inpaints; one without
    is an image variation."""
    return task.mask is not None or "mask_prompt" in task.params


def to_vendor(task: ImageTask, model: BedrockModel) -> dict[str, Any]:
    """The InvokeModel body of one call making `task.n` images (Stability: one)."""
    if model.family == "stability":
        return _stability(task, model)
    return _canvas(task, model)


def _canvas(task: ImageTask, model: BedrockModel) -> dict[str, Any]:
    config: dict[str, Any] = {"numberOfImages": task.n}
    if task.quality is not None:
        config["quality"] = task.quality
    if "cfg_scale" in task.params:
        config["cfgScale"] = task.params["cfg_scale"]
    if task.seed is not None:
        config["seed"] = task.seed % (model.max_seed + 1)  # the fan-out's later seeds wrap here
    text: dict[str, Any] = {"text": task.prompt}
    if task.negative_prompt is not None:
        text["negativeText"] = task.negative_prompt
    images = [b64(image.data) for image in task.images]
    if task.is_edit and inpainting(task):
        params = {"image": images[0], **text}
        if task.mask is not None:
            params["maskImage"] = task.vendor.get("mask") or b64(task.mask.data)
        else:
            params["maskPrompt"] = task.params["mask_prompt"]
        return {
            "taskType": "INPAINTING",
            "inPaintingParams": params,
            "imageGenerationConfig": config,
        }
    if task.size is not None:
        config["width"], config["height"] = task.size
    if task.is_edit:
        params = {"images": images, **text}
        if "similarity_strength" in task.params:
            params["similarityStrength"] = task.params["similarity_strength"]
        return {
            "taskType": "IMAGE_VARIATION",
            "imageVariationParams": params,
            "imageGenerationConfig": config,
        }
    if task.style is not None:
        text["style"] = task.style
    return {"taskType": "TEXT_IMAGE", "textToImageParams": text, "imageGenerationConfig": config}


def _stability(task: ImageTask, model: BedrockModel) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": task.prompt}
    if task.negative_prompt is not None:
        body["negative_prompt"] = task.negative_prompt
    if task.seed is not None:
        body["seed"] = task.seed % (model.max_seed + 1)
    if task.output_format is not None:
        body["output_format"] = task.output_format
    if task.is_edit:
        body["mode"] = "image-to-image"
        body["image"] = b64(task.images[0].data)
        body["strength"] = task.params["strength"]
        return body
    ratio = stability_ratio(task)
    if ratio is not None:
        body["aspect_ratio"] = ratio
    return body


def b64(data: bytes) -> str:
    return pybase64.b64encode(data).decode("ascii")


# --- sizes -----------------------------------------------------------------------------------


def size_for_aspect(ratio: str) -> tuple[int, int]:
    """The Amazon-envelope size for an aspect ratio: about 1 MP, sides multiples of 16; a
    ratio Nova takes (1:4 to 4:1) stays within it after rounding (4:1 is 1984x496, not
    2000x496)."""
    width, height = dims_for_aspect(ratio, megapixels=1.0, multiple=NOVA_MULTIPLE)
    if 1 / NOVA_MAX_RATIO <= ratio_value(ratio) <= NOVA_MAX_RATIO:
        while width > NOVA_MAX_RATIO * height:
            width -= NOVA_MULTIPLE
        while height > NOVA_MAX_RATIO * width:
            height -= NOVA_MULTIPLE
    return width, height


def check_nova_size(size: tuple[int, int]) -> None:
    """Nova Canvas's size rule (each side, total pixels, aspect ratio); `InvalidRequest`
    naming `size` when broken."""
    low, high = NOVA_SIDE
    width, height = size
    if not all(low <= side <= high and side % NOVA_MULTIPLE == 0 for side in size):
        why = f"each side must be {low}-{high} and a multiple of {NOVA_MULTIPLE}"
    elif width * height > NOVA_MAX_PIXELS:
        why = f"it has {width * height} pixels, at most {NOVA_MAX_PIXELS} are allowed"
    elif max(size) > NOVA_MAX_RATIO * min(size):
        why = "its aspect ratio must be between 1:4 and 4:1"
    else:
        return
    raise InvalidRequest(
        f"size {width}x{height} is not supported by amazon.nova-canvas-v1:0: {why}",
        param="size",
    )


def check_nova_ratio(ratio: str) -> None:
    """Nova Canvas's aspect ratio rule (1:4 to 4:1) for an `aspect_ratio` sent without a
    size; `InvalidRequest` naming `aspect_ratio` when broken."""
    value = ratio_value(ratio)
    if not 1 / NOVA_MAX_RATIO <= value <= NOVA_MAX_RATIO:
        raise InvalidRequest(
            f"aspect_ratio {ratio} is not supported by amazon.nova-canvas-v1:0: it takes "
            "aspect ratios between 1:4 and 4:1 (made at about 1 MP)",
            param="aspect_ratio",
        )


def check_size_matches_ratio(task: ImageTask) -> None:
    """A `size` and an `aspect_ratio` sent together must say the same shape (within 1%, as a
    size rounded to whole pixels may not be exact); `InvalidRequest` naming `aspect_ratio`
    otherwise, as no model here takes both and either would be dropped."""
    if task.size is None or task.aspect_ratio is None:
        return
    width, height = task.size
    if abs(width / height / ratio_value(task.aspect_ratio) - 1) <= 0.01:
        return
    divisor = math.gcd(width, height)
    exact = (width // divisor, height // divisor)
    shape = f"{exact[0]}:{exact[1]}" if max(exact) <= 21 else f"about {aspect_of(task.size)}"
    raise InvalidRequest(
        f"size {width}x{height} is {shape}, not aspect_ratio {task.aspect_ratio}; send one of them",
        param="aspect_ratio",
    )


def stability_ratio(task: ImageTask) -> str | None:
    """The `aspect_ratio` a Stability model is asked for: the task's, else its size's exact
    ratio (`1536x1024` -> `3:2`); None when neither is given."""
    if task.aspect_ratio is not None:
        return task.aspect_ratio
    if task.size is None:
        return None
    width, height = task.size
    divisor = math.gcd(width, height)
    return f"{width // divisor}:{height // divisor}"


def check_stability_ratio(task: ImageTask, model: BedrockModel) -> None:
    ratio = stability_ratio(task)
    if ratio is None or ratio in STABILITY_RATIOS:
        return
    field = "aspect_ratio" if task.aspect_ratio is not None else "size"
    given = ratio if task.size is None or field == "aspect_ratio" else "x".join(map(str, task.size))
    raise InvalidRequest(
        f"{field} {given} is not supported by {model.id}: it takes the aspect ratios "
        f"{', '.join(STABILITY_RATIOS)} (a size of one of them picks it)",
        param=field,
    )


# --- answers ---------------------------------------------------------------------------------


def from_vendor(payload: Any, secrets: list[str]) -> Answer:
    """Images from an InvokeModel answer (either shape, told apart by Stability's
    `finish_reasons`); a refusal on HTTP 200 raises `ContentPolicyViolation`, an answer
    without images `UpstreamError`."""
    if not isinstance(payload, dict):
        raise UpstreamError(f"{PROVIDER} returned a malformed answer", provider=PROVIDER)
    if "finish_reasons" in payload:
        return _stability_answer(payload, secrets)
    error = payload.get("error")
    if isinstance(error, str) and error:
        if CONTENT_FILTERED.search(error):
            raise refused(provider_message(error, secrets))
        raise UpstreamError(
            f"{PROVIDER} failed: {provider_message(error, secrets)}", provider=PROVIDER
        )
    return Answer(ProviderResult(images=_images(payload.get("images"), [])))


def _stability_answer(payload: dict[str, Any], secrets: list[str]) -> Answer:
    reasons = payload["finish_reasons"]
    if not isinstance(reasons, list):
        raise UpstreamError(f"{PROVIDER} returned a malformed answer", provider=PROVIDER)
    for reason in reasons:
        if reason is None:
            continue
        text = provider_message(reason, secrets)
        if text.startswith(FILTER_REASON):
            raise refused(text)
        raise UpstreamError(
            f"{PROVIDER} failed: {text or 'unknown finish reason'}", provider=PROVIDER
        )
    seeds = payload.get("seeds")
    return Answer(ProviderResult(images=_images(payload.get("images"), seeds)))


def _images(items: Any, seeds: Any) -> list[GeneratedImage]:
    if not isinstance(items, list) or not items:
        raise UpstreamError(f"{PROVIDER} returned no images", provider=PROVIDER)
    seeds = seeds if isinstance(seeds, list) else []
    images = []
    for index, item in enumerate(items):
        seed = seeds[index] if index < len(seeds) and isinstance(seeds[index], int) else None
        images.append(GeneratedImage(decode_b64_image(item, PROVIDER), "image/png", seed, b64=item))
    return images


def refused(detail: str) -> ContentPolicyViolation:
    return ContentPolicyViolation(
        f"the provider's content filters refused this request ({detail})",
        code="content_policy_violation",
        provider=PROVIDER,
    )


# --- error answers ---------------------------------------------------------------------------


def error_type(resp: UpstreamResponse, payload: Any) -> str | None:
    """The exception name of an error answer: the `x-amzn-ErrorType` header (`Name:namespace`,
    the AWS rest-json convention [UNVERIFIED for Bedrock]), else the body's `__type`
    (`namespace#Name`) or `code`; None when none says (the status then decides)."""
    raw = resp.headers.get("x-amzn-errortype")
    if not raw and isinstance(payload, dict):
        raw = payload.get("__type") or payload.get("code")
    if not isinstance(raw, str) or not raw:
        return None
    return raw.split(":", 1)[0].rsplit("#", 1)[-1].strip() or None


def original_status(payload: Any) -> int | None:
    """`ModelErrorException.originalStatusCode`: the model's own status."""
    value = payload.get("originalStatusCode") if isinstance(payload, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
