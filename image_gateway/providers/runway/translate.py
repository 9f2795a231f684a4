"""Runway translations, pure: a task to the body of `POST /v1/text_to_image`, and its answers.

Body (runwayml/sdk-python `text_to_image_create_params.py` at c604e0e; the SDK's aliases are the
wire names): `model`, `promptText`, `ratio`, `seed` (gen4), `referenceImages: [{uri, tag?,
subject?}]` (the input images, as `data:` URIs), `contentModeration: {publicFigureThreshold}`
(gen4), `outputCount` (gpt_image_2), `quality`, `background` (gpt_image_2), `outputFormat`
(Seedream), `grounding` (seedream5_pro).

Answers: the submission `{"id"}` (`text_to_image_create_response.py`); a task (`GET
/v1/tasks/{id}`, `task_retrieve_response.py`) `{id, createdAt, status}` with, by status:
PENDING and THROTTLED nothing more, RUNNING `progress` (0-1), SUCCEEDED `output` (URLs that
expire within 24-48 h), FAILED `failure` (human-readable) and `failureCode` (optional; "SAFETY.
INPUT.TEXT": a code with a `SAFETY` part, `INPUT_PREPROCESSING.SAFETY.TEXT` too, is content
moderation of an input or of the output, not to be retried; docs.dev.runwayml.com
errors/task-failures), CANCELLED (a cancelled or deleted task, by us or another client).
"""

from __future__ import annotations

from typing import Any

import pybase64

from image_gateway.errors import ContentPolicyViolation, UpstreamError
from image_gateway.providers.kit.polling import Finished, Output, Pending, PollOutcome, Submitted
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.runway.models import RunwayModel
from image_gateway.schemas import ImageTask, InputImage

WAITING = ("PENDING", "THROTTLED")


def ratio_of(task: ImageTask, spec: RunwayModel) -> str:
    """The `ratio` to send: the size asked for, its aspect ratio's, or the model's default."""
    if task.size is not None:
        return f"{task.size[0]}:{task.size[1]}"
    if task.aspect_ratio is not None:
        ratio = spec.ratio_for(task.aspect_ratio)
        if ratio is not None:
            return ratio
    return spec.default_ratio


def to_vendor(task: ImageTask, spec: RunwayModel) -> dict[str, Any]:
    """The body of one submission making `task.n` images (validation left only what the
    model honours)."""
    body: dict[str, Any] = {
        "model": spec.id,
        "promptText": task.prompt,
        "ratio": ratio_of(task, spec),
    }
    if task.seed is not None:
        body["seed"] = task.seed
    if spec.output_count:
        body["outputCount"] = task.n
    optional = {"quality": task.quality, "background": task.background}
    body.update({name: value for name, value in optional.items() if value is not None})
    if task.output_format is not None:
        body["outputFormat"] = task.output_format
    params = task.params
    if "publicFigureThreshold" in params:
        body["contentModeration"] = {"publicFigureThreshold": params["publicFigureThreshold"]}
    if "grounding" in params:
        body["grounding"] = params["grounding"]
    if task.images:
        tags = params.get("reference_tags") or []
        subjects = params.get("reference_subjects") or []
        references = []
        for index, image in enumerate(task.images):
            reference: dict[str, Any] = {"uri": data_uri(image)}
            if index < len(tags):
                reference["tag"] = tags[index]
            if index < len(subjects):
                reference["subject"] = subjects[index]
            references.append(reference)
        body["referenceImages"] = references
    return body


def data_uri(image: InputImage) -> str:
    return f"data:{image.content_type};base64,{pybase64.b64encode(image.data).decode('ascii')}"


def parse_submit(payload: Any, provider: str) -> Submitted:
    """The task id of a 2xx submission answer."""
    task_id = payload.get("id") if isinstance(payload, dict) else None
    if not isinstance(task_id, str) or not task_id:
        raise UpstreamError(f"{provider} accepted the task without an id", provider=provider)
    return Submitted(task_id)


def parse_task(payload: Any, provider: str, secrets: list[str]) -> PollOutcome:
    """A task answer as an outcome (module docstring); raises for a task that ended badly."""
    if not isinstance(payload, dict):
        raise UpstreamError(f"{provider} answered a malformed task", provider=provider)
    status = payload.get("status")
    if status in WAITING:
        return Pending(status=status)
    if status == "RUNNING":
        progress = payload.get("progress")
        if isinstance(progress, int | float) and not isinstance(progress, bool):
            return Pending(progress=min(1.0, max(0.0, float(progress))), status=status)
        return Pending(status=status)
    if status == "SUCCEEDED":
        output = payload.get("output")
        if not isinstance(output, list) or not output:
            raise UpstreamError(f"{provider} task succeeded without an output", provider=provider)
        return Finished(tuple(Output.of(url, provider) for url in output))
    if status == "FAILED":
        raise failed(payload, provider, secrets)
    if status == "CANCELLED":
        raise UpstreamError(
            f"{provider} task was cancelled or deleted before it finished",
            provider=provider,
            code="generation_failed",
        )
    raise UpstreamError(f"{provider} answered an unknown task status", provider=provider)


def failed(payload: dict[str, Any], provider: str, secrets: list[str]) -> Exception:
    """The error of a FAILED task: a `failureCode` with a `SAFETY` part (`SAFETY.INPUT.*`,
    `SAFETY.OUTPUT.*`, `INPUT_PREPROCESSING.SAFETY.TEXT`: docs.dev.runwayml.com
    api-details/task-failures, "should not retry") is content moderation, anything else
    (`INTERNAL.BAD_OUTPUT.*`, `INPUT_PREPROCESSING.INTERNAL`, ...) a failed generation (its code
    and Runway's reason in the message, redacted)."""
    code = payload.get("failureCode")
    code = code if isinstance(code, str) and len(code) <= 64 else None
    reason = provider_message(payload.get("failure"), secrets)
    said = f" ({code})" if code else ""
    parts = code.upper().split(".") if code is not None else []
    if "SAFETY" in parts:
        where = "the output" if "OUTPUT" in parts else "an input"
        return ContentPolicyViolation(
            f"{provider}'s content moderation rejected {where}{said}",
            code="content_policy_violation",
            provider=provider,
        )
    return UpstreamError(
        f"{provider} task failed{said}" + (f": {reason}" if reason else ""),
        provider=provider,
        code="generation_failed",
    )
