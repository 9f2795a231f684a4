"""Gemini `generateContent` translations, pure: a task to the request body, the answer back
to an image (or the error an HTTP-200 refusal stands for), and the checks of a task against a
model's sizes. Field names are Google's wire names (REFERENCE-MORE §1.3-§1.4; GENAI-PY
`models.py` `_GenerateContentParameters_to_mldev`, `_ImageConfig_to_mldev`, `types.py`
`Part`, `Candidate`, `FinishReason`, `BlockedReason`).

No host, no key and no settings here: the `vertex-ai` provider sends the same body to Vertex
(adding its own `imageConfig` fields) and reads the same answers.

Request (one image per call; camelCase, as the SDKs send it):

    {"contents": [{"role": "user", "parts": [{"text": <prompt>},
                                             {"inlineData": {"mimeType", "data"}}, ...]}],
     "generationConfig": {"responseModalities": ["TEXT", "IMAGE"],
                          "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
                          "thinkingConfig": {"thinkingLevel": "MINIMAL"}}}

`imageConfig` is left out when the request names no size, ratio or tier (Gemini then matches
the input image's proportions, else makes 1:1 at 1K); `imageSize` only for a model with more
than one tier. Answer: the last image part that is not a `thought` (Gemini 3 models may show
draft images in thought parts first) is the image; the text parts beside it (not thoughts),
joined by a blank line, become its `revised_prompt`; `usageMetadata` becomes OpenAI's token
`usage` object (prompt tokens as input, candidate and thought tokens as output, split by the
`IMAGE`/`TEXT` modality details).

HTTP-200 refusals (§1.4): `promptFeedback.blockReason` (any: `SAFETY`, `OTHER`, `BLOCKLIST`,
`PROHIBITED_CONTENT`, `IMAGE_SAFETY`; Vertex's `MODEL_ARMOR`, `JAILBREAK`) and a safety-family
`finishReason` (`SAFETY_REASONS`) are `ContentPolicyViolation` (400); any other answer without
an image (`NO_IMAGE`, `IMAGE_OTHER`, `OTHER`, `MAX_TOKENS`, text only, no candidate) is
`NoImageGenerated` (502 `no_image_generated`), never an empty `data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pybase64

from image_gateway.errors import (
    ContentPolicyViolation,
    InvalidRequest,
    NoImageGenerated,
    UpstreamError,
)
from image_gateway.image_format import sniff_image_type
from image_gateway.providers.gemini import sizes
from image_gateway.providers.gemini.models import MODALITIES, GeminiModel
from image_gateway.providers.kit.errors import safe_token
from image_gateway.providers.kit.output import decode_b64_image
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.schemas import GeneratedImage, ImageTask, ProviderResult, token_usage

# finishReasons that mean the safety system stopped the output (GENAI-PY `FinishReason`):
# a content-policy refusal, whatever else the answer holds.
SAFETY_REASONS = frozenset(
    {
        "SAFETY",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "RECITATION",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)


# --- the request -------------------------------------------------------------------------------


def fill_size(task: ImageTask, spec: GeminiModel) -> None:
    """`normalize`: an aspect ratio without a size becomes the model's pixel size for it at the
    requested tier (`provider_params.image_size`, else 1K), so cost estimates know the size.
    Anything it cannot place is left for `check_task` to refuse."""
    if task.size is not None or task.aspect_ratio is None:
        return
    tier = _requested_tier(task, spec)
    made = spec.tiers.get(tier or "", {}).get(task.aspect_ratio)
    if made is not None:
        task.size = made


def check_task(task: ImageTask, spec: GeminiModel) -> None:
    """What the common checks (`Provider.validate`) leave to Gemini: an aspect ratio or tier
    the model lacks, a size, ratio and tier that disagree, and the values of
    `thinking_level` and `response_modalities`. `InvalidRequest` naming the field; pure."""
    tier = _requested_tier(task, spec)
    if "image_size" in task.params and tier is None:
        raise InvalidRequest(
            f"provider_params.image_size must be one of {', '.join(spec.tiers)} for {spec.id}",
            param="provider_params.image_size",
        )
    if task.aspect_ratio is not None and task.aspect_ratio not in spec.ratios:
        raise InvalidRequest(
            f"aspect_ratio {task.aspect_ratio} is not supported by {spec.id}; "
            f"supported: {', '.join(spec.ratios)}",
            param="aspect_ratio",
        )
    if task.size is not None:
        _check_size(task, spec, tier)
    elif task.aspect_ratio is not None and tier is not None:
        if task.aspect_ratio not in spec.tiers[tier]:
            offered = ", ".join(_tiers_of(spec, task.aspect_ratio))
            raise InvalidRequest(
                f"{spec.id} makes {task.aspect_ratio} at {offered}, not at {tier}",
                param="aspect_ratio",
            )
    if "thinking_level" in task.params and _thinking_level(task, spec) is None:
        raise InvalidRequest(
            f"provider_params.thinking_level must be one of {', '.join(spec.thinking_levels)}",
            param="provider_params.thinking_level",
        )
    if "response_modalities" in task.params and _modalities(task) is None:
        raise InvalidRequest(
            'provider_params.response_modalities must be ["TEXT", "IMAGE"] or ["IMAGE"]',
            param="provider_params.response_modalities",
        )


def image_config(task: ImageTask, spec: GeminiModel) -> dict[str, str]:
    """`generationConfig.imageConfig` for a checked task: `aspectRatio` from the size (or the
    ratio asked), `imageSize` (the size's tier, or the one asked) for a model with tiers."""
    config: dict[str, str] = {}
    tier = _requested_tier(task, spec)
    if task.size is not None:
        found = sizes.config_for(task.size, spec.tiers)
        if found is None:  # `check_task` refuses it first; never sent as something else
            raise InvalidRequest(
                f"size {sizes.size_text(task.size)} is not supported", param="size"
            )
        config["aspectRatio"], tier = found
    elif task.aspect_ratio is not None:
        config["aspectRatio"] = task.aspect_ratio
    if tier is not None and len(spec.tiers) > 1:
        config["imageSize"] = tier
    return config


def to_vendor(task: ImageTask, spec: GeminiModel) -> dict[str, Any]:
    """The `generateContent` body for one image (module docstring): the prompt, then each
    input image as inline data (base64), in the order given."""
    parts: list[dict[str, Any]] = [{"text": task.prompt}]
    for image in task.images:
        data = pybase64.b64encode(image.data).decode("ascii")
        parts.append({"inlineData": {"mimeType": image.content_type, "data": data}})
    generation: dict[str, Any] = {"responseModalities": list(_modalities(task) or MODALITIES[0])}
    config = image_config(task, spec)
    if config:
        generation["imageConfig"] = config
    level = _thinking_level(task, spec)
    if level is not None:
        generation["thinkingConfig"] = {"thinkingLevel": level}
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": generation}


def _check_size(task: ImageTask, spec: GeminiModel, tier: str | None) -> None:
    assert task.size is not None
    found = sizes.config_for(task.size, spec.tiers)
    if found is None:
        raise InvalidRequest(
            f"size {sizes.size_text(task.size)} is not supported by {spec.id}; "
            f"supported: {', '.join(spec.sizes)}",
            param="size",
        )
    ratio, made_tier = found
    text = sizes.size_text(task.size)
    if task.aspect_ratio is not None and task.aspect_ratio != ratio:
        raise InvalidRequest(
            f"size {text} is {ratio}, not aspect_ratio {task.aspect_ratio}; send one of them",
            param="aspect_ratio",
        )
    if tier is not None and tier != made_tier:
        raise InvalidRequest(
            f"size {text} is a {made_tier} size, not provider_params.image_size {tier}",
            param="provider_params.image_size",
        )


def _requested_tier(task: ImageTask, spec: GeminiModel) -> str | None:
    """The tier `provider_params.image_size` names (None: not given, or not one the model
    has); 1K when it is not given and an aspect ratio needs one."""
    if "image_size" not in task.params:
        return sizes.DEFAULT_TIER if task.aspect_ratio is not None and task.size is None else None
    return sizes.tier_named(task.params["image_size"], spec.tiers)


def _tiers_of(spec: GeminiModel, ratio: str) -> list[str]:
    return [tier for tier, table in spec.tiers.items() if ratio in table]


def _thinking_level(task: ImageTask, spec: GeminiModel) -> str | None:
    value = task.params.get("thinking_level")
    if not isinstance(value, str) or value.upper() not in spec.thinking_levels:
        return None
    return value.upper()


def _modalities(task: ImageTask) -> tuple[str, ...] | None:
    value = task.params.get("response_modalities")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    asked = {item.upper() for item in value}
    if len(asked) != len(value):
        return None
    return next((m for m in MODALITIES if set(m) == asked), None)


# --- the answer --------------------------------------------------------------------------------


def read_answer(payload: Any, provider: str, secrets: list[str]) -> ProviderResult:
    """The image of a `GenerateContentResponse` (module docstring), or the error its refusal
    stands for: `ContentPolicyViolation`, `NoImageGenerated`; `UpstreamError` for an answer
    that is not a response object or whose image data is not base64."""
    if not isinstance(payload, dict):
        raise UpstreamError(
            f"{provider} returned an answer that is not an object", provider=provider
        )
    feedback = payload.get("promptFeedback")
    if isinstance(feedback, dict) and feedback.get("blockReason"):
        reason = safe_token(feedback.get("blockReason"), secrets) or "unspecified"
        said = _said(feedback.get("blockReasonMessage"), secrets)
        raise ContentPolicyViolation(
            f"{provider}'s safety system blocked the prompt (blockReason {reason}){said}",
            provider=provider,
        )
    candidate = _first_candidate(payload)
    finish = safe_token(candidate.get("finishReason"), secrets)
    images, texts = _parts(candidate)
    if finish in SAFETY_REASONS:
        said = _said(candidate.get("finishMessage"), secrets)
        raise ContentPolicyViolation(
            f"{provider}'s safety system withheld the image (finishReason {finish}){said}",
            provider=provider,
        )
    text = "\n\n".join(texts) or None
    if not images:
        why = f"finishReason {finish}" if finish else "no candidate"
        said = _said(candidate.get("finishMessage") or text, secrets)
        raise NoImageGenerated(
            f"{provider} answered without an image ({why}){said}", provider=provider
        )
    blob = images[-1]
    encoded = _field(blob, "data")
    data = decode_b64_image(encoded, provider)
    declared = _field(blob, "mimeType")
    mime = sniff_image_type(data) or (declared if isinstance(declared, str) else "image/png")
    image = GeneratedImage(data, mime, revised_prompt=text, b64=encoded if data else None)
    return ProviderResult(images=[image], usage=usage_of(payload.get("usageMetadata")))


def usage_of(meta: Any) -> dict[str, Any] | None:
    """`usageMetadata` as OpenAI's token `usage` object (module docstring); None when absent or
    unreadable."""
    if not isinstance(meta, dict) or not ({"promptTokenCount", "candidatesTokenCount"} & set(meta)):
        return None
    prompt = _count(meta.get("promptTokenCount"))
    output = _count(meta.get("candidatesTokenCount")) + _count(meta.get("thoughtsTokenCount"))
    image_in = min(prompt, _modality(meta.get("promptTokensDetails"), "IMAGE"))
    image_out = min(output, _modality(meta.get("candidatesTokensDetails"), "IMAGE"))
    total = meta.get("totalTokenCount")
    return token_usage(
        {
            "input_tokens": prompt,
            "input_tokens_details": {"text_tokens": prompt - image_in, "image_tokens": image_in},
            "output_tokens": output,
            "output_tokens_details": {"text_tokens": output - image_out, "image_tokens": image_out},
            "total_tokens": _count(total) if total is not None else prompt + output,
        }
    )


def _first_candidate(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    candidates = payload.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        return candidates[0]
    return {}


def _parts(candidate: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The image blobs and the texts of the candidate's parts that are not thoughts."""
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    images: list[Mapping[str, Any]] = []
    texts: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, dict) or part.get("thought") is True:
            continue
        blob = _field(part, "inlineData")
        if isinstance(blob, dict):
            mime = _field(blob, "mimeType")
            if not isinstance(mime, str) or mime.startswith("image/"):
                images.append(blob)
        elif isinstance(part.get("text"), str) and part["text"].strip():
            texts.append(part["text"].strip())
    return images, texts


def _field(obj: Mapping[str, Any], camel: str) -> Any:
    """A field by its camelCase name, or its snake_case one (REFERENCE-MORE §1.3: both occur)."""
    if camel in obj:
        return obj[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return obj.get(snake)


def _said(text: Any, secrets: list[str]) -> str:
    safe = provider_message(text, secrets) if isinstance(text, str) else ""
    return f": {safe}" if safe else ""


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _modality(details: Any, modality: str) -> int:
    if not isinstance(details, list):
        return 0
    return sum(
        _count(item.get("tokenCount"))
        for item in details
        if isinstance(item, dict) and item.get("modality") == modality
    )
