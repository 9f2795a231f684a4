"""`replicate` translations, all pure: a task to a prediction's JSON, Replicate's answers to
the kit's outcomes (`kit/tasks.py`), its error bodies to an `ErrorDetail`.

Replicate's API (REFERENCE-MORE §4; replicate-python-beta `types/prediction.py`): a submission
answers the prediction `{id, status, output, error, urls: {get, cancel, web}, data_removed, ...}`;
`GET urls.get` answers the same. `status` is `starting`, `processing`, `succeeded`, `failed`,
`canceled` (the SDK's enum) or `aborted` (a `Cancel-After` deadline reached before the
prediction started; REFERENCE-MORE §4.3, changelog 2025-10-16). `output` is model-specific: one
URI, a list of URIs, or a `data:` URI, all read alike. A model's failure is no HTTP error but
`status: "failed"` with `error` text; an NSFW refusal is such a failure (its wording below).
Error answers are problem JSON: `{"title", "detail", "status"}`, an input check adding
`invalid_fields: [{"type", "field", "description"}]` (REFERENCE-MORE §4.4).
"""

from __future__ import annotations

import math
import re
from typing import Any

import pybase64

from image_gateway.errors import ContentPolicyViolation, UpstreamError, UpstreamTimeout
from image_gateway.providers.kit.errors import ErrorDetail, safe_token
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sizing import aspect_of, fit_within, ratio_value
from image_gateway.providers.kit.tasks import Finished, Output, Pending, PollOutcome, Submitted
from image_gateway.providers.replicate.models import ReplicateModel
from image_gateway.schemas import ImageTask

PROVIDER = "replicate"
# How Replicate words an NSFW refusal in `error`: "NSFW content detected" (flux-schnell/dev's
# safety checker [3P]), "flagged as sensitive ... (E005)" (BFL's models on Replicate [3P]).
# [UNVERIFIED]: no primary source gives the texts; any of these words is read as one.
MODERATION_TEXT = ("nsfw", "flagged as sensitive", "sensitive content", "content policy")
# The gateway's field for each input field Replicate may name in a 422.
_GATEWAY_FIELDS = {
    "prompt": "prompt",
    "seed": "seed",
    "aspect_ratio": "aspect_ratio",
    "width": "size",
    "height": "size",
    "size": "size",
    "output_format": "output_format",
    "output_quality": "output_compression",
    "num_outputs": "n",
    "negative_prompt": "negative_prompt",
    "input_image": "image",
}
# Replicate's 422 title for a version that does not exist or is not the caller's (§4.4).
INVALID_VERSION = "invalid_version"
_ADDITIONAL = re.compile(r"[Aa]dditional property (\S+) is not allowed")
_RESETS_IN = re.compile(r"resets in ~?(\d+(?:\.\d+)?)\s*s")


def size_ratio(size: tuple[int, int], ratios: tuple[str, ...]) -> str | None:
    """The listed ratio a size has (within 1%), else None."""
    ratio = aspect_of(size)
    if ratio in ratios and abs(ratio_value(ratio) - size[0] / size[1]) <= 0.01 * ratio_value(ratio):
        return ratio
    return None


def to_input(task: ImageTask, model: ReplicateModel) -> dict[str, Any]:
    """The prediction's `input`: the model's own field names (`models.py`)."""
    data: dict[str, Any] = {"prompt": task.prompt}
    if task.seed is not None:
        data["seed"] = task.seed
    if task.negative_prompt is not None:
        data["negative_prompt"] = task.negative_prompt
    if task.output_format is not None:
        data["output_format"] = "jpg" if task.output_format == "jpeg" else task.output_format
    if task.output_compression is not None and model.quality_field is not None:
        data[model.quality_field] = task.output_compression
    if model.images_per_call > 1:
        data["num_outputs"] = task.n
    data.update(_size_fields(task, model))
    if task.images and model.image_field is not None:
        image = task.images[0]
        encoded = pybase64.b64encode(image.data).decode("ascii")
        data[model.image_field] = f"data:{image.content_type or 'image/png'};base64,{encoded}"
    data.update(task.params)  # provider-specific fields win over translated common ones
    return data


def _size_fields(task: ImageTask, model: ReplicateModel) -> dict[str, Any]:
    size, ratio, mode = task.size, task.aspect_ratio, model.size_mode
    if mode == "sizes":
        return {"size": f"{size[0]}x{size[1]}"} if size is not None else {}
    if mode == "wh":
        fields: dict[str, Any] = {"aspect_ratio": ratio} if ratio is not None else {}
        if size is not None:
            fields.update(width=size[0], height=size[1])
        return fields
    if mode == "custom" and size is not None:
        width, height = fit_within(size, low=256, high=1440, multiple=32)
        return {"aspect_ratio": "custom", "width": width, "height": height}
    if ratio is None and size is not None:
        ratio = size_ratio(size, model.ratios)
    if ratio is None and task.images and model.image_field is not None:
        ratio = "match_input_image"  # an edit keeps its input's shape unless asked otherwise
    return {"aspect_ratio": ratio} if ratio is not None else {}


def to_vendor(task: ImageTask, model: ReplicateModel) -> dict[str, Any]:
    """The JSON body of one prediction: `{"input"}` for an official model (its own URL),
    `{"version", "input"}` for a pinned version (`POST /v1/predictions`)."""
    body: dict[str, Any] = {"input": to_input(task, model)}
    if model.version is not None:
        body["version"] = model.version
    return body


