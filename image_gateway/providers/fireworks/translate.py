"""FLUX.1 [schnell] on Fireworks, pure translations: a task to the workflow's JSON, its answer
(JSON or the image's bytes) to an image (REFERENCE-MORE §8; FW-DOCS; vercel/ai).

Request: `{prompt, aspect_ratio?, seed?, guidance_scale?, num_inference_steps?}`, Bearer key,
`Accept` `application/json`, `image/png` or `image/jpeg`.

Answer, read whichever `Accept` was sent:
- JSON `{"id", "base64": ["data:image/png;base64,..."], "finishReason": "SUCCESS", "seed"}`:
  the first image (one a call); a finish reason other than `SUCCESS` is no image: one naming a
  filter or moderation (`CONTENT_FILTERED` [UNVERIFIED]: Fireworks lists no other) is a
  `ContentPolicyViolation`, any other an `UpstreamError`;
- `image/*`: the image's bytes (a `finish-reason` / `seed` header read when there is one
  [UNVERIFIED]).
Error bodies are OpenAI's `{"error": {...}}` or `{"error": "text"}` [UNVERIFIED]: read by
`kit/errors.common_error_detail`.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any

import pybase64

from image_gateway.errors import ContentPolicyViolation, UpstreamError
from image_gateway.providers.fireworks.models import SCHNELL_RATIOS
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sizing import aspect_of, ratio_value
from image_gateway.providers.kit.sync import Answer
from image_gateway.schemas import GeneratedImage, ImageTask, ProviderResult

PROVIDER = "fireworks"
SUCCESS = "SUCCESS"


def size_ratio(size: tuple[int, int]) -> str | None:
    """The listed aspect ratio a size has (within 1%), else None."""
    ratio = aspect_of(size)
    if ratio in SCHNELL_RATIOS:
        if abs(ratio_value(ratio) - size[0] / size[1]) <= 0.01 * ratio_value(ratio):
            return ratio
    return None


def to_vendor(task: ImageTask) -> dict[str, Any]:
    """The JSON body of one call (one image)."""
    body: dict[str, Any] = {"prompt": task.prompt}
    ratio = task.aspect_ratio or (size_ratio(task.size) if task.size is not None else None)
    if ratio is not None:
        body["aspect_ratio"] = ratio
    if task.seed is not None:
        body["seed"] = task.seed
    for name in ("guidance_scale", "num_inference_steps"):
        if name in task.params:
            body[name] = task.params[name]
    return body


def accept(task: ImageTask, configured: str) -> str:
    """The `Accept` header: JPEG bytes for a JPEG, else the configured one."""
    return "image/jpeg" if task.output_format == "jpeg" else configured


def from_json(payload: Any, secrets: list[str]) -> Answer:
    """A JSON answer (module docstring)."""
    if not isinstance(payload, dict):
        raise UpstreamError(f"{PROVIDER} returned a malformed answer", provider=PROVIDER)
    check_finish(payload.get("finishReason"), secrets)
    images = payload.get("base64")
    first = images[0] if isinstance(images, list) and images else None
    if not isinstance(first, str) or not first:
        raise UpstreamError(f"{PROVIDER} returned an answer without an image", provider=PROVIDER)
    encoded = first.partition(",")[2] if first.startswith("data:") else first
    try:
        data = pybase64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamError(
            f"{PROVIDER} returned invalid base64 image data", provider=PROVIDER
        ) from None
    return _answer(data, payload.get("seed"))


def from_image(body: bytes, headers: Mapping[str, str], secrets: list[str]) -> Answer:
    """An `image/*` answer: the bytes, and the headers' finish reason and seed if any."""
    check_finish(headers.get("finish-reason"), secrets)
    if not body:
        raise UpstreamError(f"{PROVIDER} returned an empty image", provider=PROVIDER)
    return _answer(body, headers.get("seed"))


def check_finish(reason: Any, secrets: list[str]) -> None:
    if reason is None or reason == SUCCESS:
        return
    text = provider_message(str(reason), secrets)[:60]
    if any(word in str(reason).upper() for word in ("FILTER", "MODERAT", "NSFW", "SAFETY")):
        raise ContentPolicyViolation(
            f"{PROVIDER}'s safety filter withheld the image (finishReason {text}); it may "
            "have been charged",
            code="content_policy_violation",
            provider=PROVIDER,
        )
    raise UpstreamError(
        f"{PROVIDER} finished without an image (finishReason {text})", provider=PROVIDER
    )


def _answer(data: bytes, seed: Any) -> Answer:
    if isinstance(seed, str) and seed.strip().isdigit():
        seed = int(seed.strip())
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
    return Answer(ProviderResult(images=[GeneratedImage(data, "image/png", seed=seed)]))
