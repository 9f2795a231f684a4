"""`bfl-flux` translations, all pure: a task to BFL's submission JSON, BFL's answers to the
kit's outcomes (`kit/tasks.py`, read by `kit/flux_tasks.py`, which Fireworks shares), its
error bodies to an `ErrorDetail`.

BFL's API (REFERENCE.md §2, BFL's OpenAPI): `POST /v1/<endpoint>` answers `{id, polling_url,
cost?}` (`cost` in credits); `GET polling_url` answers `{status, result: {sample, seed},
progress, details}`, `status` one of `Pending`, `Ready`, `Request Moderated` (the input),
`Content Moderated` (the output), `Error` (and `Failed`, in BFL's own samples), `Task not
found`. Moderation is an HTTP 200 with that status. Validation errors are FastAPI's 422
`{"detail": [{"loc": ["body", "width"], "msg": ...}]}`, others `{"detail": "text"}`.
"""

from __future__ import annotations

from typing import Any

import pybase64

from image_gateway.providers.bfl.models import BFLModel
from image_gateway.providers.kit import flux_tasks
from image_gateway.providers.kit.errors import ErrorDetail, safe_token
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sizing import aspect_of, dims_for_aspect, fit_within
from image_gateway.providers.kit.tasks import PollOutcome, Submitted
from image_gateway.schemas import ImageTask

PROVIDER = "bfl-flux"
# Request fields that are the gateway's own common fields; any other is a provider_param.
_COMMON = {"prompt", "seed", "output_format"}
_SIZE = {"width", "height", "aspect_ratio"}


def to_vendor(task: ImageTask, model: BFLModel) -> dict[str, Any]:
    """The JSON body of one BFL submission (one image)."""
    body: dict[str, Any] = {"prompt": task.prompt}
    if task.seed is not None:
        body["seed"] = task.seed
    if task.output_format is not None:
        body["output_format"] = task.output_format
    if model.size_mode == "aspect":
        if task.aspect_ratio is not None:
            body["aspect_ratio"] = task.aspect_ratio
        elif task.size is not None:
            body["aspect_ratio"] = aspect_of(task.size)
    elif model.size_mode in ("wh32", "wh16"):
        size = task.size
        if size is None and task.aspect_ratio is not None:
            size = dims_for_aspect(task.aspect_ratio, megapixels=1.0, multiple=16)
        if size is not None:
            if model.size_mode == "wh32":
                size = fit_within(size, low=256, high=1440, multiple=32)
            else:
                size = fit_within(size, low=64, high=4096, multiple=16, max_pixels=4 * 1024 * 1024)
            body["width"], body["height"] = size
    images = [pybase64.b64encode(img.data).decode("ascii") for img in task.images]
    if images:
        if model.image_field is not None:
            body[model.image_field] = images[0]
        else:
            body.update(zip(model.refs, images, strict=False))
    body.update(task.vendor)  # computed by `prepare`: the converted mask
    body.update(task.params)  # provider-specific fields win over translated common ones
    return body


def parse_submit(payload: Any) -> Submitted:
    """The task in an accepted submission's JSON (`kit/flux_tasks.py`)."""
    return flux_tasks.parse_submit(payload, PROVIDER)


def parse_poll(payload: Any, task_id: str, secrets: list[str]) -> PollOutcome:
    """A status answer's JSON as an outcome (`kit/flux_tasks.py`); raises for a task that
    ended badly."""
    return flux_tasks.parse_poll(payload, task_id, PROVIDER, secrets)


def validation_detail(payload: Any, secrets: list[str]) -> ErrorDetail | None:
    """FastAPI's validation list in an error answer's JSON: its first entry, naming the field
    in the gateway's terms; None for any other shape (`{"detail": "text"}` is a common one)."""
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if not (isinstance(detail, list) and detail and isinstance(detail[0], dict)):
        return None
    loc = [str(part) for part in detail[0].get("loc", []) if part != "body"]
    field = safe_token(".".join(loc), secrets)  # None also when it is no field name
    message = provider_message(detail[0].get("msg"), secrets)
    if field is None:
        return ErrorDetail(message)
    return ErrorDetail(f"{field}: {message}", param=gateway_param(field))


def gateway_param(field: str) -> str:
    """A BFL request field as the gateway request field it came from."""
    if field in _SIZE:
        return "size"
    return field if field in _COMMON else f"provider_params.{field}"
