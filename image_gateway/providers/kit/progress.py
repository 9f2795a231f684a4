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

from dataclasses import dataclass, field


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


@dataclass(slots=True)
class _Last:
    """What one call said last (`CallReports`)."""

    fraction: float | None = None
    status: str | None = None
    queue_position: int | None = None


@dataclass(slots=True)
class CallReports:
    """The reports of one run's upstream calls (one, or `n` fanned out), seen as one `Progress`.

    Each call (its `part`) keeps what it said last: a field a report leaves None keeps the
    call's earlier value, except `queue_position`, which a call leaves by reporting a fraction
    or a new status word. `view()`:

        fraction          mean of the calls' fractions (a call that has not reported one counts
                          0); None while no call has reported any
        status            the status word of the call that is furthest behind (lowest fraction;
                          the first call on a tie); None when none reported one
        queue_position    the largest position among queued calls: the run waits for its last

    A job's watchers (`jobs/activity.py`) and a streaming client (`StreamJournal`) both see
    this view, so a fanned-out request shows one progress, not each call's in turn.
    """

    _calls: dict[int, _Last] = field(default_factory=dict)

    def start(self, part: int) -> None:
        """Call `part` began: it counts in the mean from now on (as 0 until it reports)."""
        self._calls.setdefault(part, _Last())

    def clear(self) -> None:
        """A new candidate (a fallback) runs: its calls start from nothing."""
        self._calls.clear()

    def report(self, part: int, report: Progress) -> None:
        call = self._calls.setdefault(part, _Last())
        if report.fraction is not None:
            call.fraction = min(1.0, max(0.0, float(report.fraction)))
        if report.status is not None and report.status != call.status:
            call.status = report.status
            call.queue_position = None  # a new status word: out of the queue unless it says
        if report.queue_position is not None:
            call.queue_position = report.queue_position
        elif report.fraction is not None:
            call.queue_position = None  # it is being drawn: no longer queued

    def view(self) -> Progress:
        calls = list(self._calls.values())
        fractions = [c.fraction for c in calls]
        fraction = None
        if any(f is not None for f in fractions):
            fraction = round(sum(f or 0.0 for f in fractions) / len(fractions), 4)
        with_status = [c for c in calls if c.status is not None]
        behind = min(with_status, key=lambda c: c.fraction or 0.0) if with_status else None
        positions = [c.queue_position for c in calls if c.queue_position is not None]
        return Progress(
            fraction,
            behind.status if behind is not None else None,
            max(positions) if positions else None,
        )
