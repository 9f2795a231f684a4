"""OpenAI's image stream events, read (pure): what `kit/sync.py` makes of the server-sent events
of a provider that streams (`ModelSpec.streams`), for OpenAI and OpenAI-compatible servers.

Shapes (openai-python `types/image_gen_partial_image_event.py`, `image_gen_completed_event.py`,
`image_edit_*_event.py`, `_streaming.py`; shared/providers/REFERENCE.md §1.7):

    {"type": "image_generation.partial_image" | "image_edit.partial_image",
     "b64_json", "partial_image_index", "size", "quality", "background", "output_format",
     "created_at"}
    {"type": "image_generation.completed" | "image_edit.completed",
     "b64_json", "size", "quality", "background", "output_format", "created_at", "usage"}
    {"error": {"message", "type", "code", "param"}}      (what the SDK raises as APIError)
    data: [DONE]                                          (the end, where a server sends it)

One completed event per image, each after that image's partials; the JSON body the completed
events stand for (`images_body`) is what the provider's `from_vendor` reads for a non-streamed
answer, so every translation after that is shared.
"""

from __future__ import annotations

from typing import Any

from image_gateway.providers.kit.progress import PartialImage

PARTIAL = ".partial_image"
COMPLETED = ".completed"
ECHOED = ("size", "quality", "background", "output_format")


def kind(name: str, payload: dict[str, Any]) -> str:
    """What an event is: `partial`, `completed`, `error` or `other` (its JSON `type`, else
    its SSE event name)."""
    if payload.get("error") is not None or name == "error":
        return "error"
    typed = payload.get("type")
    label = typed if isinstance(typed, str) else name
    if label.endswith(PARTIAL):
        return "partial"
    if label.endswith(COMPLETED):
        return "completed"
    return "other"


def partial_image(payload: dict[str, Any], image_index: int) -> PartialImage | None:
    """A partial event as a `PartialImage` of request image `image_index`; None when it carries
    no base64 or no index (a preview is best effort: skipped, never a failure)."""
    b64, index = payload.get("b64_json"), payload.get("partial_image_index")
    if not isinstance(b64, str) or not b64 or not isinstance(index, int) or isinstance(index, bool):
        return None
    said = {k: payload[k] if isinstance(payload.get(k), str) else None for k in ECHOED}
    created = payload.get("created_at")
    return PartialImage(
        image_index=image_index,
        partial_image_index=index,
        b64_json=b64,
        created_at=created if isinstance(created, int) and not isinstance(created, bool) else None,
        **said,
    )


def images_body(completed: list[dict[str, Any]]) -> dict[str, Any]:
    """The `ImagesResponse` body the completed events stand for: their images in order, the
    first event's `size`/`quality`/`background`/`output_format`, and `usage` summed over the
    events (each is its own image's; none when no event has one)."""
    first = completed[0]
    body: dict[str, Any] = {"data": [{"b64_json": event.get("b64_json")} for event in completed]}
    if isinstance(first.get("created_at"), int):
        body["created"] = first["created_at"]
    body.update({k: first[k] for k in ECHOED if k in first})
    usages = [e["usage"] for e in completed if isinstance(e.get("usage"), dict)]
    if usages:
        body["usage"] = sum_usage(usages)
    return body


def sum_usage(usages: list[dict[str, Any]]) -> dict[str, Any]:
    """Numeric fields summed, one level of nesting (`input_tokens_details`)."""
    total: dict[str, Any] = {}
    for usage in usages:
        for key, value in usage.items():
            if isinstance(value, dict):
                inner = total.setdefault(key, {})
                for k, v in value.items():
                    if isinstance(v, int | float) and not isinstance(v, bool):
                        inner[k] = inner.get(k, 0) + v
            elif isinstance(value, int | float) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    return total


def error_of(payload: dict[str, Any]) -> dict[str, Any]:
    """An error event's `{"message", "code", ...}` (OpenAI's `error` object, or the event
    itself when it is flat, as the Responses API's `{"type": "error", "message"}`)."""
    error = payload.get("error")
    return error if isinstance(error, dict) else payload