def cancel_after(prefer_wait: int, poll_timeout: float) -> str:
    """`Cancel-After`: the longest the gateway waits for a prediction (the held submission,
    then polling), after which Replicate stops it (`aborted` if it never started, unbilled for
    public models; `canceled` if running). Written in seconds, `95s`: the grammar's upper
    bound and forms beyond `1m` are [UNVERIFIED] (REFERENCE-MORE §12)."""
    return f"{math.ceil(prefer_wait + poll_timeout)}s"


def parse_submit(payload: Any) -> Submitted:
    """The prediction in an accepted submission: its id and its own `urls.get`/`urls.cancel`."""
    task_id = payload.get("id") if isinstance(payload, dict) else None
    if not isinstance(task_id, str) or not task_id:
        raise UpstreamError(
            f"{PROVIDER} accepted the request but returned no prediction id", provider=PROVIDER
        )
    urls = payload.get("urls")
    urls = urls if isinstance(urls, dict) else {}
    get, cancel = urls.get("get"), urls.get("cancel")
    return Submitted(
        task_id,
        polling_url=get if isinstance(get, str) else None,
        cancel_url=cancel if isinstance(cancel, str) else None,
    )


def parse_poll(payload: Any, task_id: str, secrets: list[str]) -> PollOutcome:
    """A prediction's JSON as an outcome; raises for one that ended without images."""
    status = payload.get("status") if isinstance(payload, dict) else None
    if status == "succeeded":
        return Finished(_outputs(payload, task_id))
    if status == "failed":
        raise failure(payload.get("error"), task_id, secrets)
    if status == "canceled":
        raise UpstreamError(
            f"{PROVIDER} prediction {task_id} was canceled (on Replicate, or its Cancel-After "
            "deadline passed while it ran)",
            provider=PROVIDER,
            code="prediction_canceled",
        )
    if status == "aborted":
        raise UpstreamTimeout(
            f"{PROVIDER} aborted prediction {task_id}: its Cancel-After deadline passed before "
            "it started",
            provider=PROVIDER,
            code="prediction_aborted",
        )
    # starting, processing, and any status this adapter does not know yet: its word reported
    word = status if isinstance(status, str) and 0 < len(status) <= 64 else None
    return Pending(status=word)


def _outputs(payload: dict[str, Any], task_id: str) -> tuple[Output, ...]:
    output = payload.get("output")
    values = output if isinstance(output, list) else [output] if output is not None else []
    if not values:
        removed = payload.get("data_removed") is True
        raise UpstreamError(
            f"{PROVIDER} prediction {task_id} succeeded without output"
            + (" (its data was already removed)" if removed else ""),
            provider=PROVIDER,
        )
    return tuple(Output.of(value, PROVIDER) for value in values)


def failure(error: Any, task_id: str, secrets: list[str]) -> Exception:
    """What a `failed` prediction raises: a moderation refusal, or `generation_failed`."""
    text = provider_message(error, secrets) if isinstance(error, str) else ""
    if any(words in text.lower() for words in MODERATION_TEXT):
        return ContentPolicyViolation(
            f"the provider's safety system rejected this request ({text})",
            provider=PROVIDER,
        )
    return UpstreamError(
        f"{PROVIDER} prediction {task_id} failed" + (f": {text}" if text else ""),
        provider=PROVIDER,
        code="generation_failed",
    )


def error_detail(payload: Any, secrets: list[str]) -> ErrorDetail | None:
    """A problem-JSON error answer: its first invalid field, named in the gateway's terms
    (an extra property as `provider_params.<name>`), else its `detail` (or `title`); None for
    an answer of another shape."""
    if not isinstance(payload, dict):
        return None
    fields = payload.get("invalid_fields")
    if isinstance(fields, list) and fields and isinstance(fields[0], dict):
        first = fields[0]
        description = first.get("description") or payload.get("detail")
        message = provider_message(description, secrets)
        name = first.get("field")
        if not name and isinstance(description, str):
            extra = _ADDITIONAL.search(description)
            name = extra.group(1) if extra else None
        field = safe_token(name, secrets)
        return ErrorDetail(
            message,
            safe_token(first.get("type"), secrets),
            gateway_param(field) if field else None,
        )
    title = payload.get("title") if isinstance(payload.get("title"), str) else None
    text = payload.get("detail") if isinstance(payload.get("detail"), str) else None
    text = text or title
    code = INVALID_VERSION if title == "Invalid version or not permitted" else None
    return ErrorDetail(provider_message(text, secrets), code) if text else None


def gateway_param(field: str) -> str:
    """An input field Replicate names as the gateway request field it came from."""
    field = field.removeprefix("input.")
    return _GATEWAY_FIELDS.get(field, f"provider_params.{field}")


def rate_limit_hint(payload: Any) -> float | None:
    """Seconds in a 429's "Your rate limit resets in ~30s." (REFERENCE-MORE §4.4), for an
    answer without `Retry-After`."""
    detail = payload.get("detail") if isinstance(payload, dict) else None
    found = _RESETS_IN.search(detail) if isinstance(detail, str) else None
    return float(found.group(1)) if found else None
