"""`fal` translations, all pure: a task to an endpoint's input, fal's queue answers to the
kit's outcomes (`kit/tasks.py`), its error bodies to an `ErrorDetail`.

fal's queue (REFERENCE-MORE §3.2, fal-js `queue.ts`, fal_client `client.py`): a submission
answers `{request_id, status_url, response_url, cancel_url, status, queue_position}`; the
status answers `{"status": "IN_QUEUE", "queue_position": N}`, `{"status": "IN_PROGRESS"}` or
`{"status": "COMPLETED"}` — a failed request also ends COMPLETED, carrying `error` and
`error_type` (fal_client's `Completed(error, error_type)`); the result is the document at
`response_url`, with the model's own status: its output on a 200, its error (422 with
`detail`) otherwise. Output shapes differ per endpoint (§3.4): `images: [{url, width, height,
content_type}]` or one `image: {...}`, `seed` or none, `has_nsfw_concepts` or none.

`has_nsfw_concepts` (a list parallel to `images`, FLUX): fal's safety checker flagged that
image (it is sent back blacked out [3P]). Decision (REFERENCE-MORE §10.2 counts it among the
HTTP-200 "blocked" forms): a flagged image is dropped; when every image is flagged the request
is a 400 `content_policy_violation`, as fal's own 422 refusal is. The images that passed are
returned (fewer than asked); fal bills the request either way ([UNVERIFIED]).
"""

from __future__ import annotations

from typing import Any

import pybase64

from image_gateway.errors import ContentPolicyViolation, UpstreamError
from image_gateway.providers.fal.models import PRESETS, RATIO_PRESETS, FalModel
from image_gateway.providers.kit.errors import ErrorDetail, safe_token
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sizing import aspect_of, ratio_value
from image_gateway.providers.kit.tasks import (
    Finished,
    Output,
    Pending,
    PollOutcome,
    ResultAt,
    Submitted,
)
from image_gateway.schemas import ImageTask

PROVIDER = "fal"
CONTENT_POLICY = "content_policy_violation"  # fal's error type for a refusal (§3.5)
# The gateway's field for each input field fal may name in a 422's `loc`.
_GATEWAY_FIELDS = {
    "prompt": "prompt",
    "seed": "seed",
    "image_size": "size",
    "width": "size",
    "height": "size",
    "aspect_ratio": "aspect_ratio",
    "output_format": "output_format",
    "num_images": "n",
    "image_url": "image",
}
_PRESET_OF = {size: name for name, size in PRESETS.items()}


def size_ratio(size: tuple[int, int], ratios: tuple[str, ...]) -> str | None:
    """The listed ratio a size has (within 1%), else None."""
    ratio = aspect_of(size)
    if ratio in ratios and abs(ratio_value(ratio) - size[0] / size[1]) <= 0.01 * ratio_value(ratio):
        return ratio
    return None


def to_vendor(task: ImageTask, model: FalModel) -> dict[str, Any]:
    """The endpoint's JSON input: fal's own field names (`models.py`); `provider_params` win
    over translated common fields."""
    data: dict[str, Any] = {"prompt": task.prompt}
    if model.images_per_call > 1:
        data["num_images"] = task.n
    if task.seed is not None:
        data["seed"] = task.seed
    if task.output_format is not None and model.output_formats:
        data["output_format"] = task.output_format
    data.update(_size_fields(task, model))
    if task.images and model.image_field is not None:
        image = task.images[0]
        encoded = pybase64.b64encode(image.data).decode("ascii")
        data[model.image_field] = f"data:{image.content_type or 'image/png'};base64,{encoded}"
    data.update(task.params)
    return data


def _size_fields(task: ImageTask, model: FalModel) -> dict[str, Any]:
    size, ratio = task.size, task.aspect_ratio
    if model.size_mode == "image_size":
        if size is not None:
            preset = _PRESET_OF.get(size)
            return {"image_size": preset or {"width": size[0], "height": size[1]}}
        return {"image_size": RATIO_PRESETS[ratio]} if ratio is not None else {}
    if ratio is None and size is not None:
        ratio = size_ratio(size, model.ratios)
    return {"aspect_ratio": ratio} if ratio is not None else {}


