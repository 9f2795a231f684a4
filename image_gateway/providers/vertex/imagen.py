"""Imagen's `:predict` on Vertex AI, pure: a task to the request body, the answer to images,
and Imagen's own checks of a request. Wire names are python-genai's Vertex mapping
(`models.py` `_GenerateImagesConfig_to_vertex`, `_GenerateImagesResponse_from_vertex`):

    {"instances": [{"prompt": "..."}],
     "parameters": {"sampleCount": n, "aspectRatio": "16:9", "sampleImageSize": "2K",
                    "seed": 7, "addWatermark": false, "includeRaiReason": true,
                    "outputOptions": {"mimeType": "image/jpeg", "compressionQuality": 80},
                    "personGeneration": "allow_adult", ...},
     "labels": {"team": "art"}}

    {"predictions": [{"bytesBase64Encoded": "...", "mimeType": "image/png",
                      "prompt": "<the enhanced prompt>"},
                     {"raiFilteredReason": "..."}]}

- `sampleCount` is always sent (Imagen's own default is 4: REFERENCE-MORE §1.7).
- `size` is a closed table per model (`models.py`): `WxH` becomes its (`aspectRatio`,
  `sampleImageSize`); `sampleImageSize` is sent (uppercase, as the SDK documents it) only to
  the models that take it.
- `includeRaiReason: true` is always sent: an image the safety filters removed then comes back
  as `{"raiFilteredReason": ...}` in its place. The images that are left are answered, and how
  many were removed is the response's `images_filtered` (`ProviderResult.extra`; the cost counts
  only the images returned). When none is left: `ContentPolicyViolation` with Google's reasons
  only when the answer shows filtering (a `raiFilteredReason`, or the prompt's safety item);
  an empty or absent `predictions` with no reason ("may be empty/absent" [UNVERIFIED]: read
  tolerantly, as an answer) is the provider's failure, `NoImageGenerated` (502
  `no_image_generated`, as `gemini`), and a body with none of a predict response's fields
  (`predictions`, `deployedModelId`, `model`, `modelVersionId`, `modelDisplayName`,
  `metadata`: aiplatform `PredictResponse`) is an `UpstreamError`.
- A `seed` needs `addWatermark: false` (`GenerateImagesConfig.seed`): sent with it, and a seed
  with `provider_params.addWatermark: true` is a 400.
- The prediction item carrying the prompt's safety attributes (`contentType: "Positive
  Prompt"`, python-genai `generate_images`) is not an image and is skipped.
"""

from __future__ import annotations

import re
from typing import Any

from image_gateway.errors import (
    ContentPolicyViolation,
    InvalidRequest,
    NoImageGenerated,
    UpstreamError,
)
from image_gateway.image_format import sniff_image_type
from image_gateway.providers.kit.output import decode_b64_image
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sync import Answer
from image_gateway.providers.vertex.models import IMAGEN_PIXELS, IMAGEN_RATIOS, VertexModel
from image_gateway.schemas import GeneratedImage, ImageTask, ProviderResult

# provider_params with a closed set of values (Vertex's REST docs write them lowercase; the SDK's
# enums are the same words upper-cased: accepted either way, sent lowercase).
CHOICES: dict[str, tuple[str, ...]] = {
    "personGeneration": ("allow_all", "allow_adult", "dont_allow"),
    "safetySetting": (
        "block_low_and_above",
        "block_medium_and_above",
        "block_only_high",
        "block_none",
    ),
    # python-genai `ImagePromptLanguage`
    "language": ("auto", "en", "ja", "ko", "hi", "zh", "pt", "es"),
}
FLAGS = ("addWatermark", "enhancePrompt")
MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}
POSITIVE_PROMPT = "Positive Prompt"
# aiplatform `PredictResponse`'s fields: a body with none of them is no predict answer.
PREDICT_FIELDS = (
    "predictions",
    "deployedModelId",
    "model",
    "modelVersionId",
    "modelDisplayName",
    "metadata",
)
# Imagen's refusals in an HTTP 400's message (`adapter.py` gives the sources).
_REFUSAL = re.compile(
    r"Error Code:\s*\d{8}|Support codes?:\s*\d{8}|response is blocked"
    r"|violate (?:our|Google's) (?:policies|Responsible AI)",
    re.IGNORECASE,
)


def refused(message: str) -> bool:
    """Whether an HTTP 400's message is one of Imagen's content refusals."""
    return bool(_REFUSAL.search(message))


def size_tier(size: tuple[int, int], spec: VertexModel) -> tuple[str, str] | None:
    """The (`aspectRatio`, `sampleImageSize`) of an exact size the model makes, else None."""
    for tier in spec.image_sizes:
        for ratio, pixels in IMAGEN_PIXELS[tier].items():
            if pixels == size:
                return ratio, tier
    return None


