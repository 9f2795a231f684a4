"""What a provider reports while one of its calls runs: `Progress` (how far, in the provider's
words) and `PartialImage` (a preview of an image being drawn). An adapter never sends them to
anyone itself: it hands them to the call's journal (`CallJournal.progress`,
`CallJournal.partial_image`, `kit/journal.py`), whose owner decides who watches — a job's
events (`jobs/worker.py`), a streaming client (`stream: true`), or nobody (the default).

Sources: BFL's poll answer `{"status": "Pending", "progress": 0.4}` (shared/providers/
REFERENCE.md §2); fal's `{"status": "IN_QUEUE", "queue_position": 2}` (REFERENCE §3.4);
OpenAI's `image_generation.partial_image` / `image_edit.partial_image` events (openai-python
`types/image_gen_partial_image_event.py`, `image_edit_partial_image_event.py`): `b64_json`,
`partial_image_index`, `size`, `quality`, `background`, `output_format`, `created_at`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Progress:
    """One report of a running call; every field optional (None: the provider did not say).

    `fraction`: done, 0..1 (BFL's `progress`). `status`: the provider's own status word
    (BFL `Pending`, fal `IN_QUEUE`, Replicate `starting`). `queue_position`: the provider's
    position in its queue (fal), None once drawing."""

    fraction: float | None = None
    status: str | None = None
    queue_position: int | None = None

    @classmethod
    def of(cls, value: float | Progress) -> Progress:
        """A report from what `CallJournal.progress` was given: a bare fraction (the older
        form, still accepted) or a `Progress`; a fraction is clamped to 0..1."""
        report = value if isinstance(value, Progress) else cls(fraction=float(value))
        if report.fraction is not None and not 0.0 <= report.fraction <= 1.0:
            return cls(min(1.0, max(0.0, report.fraction)), report.status, report.queue_position)
        return report


@dataclass(frozen=True, slots=True)
class PartialImage:
    """A preview of one image of a request, as the provider streamed it.

    `image_index`: which image of the request (0-based, across a fanned-out request's calls:
    the call's `CallJournal.first_image` plus the image's place in that call's answer).
    `partial_image_index`: the provider's index of this preview for that image (0-based).
    `b64_json`: the preview's base64, as the provider sent it (never decoded here). The rest is
    what the provider said about it, as it said it (OpenAI: `size` "1024x1024", `quality`
    "low|medium|high|auto", `background` "transparent|opaque|auto", `output_format`
    "png|jpeg|webp", `created_at` Unix seconds), None where it did not."""

    image_index: int
    partial_image_index: int
    b64_json: str
    size: str | None = None
    quality: str | None = None
    background: str | None = None
    output_format: str | None = None
    created_at: int | None = None