def parse_submit(payload: Any) -> Submitted:
    """An accepted submission: its `request_id` and the URLs fal gave (never built here: they
    drop the endpoint's sub-path, REFERENCE-MORE §3.2)."""
    if not isinstance(payload, dict):
        raise UpstreamError(f"{PROVIDER} accepted the request but returned no request id",
                            provider=PROVIDER)  # fmt: skip
    request_id = payload.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        raise UpstreamError(
            f"{PROVIDER} accepted the request but returned no request id", provider=PROVIDER
        )
    return Submitted(
        request_id,
        polling_url=_text(payload.get("status_url")),
        cancel_url=_text(payload.get("cancel_url")),
        result_url=_text(payload.get("response_url")),
    )


def parse_status(payload: Any, submitted: Submitted, secrets: list[str]) -> PollOutcome:
    """A status answer: pending (with fal's status word and queue position), the result's
    URL once COMPLETED, or the failure a COMPLETED status carries."""
    status = payload.get("status") if isinstance(payload, dict) else None
    if status == "COMPLETED":
        error = payload.get("error")
        if error:
            raise completed_error(error, payload.get("error_type"), submitted.task_id, secrets)
        url = submitted.result_url or _text(payload.get("response_url"))
        if url is None:
            raise UpstreamError(
                f"{PROVIDER} request {submitted.task_id} completed but gave no response_url",
                provider=PROVIDER,
            )
        return ResultAt(url)
    position = payload.get("queue_position") if isinstance(payload, dict) else None
    queued = isinstance(position, int) and not isinstance(position, bool) and position >= 0
    return Pending(
        status=status if isinstance(status, str) and status.isupper() else None,
        queue_position=position if queued else None,
    )


def completed_error(error: Any, error_type: Any, request_id: str, secrets: list[str]) -> Exception:
    """What a COMPLETED status carrying an error raises: a refusal, or `generation_failed`."""
    text = provider_message(error if isinstance(error, str) else str(error), secrets)
    kind = safe_token(error_type, secrets)
    if kind == CONTENT_POLICY or "content checker" in text.lower():
        return ContentPolicyViolation(
            f"the provider's safety system rejected this request ({text})", provider=PROVIDER
        )
    return UpstreamError(
        f"{PROVIDER} request {request_id} failed"
        + (f" ({kind})" if kind else "")
        + (f": {text}" if text else ""),
        provider=PROVIDER,
        code="generation_failed",
    )


def parse_result(payload: Any, request_id: str) -> Finished:
    """The result document: its images (`images` list or one `image`), those fal's safety
    checker flagged dropped (see the module docstring), each with the document's `seed`."""
    if not isinstance(payload, dict):
        raise UpstreamError(f"{PROVIDER} request {request_id} gave no result", provider=PROVIDER)
    images = payload.get("images")
    if images is None and isinstance(payload.get("image"), dict):
        images = [payload["image"]]
    if not isinstance(images, list) or not images:
        raise UpstreamError(
            f"{PROVIDER} request {request_id} completed without images", provider=PROVIDER
        )
    flags = payload.get("has_nsfw_concepts")
    flags = flags if isinstance(flags, list) else []
    seed = payload.get("seed")
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
    kept = [image for i, image in enumerate(images) if not (i < len(flags) and flags[i] is True)]
    if not kept:
        raise ContentPolicyViolation(
            "the provider's safety checker flagged every image (has_nsfw_concepts: fal sends "
            "them blacked out, and may have charged for them); nothing was returned",
            provider=PROVIDER,
        )
    outputs = []
    for image in kept:
        url = image.get("url") if isinstance(image, dict) else image
        outputs.append(Output.of(url, PROVIDER, seed=seed))
    return Finished(tuple(outputs))


def error_detail(payload: Any, secrets: list[str]) -> ErrorDetail | None:
    """fal's error bodies: `{"detail": [{loc, msg, type}]}` (its first item, the field named
    in the gateway's terms), the same list unwrapped ([3P]), or `{"detail": "text",
    "error_type"}`; None for another shape."""
    detail = payload.get("detail") if isinstance(payload, dict) else payload
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        loc = first.get("loc")
        names = (
            [part for part in loc if isinstance(part, str) and part != "body"]
            if isinstance(loc, list)
            else []
        )
        field = safe_token(names[0], secrets) if names else None
        return ErrorDetail(
            provider_message(first.get("msg"), secrets),
            safe_token(first.get("type"), secrets),
            gateway_param(field) if field else None,
        )
    if isinstance(detail, str):
        kind = payload.get("error_type") if isinstance(payload, dict) else None
        return ErrorDetail(provider_message(detail, secrets), safe_token(kind, secrets))
    return None


def gateway_param(field: str) -> str:
    """An input field fal names, as the gateway request field it came from."""
    return _GATEWAY_FIELDS.get(field, f"provider_params.{field}")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
