"""xAI Images API translations, pure: a task to the JSON body of `/images/generations` or
`/images/edits`, and an answer to images and xAI's own charge.

Request (xai-sdk `GenerateImageRequest`; REFERENCE-MORE §7): `model`, `prompt`, `n`,
`response_format` (`url` | `b64_json`), `aspect_ratio`, `resolution`, `quality` (2.0 only),
`user`. An edit is JSON too, unlike OpenAI's multipart form (docs.x.ai "Image Generation": "the
xAI API requires application/json"): the input image as `image: {"url": <data URI>, "type":
"image_url"}`, several as `images: [...]` (openclaw `extensions/xai/image-generation-provider.ts`
[3P]; the SDK's `image` / `images` fields).

Answer (OpenAI-shaped; xAI's REST schema as withone.ai republishes it [3P], the SDK's
`GeneratedImage`): `{"block_reason", "data": [{"url" | "b64_json", "mime_type",
"revised_prompt", "respect_moderation"}], "usage": {"cost_in_usd_ticks"}}`.
- `b64_json` may be a data URI (`data:image/jpeg;base64,...`, xAI's grok-2-era guide; the SDK
  strips a `base64,` prefix too): the prefix is removed before the bytes are checked.
- A refusal arrives with HTTP 200: `block_reason` set (input moderation) or an image with
  `respect_moderation: false` and no data (vercel/ai #19168, #19185; the SDK raises "Image did
  not respect moderation rules"). Either is `ContentPolicyViolation`; the images that passed
  are not returned (vercel/ai does the same).
- `usage.cost_in_usd_ticks`: what xAI charged, 1 tick = 1e-10 USD (xai-sdk `cost.py`): the
  call's `Charge`.
Everything else is read by the OpenAI adapter's `translate.from_vendor`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pybase64

from image_gateway.errors import ContentPolicyViolation
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sizing import parse_ratio
from image_gateway.providers.kit.sync import Answer
from image_gateway.providers.openai import translate as openai_translate
from image_gateway.providers.xai.models import ASPECT_RATIOS, XAIModel
from image_gateway.schemas import Charge, ImageTask, InputImage

USD_PER_TICK = 1e-10  # xai-sdk `cost.py`: 1 tick == 1e-10 USD

# xAI's aspect ratios by value: "6:13" and "18:39" both ask for xAI's "9:19.5".
_BY_VALUE = {
    Fraction(w) / Fraction(h): name for name in ASPECT_RATIOS for w, h in [name.split(":")]
}


def wire_aspect_ratio(ratio: str) -> str | None:
    """xAI's spelling of a gateway aspect ratio ("W:H", integer terms), or None when xAI has no
    ratio of that value."""
    width, height = parse_ratio(ratio)
    return _BY_VALUE.get(Fraction(width, height))


def to_vendor(task: ImageTask, spec: XAIModel, response_format: str) -> dict[str, Any]:
    """The JSON body of one call making `task.n` images (validation left only what the model
    honours; `resolution` already lowercased by `normalize`)."""
    body: dict[str, Any] = {
        "model": spec.id,
        "prompt": task.prompt,
        "n": task.n,
        "response_format": response_format,
    }
    if task.aspect_ratio is not None:
        body["aspect_ratio"] = wire_aspect_ratio(task.aspect_ratio)
    if "resolution" in task.params:
        body["resolution"] = task.params["resolution"]
    if task.quality is not None:
        body["quality"] = task.quality
    user = task.user or task.safety_identifier  # xAI's `user` is its abuse-monitoring id
    if user is not None:
        body["user"] = user
    if task.is_edit:
        images = [image_url(image) for image in task.images]
        if len(images) == 1:
            body["image"] = images[0]
        else:
            body["images"] = images
    return body


def image_url(image: InputImage) -> dict[str, str]:
    """An input image as xAI's image object: its bytes as a data URI."""
    data = pybase64.b64encode(image.data).decode("ascii")
    return {"url": f"data:{image.content_type};base64,{data}", "type": "image_url"}


def from_vendor(payload: Any, provider: str, secrets: list[str]) -> Answer:
    """Images and xAI's charge from a 2xx answer (module docstring). `ContentPolicyViolation`
    for a refusal given with HTTP 200; `UpstreamError` (from the OpenAI translation) for an
    answer without usable images."""
    if isinstance(payload, dict):
        refusal = moderated(payload, provider, secrets)
        if refusal is not None:
            raise refusal
        if isinstance(payload.get("data"), list):
            payload = {**payload, "data": [_plain(item) for item in payload["data"]]}
    answer = openai_translate.from_vendor(payload, provider)
    usage = payload.get("usage") if isinstance(payload, dict) else None
    ticks = usage.get("cost_in_usd_ticks") if isinstance(usage, dict) else None
    if isinstance(ticks, int | float) and not isinstance(ticks, bool) and ticks >= 0:
        answer.result.charge = Charge(usd=ticks * USD_PER_TICK)
    return answer


def moderated(
    payload: dict[str, Any], provider: str, secrets: list[str]
) -> ContentPolicyViolation | None:
    """The refusal in an HTTP-200 answer: `block_reason`, or images that did not pass."""
    reason = payload.get("block_reason")
    if isinstance(reason, str) and reason.strip():
        return ContentPolicyViolation(
            f"{provider}'s moderation blocked the request: {provider_message(reason, secrets)}",
            code="content_policy_violation",
            provider=provider,
        )
    items = payload.get("data")
    if not isinstance(items, list):
        return None
    withheld = sum(1 for i in items if isinstance(i, dict) and i.get("respect_moderation") is False)
    if not withheld:
        return None
    return ContentPolicyViolation(
        f"{provider}'s moderation withheld {withheld} of {len(items)} images",
        code="content_policy_violation",
        provider=provider,
    )


def _plain(item: Any) -> Any:
    """An image entry as the OpenAI translation reads it: `b64_json` without a data-URI prefix,
    an empty `revised_prompt` (xAI no longer rewrites prompts) left out."""
    if not isinstance(item, dict):
        return item
    item = dict(item)
    b64 = item.get("b64_json")
    if isinstance(b64, str) and b64.startswith("data:"):
        head, sep, rest = b64.partition(",")
        if sep and head.endswith(";base64"):
            item["b64_json"] = rest
    if item.get("revised_prompt") == "":
        del item["revised_prompt"]
    return item
