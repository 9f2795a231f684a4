"""OpenAI Images API translations, pure: the task to a request body (JSON for generations,
the same fields plus files as a form for edits), an `ImagesResponse` to images and usage, and
the size rules. Field names are OpenAI's (REFERENCE §1.2-§1.4, openai-python 3.57.0
`types/image_generate_params.py`, `image_edit_params.py`).

DALL-E is asked for `b64_json` so the gateway holds the bytes at once (its URLs die after 60
minutes); an image still answered by `url` (compatible servers that ignore `response_format`)
is left for `kit/sync.py` to download.
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import InvalidRequest, UpstreamError
from image_gateway.image_format import sniff_image_type
from image_gateway.providers.kit.output import decode_b64_runs
from image_gateway.providers.kit.sizing import dims_for_aspect, ratio_value
from image_gateway.providers.kit.sync import Answer
from image_gateway.providers.openai.models import OpenAIModel
from image_gateway.schemas import GeneratedImage, ImageTask, ProviderResult, token_usage
from image_gateway.upstream.client import FormPart

# Task fields sent as they are (validation left only what the model honours). DALL·E has no
# `output_format` parameter: it makes PNGs, the only format its specs declare.
SENT_FIELDS = (
    "quality",
    "style",
    "output_compression",
    "background",
    "moderation",
    "user",
    "safety_identifier",
)
# Fields of an `ImagesResponse` that say what GPT image models made; passed on to the client.
ECHOED_FIELDS = ("background", "output_format", "quality", "size")
# gpt-image-2's size rule (REFERENCE §1.3): sides multiples of 16, longest side <= 3840,
# aspect <= 3:1, 655,360 to 8,294,400 pixels. An aspect ratio alone gets about 1 MP.
FLEX_MULTIPLE, FLEX_MAX_SIDE, FLEX_MAX_ASPECT = 16, 3840, 3
FLEX_PIXELS = (655_360, 8_294_400)
FLEX_MEGAPIXELS = 1.05


def to_vendor(task: ImageTask, spec: OpenAIModel) -> dict[str, Any]:
    """The request's fields for one call making `task.n` images (the JSON body of a
    generation, the text fields of an edit's form)."""
    body: dict[str, Any] = {"model": spec.id, "prompt": task.prompt, "n": task.n}
    if task.size is not None:
        body["size"] = f"{task.size[0]}x{task.size[1]}"
    for name in SENT_FIELDS:
        value = getattr(task, name)
        if value is not None:
            body[name] = value
    if spec.family == "gpt":
        if task.output_format is not None:
            body["output_format"] = task.output_format
    else:
        body["response_format"] = "b64_json"
    if task.is_edit and task.input_fidelity is not None:
        body["input_fidelity"] = task.input_fidelity
    body.update(task.params)
    return body


def form_files(task: ImageTask) -> list[FormPart]:
    """An edit's files: `image` (one) or repeated `image[]` (several, as openai-python sends
    them), then `mask`."""
    field = "image" if len(task.images) == 1 else "image[]"
    parts = [FormPart(field, img.data, img.filename, img.content_type) for img in task.images]
    if task.mask is not None:
        parts.append(FormPart("mask", task.mask.data, task.mask.filename, task.mask.content_type))
    return parts


def from_vendor(payload: Any, provider: str) -> Answer:
    """Images and usage from an `ImagesResponse` (`{"data": [{"b64_json" | "url",
    "revised_prompt"}], "usage", "size", "quality", ...}`; `b64_json` a str, or a view of the
    answer's bytes: `kit/b64_answer`); the URLs of images answered by URL.
    `UpstreamError` for an answer without usable images."""
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise UpstreamError(f"{provider} returned no images", provider=provider)
    images, urls = [], {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise UpstreamError(f"{provider} returned a malformed image entry", provider=provider)
        # Decoded as the answer arrived (`kit/b64_answer.StreamedAnswer`), or at once (a view of
        # the answer's bytes), so each image is held as its bytes, 3/4 of its base64, in the
        # runs they were decoded in; a synchronous answer encodes them again as it sends them,
        # letting each go once sent (`schemas.LazyB64`, issue 16).
        revised = item.get("revised_prompt")
        revised = revised if isinstance(revised, str) else None
        if item.get("b64_json") is not None:
            runs = decode_b64_runs(item["b64_json"], provider)
            image = GeneratedImage(None, "", revised_prompt=revised, runs=runs)
        elif isinstance(item.get("url"), str):
            image, urls[index] = GeneratedImage(b"", "", revised_prompt=revised), item["url"]
        else:
            raise UpstreamError(f"{provider} returned an image without data", provider=provider)
        image.content_type = sniff_image_type(image.head(12)) or "image/png"
        images.append(image)
    echoed = {k: payload[k] for k in ECHOED_FIELDS if isinstance(payload.get(k), str)}
    # Only OpenAI's token object goes on as `usage`: a compatible server's own shape would
    # leave the SDK's integer fields None (cost comes from tokens, else the echoed size/quality).
    result = ProviderResult(images=images, usage=token_usage(payload.get("usage")), extra=echoed)
    return Answer(result, urls)


def size_for_aspect(ratio: str, spec: OpenAIModel) -> tuple[int, int]:
    """The size to ask for an aspect ratio (`"16:9"`): about 1 MP within gpt-image-2's rule,
    else the model's supported size closest in ratio. `InvalidRequest` when the model takes no
    aspect ratio."""
    if spec.flexible_size:
        return dims_for_aspect(ratio, megapixels=FLEX_MEGAPIXELS, multiple=FLEX_MULTIPLE)
    if not spec.aspect_ratios or not spec.sizes:
        raise InvalidRequest(
            f"{spec.id} does not take aspect_ratio; use size", param="aspect_ratio"
        )
    want = ratio_value(ratio)
    best = min(spec.sizes, key=lambda s: abs(ratio_value(s.replace("x", ":")) - want))
    width, height = best.split("x")
    return int(width), int(height)


def check_flexible_size(size: tuple[int, int]) -> None:
    """gpt-image-2's size rule; `InvalidRequest` naming `size` when it is broken."""
    width, height = size
    low, high = FLEX_PIXELS
    ok = (
        width % FLEX_MULTIPLE == 0
        and height % FLEX_MULTIPLE == 0
        and max(width, height) <= FLEX_MAX_SIDE
        and max(width, height) <= FLEX_MAX_ASPECT * min(width, height)
        and low <= width * height <= high
    )
    if not ok:
        raise InvalidRequest(
            f"size {width}x{height} is not supported: both sides multiples of 16, longest side "
            "<= 3840, aspect ratio <= 3:1, 655,360 to 8,294,400 pixels",
            param="size",
        )
