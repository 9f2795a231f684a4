"""Recraft translations, pure: a task to the fields of `/images/generations` (JSON) or of
`/images/imageToImage` and `/images/inpaint` (multipart forms), an answer to images and
Recraft's charge, and Recraft's error bodies.

Request (RECRAFT-DOCS; recraft-ai/mcp-recraft-server `GenerateImageRequest`,
`ImageToImageRequest`, `InpaintImageRequest` at c7a1ed6): `prompt`, `model` (always sent:
RECRAFT-DOCS agents rule 3), `n`, `size` (`WxH` from the model's list: an aspect ratio is sent
as its size), `response_format` (`url` | `b64_json`), `style`, `substyle`, `style_id`,
`negative_prompt`, `random_seed`, `image_format` (png | webp), `controls`; an edit adds the file
parts `image` (and `mask`) and, without a mask, `strength`. In a form, `controls` is its JSON
text (Recraft's client sends it as a JSON part).

Answer (`GenerateImageResponse`): `{"created", "credits", "data": [{"image_id", "url" |
"b64_json", "revised_prompt"?, "features"?}]}`; `credits` is the API units the call cost (1,000
units = 1 USD, RECRAFT-DOCS pricing): the call's `Charge`. The images are read by the OpenAI
adapter's `translate.from_vendor`.

Error bodies: Recraft's errors page (recraft.ai `docs/api-reference/error-handling`) says the
body "varies: some errors return plain text, others JSON" (401 `text/plain` "request
unauthorized", 404 `text/plain` "404 page not found"), and RECRAFT-DOCS' agents page that errors
"keep a JSON body". A `text/plain` body is read as the message; in JSON, Portkey's Recraft
transform reads OpenAI's `{"error": {"message", "code", "param"}}` [3P], and a flat `{"code",
"message"}` is read too [UNVERIFIED: both readings accepted].
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import UpstreamError
from image_gateway.providers.kit.errors import ErrorDetail, common_error_detail, safe_token
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sync import Answer
from image_gateway.providers.openai import translate as openai_translate
from image_gateway.providers.recraft.models import RecraftModel
from image_gateway.schemas import Charge, ImageTask
from image_gateway.upstream.client import UpstreamResponse

UNITS_PER_USD = 1000  # RECRAFT-DOCS pricing: USD 1.00 buys 1,000 API units


def size_of(task: ImageTask, spec: RecraftModel) -> str | None:
    """The `size` to send: the task's, else its aspect ratio's (None: Recraft's default)."""
    if task.size is not None:
        return f"{task.size[0]}x{task.size[1]}"
    if task.aspect_ratio is not None:
        return spec.size_for(task.aspect_ratio)
    return None


def to_vendor(task: ImageTask, spec: RecraftModel, response_format: str) -> dict[str, Any]:
    """The fields of one call making `task.n` images (validation left only what the model
    honours); an edit's files are added by the adapter (`form_files`)."""
    body: dict[str, Any] = {
        "prompt": task.prompt,
        "model": spec.id,
        "n": task.n,
        "response_format": response_format,
    }
    size = size_of(task, spec)
    if size is not None and not task.is_edit:  # an edit keeps its input image's size
        body["size"] = size
    optional = {
        "style": task.style,
        "negative_prompt": task.negative_prompt,
        "random_seed": task.seed,
        "image_format": task.output_format,
    }
    body.update({name: value for name, value in optional.items() if value is not None})
    for name in ("substyle", "style_id", "controls", "strength"):
        if name in task.params:
            body[name] = task.params[name]
    return body


def from_vendor(payload: Any, provider: str) -> Answer:
    """Images and Recraft's charge from a 2xx answer; `UpstreamError` for an answer without
    usable images."""
    answer = openai_translate.from_vendor(payload, provider)
    credits = payload.get("credits") if isinstance(payload, dict) else None
    if isinstance(credits, int | float) and not isinstance(credits, bool) and credits >= 0:
        answer.result.charge = Charge(usd=credits / UNITS_PER_USD, credits=float(credits))
    elif credits is not None:
        raise UpstreamError(f"{provider} answered a malformed `credits`", provider=provider)
    return answer


def error_detail(resp: UpstreamResponse, provider: str, secrets: list[str]) -> ErrorDetail:
    """What a Recraft error answer says (module docstring), made safe."""
    if resp.headers.get("content-type", "").lower().startswith("text/plain"):
        return ErrorDetail(provider_message(resp.body.decode("utf-8", "replace"), secrets))
    try:
        payload = resp.json(provider)
    except UpstreamError:
        return ErrorDetail()
    if isinstance(payload, dict) and isinstance(payload.get("code"), str):
        message = payload.get("message")
        return ErrorDetail(
            provider_message(message if isinstance(message, str) else "", secrets),
            safe_token(payload["code"], secrets),
            safe_token(payload.get("param"), secrets),
        )
    return common_error_detail(resp, provider, secrets)
