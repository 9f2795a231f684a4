"""Together's Images API translations, pure: a task to the JSON body of
`POST /images/generations`, its answer to images, its error bodies to the gateway's terms.

Request (Together's OpenAPI; together-py `image_generate_params.py`; see `models.py`): `model`,
`prompt`, `n`, `width`, `height`, `seed`, `steps`, `guidance_scale`, `output_format`,
`response_format` (`base64` | `url`), `disable_safety_checker`, and for an edit `image_url`
(the input image as a `data:` URI). A size is sent as `width`/`height`; an aspect ratio as the
width and height of about one megapixel at that ratio, sides multiples of 16.

Answer (together-python `types/images.py` `ImageResponse`; OpenAPI `ImageResponse`): `{"id",
"model", "object": "list", "data": [{"index", "b64_json" | "url", "type"}]}`. Entries are put
in `index` order; a `b64_json` given as a `data:` URI is accepted too [inference: tolerant].

Errors (together-python `abstract/api_requestor.py` `handle_error_response`; OpenAPI
`ErrorData`): `{"error": {"message", "type", "param", "code"}}`; 429 rate limit; 400, 403, 404,
415, 422 invalid request; 401 authentication; 503 "engine overloaded". Together's error codes
page (docs.together.ai `docs/error-codes`) adds 402 Payment Required (a spending limit reached
or credits run out). How Together words a moderation refusal, and a credit limit in a status
other than 402, is [UNVERIFIED]: `refusal` reads any 4xx naming NSFW content, a content
policy, moderation or a flagged prompt as `ContentPolicyViolation`, and a 402, or a 4xx about
a credit limit or balance, as `ProviderQuotaExhausted`. No HTTP-200 refusal form is documented.
"""

from __future__ import annotations

from typing import Any

import pybase64

from image_gateway.errors import ContentPolicyViolation, GatewayError, ProviderQuotaExhausted
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.sizing import dims_for_aspect
from image_gateway.providers.kit.sync import Answer
from image_gateway.providers.openai import translate as openai_translate
from image_gateway.providers.openai.adapter import MODERATION_CODES, QUOTA_CODES
from image_gateway.providers.together.models import MULTIPLE, TogetherModel
from image_gateway.schemas import ImageTask, InputImage

MODERATION_TEXT = ("nsfw", "content policy", "moderation", "flagged")
QUOTA_TEXT = ("credit limit", "insufficient balance", "insufficient credit", "out of credits")
# Together's `param` names in the gateway's terms (others are `provider_params.<name>`).
PARAMS = {
    "prompt": "prompt",
    "model": "model",
    "n": "n",
    "seed": "seed",
    "width": "size",
    "height": "size",
    "output_format": "output_format",
    "response_format": "response_format",
    "image_url": "image",
}


def dimensions(task: ImageTask) -> tuple[int, int] | None:
    """The width and height to ask for: the size, else about 1 MP at the aspect ratio, else
    None (Together's default, 1024x1024)."""
    if task.size is not None:
        return task.size
    if task.aspect_ratio is not None:
        return dims_for_aspect(task.aspect_ratio, megapixels=1.0, multiple=MULTIPLE)
    return None


def to_vendor(task: ImageTask, spec: TogetherModel, response_format: str) -> dict[str, Any]:
    """The JSON body of one call making `task.n` images (validation left only what the model
    honours)."""
    body: dict[str, Any] = {
        "model": spec.id,
        "prompt": task.prompt,
        "n": task.n,
        "response_format": response_format,
    }
    size = dimensions(task)
    if size is not None:
        body["width"], body["height"] = size
    if task.seed is not None:
        body["seed"] = task.seed
    if task.output_format is not None:
        body["output_format"] = task.output_format
    for name in spec.params:  # Together's own fields, under its names
        if name in task.params:
            body[name] = task.params[name]
    if task.is_edit:
        body["image_url"] = data_uri(task.images[0])
    return body


def data_uri(image: InputImage) -> str:
    return f"data:{image.content_type};base64,{pybase64.b64encode(image.data).decode('ascii')}"


def from_vendor(payload: Any, provider: str) -> Answer:
    """Images from a 2xx answer, in `index` order; the URLs of those answered by URL.
    `UpstreamError` (the OpenAI translation's) for an answer without usable images."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        items = [_plain(item) for item in payload["data"]]
        if all(isinstance(i, dict) and isinstance(i.get("index"), int) for i in items):
            items.sort(key=lambda item: item["index"])
        payload = {"data": items}
    return openai_translate.from_vendor(payload, provider)


def _plain(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    b64 = item.get("b64_json")
    if isinstance(b64, str) and b64.startswith("data:"):
        head, sep, rest = b64.partition(",")
        if sep and head.endswith(";base64"):
            return {**item, "b64_json": rest}
    return item


def gateway_param(param: str | None) -> str | None:
    """Together's `param` as the gateway's field: a common field, else `provider_params.<it>`."""
    if param is None:
        return None
    return PARAMS.get(param, f"provider_params.{param}")


def refusal(status: int, detail: ErrorDetail, provider: str) -> GatewayError | None:
    """A moderation or credit answer the status table would misread (module docstring)."""
    text = detail.message.lower()
    if 400 <= status < 500 and (
        detail.code in MODERATION_CODES or any(words in text for words in MODERATION_TEXT)
    ):
        return ContentPolicyViolation(
            f"{provider}'s safety checker rejected this request",
            code="content_policy_violation",
            provider=provider,
        )
    if status == 402 or (
        400 <= status < 500
        and (detail.code in QUOTA_CODES or any(words in text for words in QUOTA_TEXT))
    ):
        return ProviderQuotaExhausted(
            f"the {provider} account is out of credits or at its credit limit", provider=provider
        )
    return None
