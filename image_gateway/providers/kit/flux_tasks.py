"""Black Forest Labs' task protocol, as BFL serves it and as others re-host it (Fireworks'
FLUX.1 Kontext): a submission answers a task id, a status answer says how the task stands. Pure
readings into the kit's outcomes (`kit/tasks.py`), the provider named in every error.

Submission (BFL's OpenAPI; REFERENCE-MORE §8 for Fireworks): `{id, polling_url?, cost?}`
(`cost` in the provider's credits); Fireworks answers `{request_id}` (vercel/ai
`fireworks-image-api.ts`) where REFERENCE-MORE says `{id}`: the adapter names the fields to
read, in order. Status: `{status, result: {sample, seed}, progress, details}`, `status` one of
`Pending`, `Ready`, `Request Moderated` (the input), `Content Moderated` (the output), `Error`
(and `Failed`, in BFL's own samples), `Task not found`. Moderation is an HTTP 200 with that
status.
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import ContentPolicyViolation, UpstreamError
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.tasks import (
    NOT_FOUND,
    Finished,
    Output,
    Pending,
    PollOutcome,
    Submitted,
)

MODERATED = {"Request Moderated": "input", "Content Moderated": "generated image"}
FAILED = ("Error", "Failed")


def parse_submit(payload: Any, provider: str, id_fields: tuple[str, ...] = ("id",)) -> Submitted:
    """The task in an accepted submission's JSON (the first of `id_fields` it carries);
    `UpstreamError` when it names none."""
    fields = payload if isinstance(payload, dict) else {}
    task_id = next((fields[name] for name in id_fields if fields.get(name)), None)
    if not isinstance(task_id, str) or not task_id:
        raise UpstreamError(
            f"{provider} accepted the request but returned no task id", provider=provider
        )
    polling_url, cost = fields.get("polling_url"), fields.get("cost")
    return Submitted(
        task_id,
        polling_url=polling_url if isinstance(polling_url, str) else None,
        credits=float(cost) if isinstance(cost, int | float) else None,
    )


def parse_poll(payload: Any, task_id: str, provider: str, secrets: list[str]) -> PollOutcome:
    """A status answer's JSON as an outcome; raises for a task that ended badly."""
    status = payload.get("status") if isinstance(payload, dict) else None
    if status == "Ready":
        result = payload.get("result")
        if not isinstance(result, dict):
            raise UpstreamError(f"{provider} reported Ready without a result", provider=provider)
        seed = result.get("seed")
        sample = Output.of(result.get("sample"), provider, seed if isinstance(seed, int) else None)
        return Finished((sample,))
    if status in MODERATED:
        raise ContentPolicyViolation(
            f"the provider's safety system rejected the {MODERATED[status]} ({status})",
            provider=provider,
        )
    if status in FAILED:
        detail = provider_message(payload.get("details") or payload.get("error"), secrets)
        raise UpstreamError(
            f"{provider} task {task_id} failed" + (f": {detail}" if detail else ""),
            provider=provider,
            code="generation_failed",
        )
    if status == "Task not found":
        return NOT_FOUND
    # Pending, and any status this adapter does not know yet: its word and fraction reported.
    word = status if isinstance(status, str) and 0 < len(status) <= 64 else None
    progress = payload.get("progress") if isinstance(payload, dict) else None
    if isinstance(progress, int | float) and 0 <= progress <= 1:
        return Pending(progress=float(progress), status=word)
    return Pending(status=word)
