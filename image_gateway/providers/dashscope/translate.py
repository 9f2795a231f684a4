"""DashScope translations, pure: a task to the body of `POST /api/v1/services/aigc/{task}/
image-synthesis`, task answers to the kit's outcomes (`kit/tasks.py`), error bodies to an
`ErrorDetail`.

Submission (DASH-PY `image_synthesis.py`; REFERENCE-MORE §8): `{"model", "input": {"prompt",
"negative_prompt", "images" | "function", "base_image_url", "mask_image_url"}, "parameters":
{"size": "W*H", "n", "seed", "prompt_extend", "watermark"}}` with `X-DashScope-Async: enable`;
input images go as data URIs (the API takes "URLs or Base64-encoded strings" [3P copies of its
page]; the SDK uploads local files to its OSS instead). The answer: `{"output": {"task_id",
"task_status": "PENDING"}, "request_id"}`.

Task (`GET /api/v1/tasks/{task_id}`; DASH-PY `TaskStatus`, `ImageSynthesisOutput`): `output.
task_status` PENDING | RUNNING | SUCCEEDED | FAILED | CANCELED | UNKNOWN; `output.results`
`[{"url"} | {"code", "message"}]` (a result that failed carries its code), `output.
task_metrics {"TOTAL", "SUCCEEDED", "FAILED"}`, `usage.image_count`; a failed task `output.
code`/`output.message`. UNKNOWN is a task DashScope does not know (or no longer: 24 hours) —
"not found" to the kit.

Refusals: codes `DataInspectionFailed` (input or output "may contain inappropriate content"),
`IPInfringementSuspect`, and `*DataInspection*` [3P: Model Studio error-code page copies] are
`ContentPolicyViolation`, whether as an HTTP 400 to the submission, a FAILED task's code or a
failed result's (when every result failed; the others are returned, as fal's are).
`Arrearage` (overdue account) and `Throttling.AllocationQuota` / `AllocationQuota.*` (free
quota used up) are quota; other `Throttling*` are rate limits (HTTP 429).
"""

from __future__ import annotations

import io
from typing import Any

import pybase64

from image_gateway.errors import ContentPolicyViolation, UpstreamError
from image_gateway.providers.dashscope.models import QWEN_SIZES, DashScopeModel
from image_gateway.providers.kit.errors import ErrorDetail, safe_token
from image_gateway.providers.kit.masks import WHITE, black_and_white_mask
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sizing import dims_for_aspect, fit_within, ratio_value
from image_gateway.providers.kit.tasks import (
    NOT_FOUND,
    Finished,
    Output,
    Pending,
    PollOutcome,
    Submitted,
)
from image_gateway.schemas import ImageTask, InputImage

PROVIDER = "dashscope"
MODERATION_CODES = ("DataInspectionFailed", "IPInfringementSuspect")
QUOTA_CODES = ("Arrearage", "Throttling.AllocationQuota", "AllocationQuota")
RUNNING = ("PENDING", "RUNNING")
TaskFailure = ContentPolicyViolation | UpstreamError


def is_moderation(code: str | None) -> bool:
    return code is not None and (code in MODERATION_CODES or "DataInspection" in code)


def is_quota(code: str | None) -> bool:
    return code is not None and (code in QUOTA_CODES or code.startswith("AllocationQuota"))


def wire_size(task: ImageTask, spec: DashScopeModel) -> str | None:
    """DashScope's `size` ("W*H") for the task (validated), or None for the model's default."""
    if spec.size_mode == "none":
        return None
    if task.size is not None:
        width, height = task.size
    elif task.aspect_ratio is not None:
        width, height = size_for_aspect(task.aspect_ratio, spec)
    else:
        return None
    return f"{width}*{height}"


def size_for_aspect(ratio: str, spec: DashScopeModel) -> tuple[int, int]:
    """The size asked for an aspect ratio: Qwen-Image's listed size closest to it; Wan 2.5's
    default area (1280x1280) at that ratio; else about 1 MP within 512-1440 per side."""
    if spec.size_mode == "fixed":
        want = ratio_value(ratio)
        best = min(QWEN_SIZES, key=lambda s: abs(ratio_value(s.replace("x", ":")) - want))
        width, height = best.split("x")
        return int(width), int(height)
    if spec.size_mode == "pixels":
        return dims_for_aspect(ratio, megapixels=1280 * 1280 / 1e6, multiple=16)
    size = dims_for_aspect(ratio, megapixels=1024 * 1024 / 1e6, multiple=16)
    return fit_within(size, low=512, high=1440, multiple=16)


def data_uri(image: InputImage | bytes, content_type: str = "image/png") -> str:
    data = image.data if isinstance(image, InputImage) else image
    kind = image.content_type if isinstance(image, InputImage) else content_type
    return f"data:{kind};base64,{pybase64.b64encode(data).decode('ascii')}"