def check(task: ImageTask, spec: VertexModel) -> None:
    """Imagen's rules beyond the common declarations; `InvalidRequest` naming the field."""
    if task.aspect_ratio is not None and task.aspect_ratio not in IMAGEN_RATIOS:
        raise InvalidRequest(
            f"aspect_ratio {task.aspect_ratio} is not supported by {spec.id}; "
            f"supported: {', '.join(IMAGEN_RATIOS)}",
            param="aspect_ratio",
        )
    if task.size is not None and task.aspect_ratio is not None:
        tier = size_tier(task.size, spec)
        if tier is not None and tier[0] != task.aspect_ratio:
            raise InvalidRequest(
                f"size {task.size[0]}x{task.size[1]} is {tier[0]}, not aspect_ratio "
                f"{task.aspect_ratio}: send one of them",
                param="aspect_ratio",
            )
    for name, values in CHOICES.items():
        if name in task.params:
            value = task.params[name]
            if not isinstance(value, str) or value.lower() not in values:
                raise InvalidRequest(
                    f"provider_params.{name} must be one of {', '.join(values)}",
                    param=f"provider_params.{name}",
                )
    for name in FLAGS:
        if name in task.params and not isinstance(task.params[name], bool):
            raise InvalidRequest(
                f"provider_params.{name} must be true or false", param=f"provider_params.{name}"
            )
    labels = task.params.get("labels")
    if "labels" in task.params and not (
        isinstance(labels, dict) and all(isinstance(v, str) for v in labels.values())
    ):
        raise InvalidRequest(
            "provider_params.labels must be an object of strings", param="provider_params.labels"
        )
    if task.seed is not None and task.params.get("addWatermark") is True:
        raise InvalidRequest(
            "Imagen takes a seed only without its watermark (provider_params.addWatermark: "
            "false, what a seed sends by itself)",
            param="seed",
        )


def to_vendor(task: ImageTask, spec: VertexModel) -> dict[str, Any]:
    """The `:predict` body for one call making `task.n` images (module docstring)."""
    parameters: dict[str, Any] = {"sampleCount": task.n, "includeRaiReason": True}
    ratio = task.aspect_ratio
    if task.size is not None:
        tier = size_tier(task.size, spec)
        if tier is None:  # validate refuses it first; never a silent other size
            raise InvalidRequest(f"size is not supported by {spec.id}", param="size")
        ratio = tier[0]
        if len(spec.image_sizes) > 1:
            parameters["sampleImageSize"] = tier[1]
    if ratio is not None:
        parameters["aspectRatio"] = ratio
    if task.seed is not None:
        parameters["seed"] = task.seed
        parameters["addWatermark"] = False
    if task.output_format is not None:
        options: dict[str, Any] = {"mimeType": MIME_TYPES[task.output_format]}
        if task.output_compression is not None:
            options["compressionQuality"] = task.output_compression
        parameters["outputOptions"] = options
    for name in CHOICES:
        if name in task.params:
            parameters[name] = str(task.params[name]).lower()
    for name in FLAGS:
        if name in task.params:
            parameters[name] = task.params[name]
    body: dict[str, Any] = {"instances": [{"prompt": task.prompt}], "parameters": parameters}
    if "labels" in task.params:
        body["labels"] = task.params["labels"]
    return body


def from_vendor(payload: Any, provider: str, secrets: list[str]) -> Answer:
    """The images of a `:predict` answer (`extra.images_filtered`: how many the filters
    removed); `ContentPolicyViolation` when the filters left none, `NoImageGenerated` for an
    answer without images or a reason, `UpstreamError` for an answer that is not one."""
    if not isinstance(payload, dict) or (payload and not any(k in payload for k in PREDICT_FIELDS)):
        raise UpstreamError(
            f"{provider} returned an answer that is not a predict response", provider=provider
        )
    predictions = payload.get("predictions") or []
    if not isinstance(predictions, list):
        raise UpstreamError(f"{provider} returned malformed predictions", provider=provider)
    images: list[GeneratedImage] = []
    reasons: list[str] = []
    filtered = 0
    prompt_rated = False
    for item in predictions:
        if not isinstance(item, dict):
            raise UpstreamError(f"{provider} returned a malformed prediction", provider=provider)
        if item.get("contentType") == POSITIVE_PROMPT:
            prompt_rated = True
            continue
        if item.get("bytesBase64Encoded") is not None:
            data = decode_b64_image(item["bytesBase64Encoded"], provider)
            enhanced = item.get("prompt")
            images.append(
                GeneratedImage(
                    data,
                    sniff_image_type(data) or "image/png",
                    revised_prompt=enhanced if isinstance(enhanced, str) else None,
                    b64=item["bytesBase64Encoded"],
                )
            )
        elif item.get("raiFilteredReason") is not None:
            filtered += 1
            reasons.append(provider_message(item["raiFilteredReason"], secrets))
        else:
            raise UpstreamError(
                f"{provider} returned a prediction without an image", provider=provider
            )
    if not images and not (reasons or prompt_rated):
        raise NoImageGenerated(
            f"{provider} answered without an image and without a safety reason",
            provider=provider,
        )
    if not images:
        why = f": {'; '.join(reasons)}" if reasons else " (it gave no reason)"
        raise ContentPolicyViolation(
            f"the provider's safety filters removed every image{why}", provider=provider
        )
    extra = {"images_filtered": filtered} if filtered else {}
    return Answer(ProviderResult(images=images, extra=extra))