def to_vendor(task: ImageTask, spec: DashScopeModel) -> dict[str, Any]:
    """The submission's JSON body (validation left only what the model honours; an edit's
    converted mask, if any, is `task.vendor["mask"]`)."""
    source: dict[str, Any] = {"prompt": task.prompt}
    if task.negative_prompt is not None:
        source["negative_prompt"] = task.negative_prompt
    if spec.edit_mode == "images":
        source["images"] = [data_uri(image) for image in task.images]
    elif spec.edit_mode == "function":
        mask = task.vendor.get("mask")
        default = "description_edit_with_mask" if mask is not None else "description_edit"
        source["function"] = task.params.get("function", default)
        source["base_image_url"] = data_uri(task.images[0])
        if mask is not None:
            source["mask_image_url"] = data_uri(mask)
    parameters: dict[str, Any] = {"n": task.n}
    size = wire_size(task, spec)
    if size is not None:
        parameters["size"] = size
    if task.seed is not None:
        parameters["seed"] = task.seed
    for name in ("prompt_extend", "watermark"):
        if name in task.params:
            parameters[name] = task.params[name]
    return {"model": spec.id, "input": source, "parameters": parameters}


def parse_submit(payload: Any) -> Submitted:
    """The task id of an accepted submission (`output.task_id`)."""
    return Submitted(payload["output"]["task_id"])


def parse_task(payload: Any, secrets: list[str]) -> PollOutcome:
    """A task's status answer as the kit's outcome (module docstring); raises for a task that
    ended without images."""
    output = payload["output"]
    status = output["task_status"]
    if status in RUNNING:
        return Pending(progress=_progress(output.get("task_metrics")), status=status)
    if status == "UNKNOWN":
        return NOT_FOUND
    if status == "SUCCEEDED":
        return _finished(output.get("results") or [], secrets)
    code = output.get("code") if isinstance(output.get("code"), str) else None
    if status == "FAILED":
        raise failure(code, output.get("message"), secrets)
    if status == "CANCELED":
        raise UpstreamError(
            f"{PROVIDER} task {output.get('task_id')} was canceled",
            provider=PROVIDER,
            code="generation_failed",
        )
    raise UpstreamError(
        f"{PROVIDER} answered an unknown task status", provider=PROVIDER, code="generation_failed"
    )


def _progress(metrics: Any) -> float | None:
    """The share of a task's images already ended (`task_metrics`), when it says."""
    if not isinstance(metrics, dict):
        return None
    total, done = metrics.get("TOTAL"), metrics.get("SUCCEEDED", 0)
    failed = metrics.get("FAILED", 0)
    numbers = all(isinstance(v, int) and not isinstance(v, bool) for v in (total, done, failed))
    if not numbers or not total:
        return None
    return min(1.0, float(done + failed) / float(total))


def _finished(results: list[Any], secrets: list[str]) -> Finished:
    """The images of a SUCCEEDED task; results that failed are dropped, and when every one
    did the task is the failure of the first."""
    outputs = []
    failed: list[dict[str, Any]] = []
    for result in results:
        if isinstance(result, dict) and isinstance(result.get("url"), str) and result["url"]:
            outputs.append(Output.of(result["url"], PROVIDER))
        elif isinstance(result, dict):
            failed.append(result)
    if outputs:
        return Finished(tuple(outputs))
    if failed:
        first = failed[0]
        code = first.get("code") if isinstance(first.get("code"), str) else None
        raise failure(code, first.get("message"), secrets)
    raise UpstreamError(f"{PROVIDER} returned no result image", provider=PROVIDER)


def failure(code: str | None, message: Any, secrets: list[str]) -> TaskFailure:
    """The error of a task (or of all its images) that failed after acceptance."""
    text = provider_message(message, secrets)
    shown = safe_token(code, secrets)
    detail = (f" ({shown})" if shown else "") + (f": {text}" if text else "")
    if is_moderation(code):
        return ContentPolicyViolation(
            f"{PROVIDER}'s content inspection refused the request{detail}",
            code="content_policy_violation",
            provider=PROVIDER,
        )
    return UpstreamError(
        f"{PROVIDER} failed the task{detail}", provider=PROVIDER, code="generation_failed"
    )


def error_detail(payload: Any, secrets: list[str]) -> ErrorDetail | None:
    """DashScope's error body `{"request_id", "code", "message"}`; None for another shape."""
    if not isinstance(payload, dict) or not isinstance(payload.get("code"), str):
        return None
    return ErrorDetail(
        provider_message(payload.get("message"), secrets), safe_token(payload["code"], secrets)
    )


def vendor_mask(image: bytes, mask: bytes) -> bytes:
    """An OpenAI-style mask (transparent = edit) as wanx2.1-imageedit's (white = edit), checked
    to be the input image's size (`InvalidRequest` naming `mask`). Blocking: run in a thread."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as opened:
            size = opened.size
    except (OSError, UnidentifiedImageError):
        size = None  # the image's own check refuses it elsewhere
    return black_and_white_mask(mask, edited=WHITE, size=size)
