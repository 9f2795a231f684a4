"""What a running job's provider calls report, gathered into one view for the job's watchers,
and when that view is worth a write to the job's row.

Each upstream call of a job (one, or several when `n` images are fanned out) reports through
its journal (`providers/kit/journal.py`, `CallJournal.progress`): a fraction done (0..1, BFL's
`progress`), the provider's own status word (BFL's `Pending`; Replicate's `starting`,
`processing`) and a queue position where the provider gives one. The job shows one view of
them (`JobActivity.view`), stored on its row (`progress` and `activity` columns) and sent on
`/v1/jobs/{id}/events` as `progress` events:

    progress          mean of the calls' fractions (a call that has not reported one counts 0);
                      None while no call has reported any
    provider_status   the status word of the call that is furthest behind (lowest fraction;
                      the first call on a tie), None when none reported one
    queue_position    the largest position among calls that report one: the job waits for
                      its last call (None when none is queued)

(`kit/progress.CallReports` makes that view; a streaming request's events show the same.)

Writes are throttled, since 10,000 concurrent jobs polled every second must not become 10,000
row updates a second: a report is written when it changes `provider_status` or
`queue_position` (rare: a few times per call), otherwise only when `progress` moved by at least
`PROGRESS_STEP` and `interval` seconds passed since this job's last write
(`JOB_PROGRESS_SECONDS`). A job thus writes at most one row a second (at the default) and
about 1 / PROGRESS_STEP times in its life, whatever its poll rate; a report the throttle holds
back is written with the next one that passes (the row's `progress` can lag by up to
`interval`; the job's end writes 1). And all running jobs of a process together write at most
`JOB_PROGRESS_WRITES_PER_SECOND` a second (`WriteBudget`, a token bucket the worker's jobs share):
at a few jobs nothing changes, but 2,000 jobs polled every second or two would otherwise write
about a thousand rows a second, each costing about as much CPU as answering a poll. A report the
budget holds back is written with a later one, like one the job's own throttle held back.

Partial images (a streaming model's, `JobJournal.partial_image`) are not throttled: each is put
in the image store and its reference (`image_id`, `image_index`, `partial_image_index`, the
event's fields) appended to `activity.partials` with an immediate row write; the events route
reads the row, then the image, and sends it (`JobService.partial_image`). Why the store and the
row rather than a Redis pub/sub channel: the event stream of a job may be served by any gateway
instance, also without Redis (SQLite, one process); a watcher that connects, or reconnects,
after a partial arrived still gets it (a pub/sub message reaches only who listens at that
moment); and the hand-off costs about the same (`bench/handoff.py`, figures in
bench/RESULTS.md: a few milliseconds either way for a 1 MB image). What it costs is latency:
a watcher sees a partial up to `SSE_POLL_SECONDS` after it arrived, small against the seconds
between two partial images of a generation; a watcher that sees the job ended sends the
partials it has not sent before the result, so those of the last poll interval are not lost.
A run that ends the job therefore leaves its partials to the image store's retention
(`IMAGE_RETENTION_HOURS`, like the result); a run that does not (put back, handed to another
worker, whose run starts a list of its own) deletes them (`JobJournal.forget_partials`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from image_gateway.providers.kit.progress import CallReports, Progress

PROGRESS_STEP = 0.01  # the least change of the job's fraction worth a write


@dataclass(frozen=True, slots=True)
class ActivityView:
    progress: float | None
    provider_status: str | None
    queue_position: int | None

    def detail(self) -> dict[str, Any]:
        """What the row's `activity` column keeps besides `progress`."""
        return {"provider_status": self.provider_status, "queue_position": self.queue_position}


class WriteBudget:
    """At most `per_second` progress writes a second, on average, across the jobs sharing it
    (a token bucket holding up to one second's worth)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self._clock = clock
        self._tokens = per_second
        self._at = clock()

    def take(self) -> bool:
        """Spend one write if the budget has one now."""
        now = self._clock()
        self._tokens = min(self.per_second, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class JobActivity:
    """The reports of one run of a job (its current candidate's calls), and the throttle."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        budget: WriteBudget | None = None,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._budget = budget  # shared by the process's running jobs (module docstring)
        self._calls = CallReports()
        self._written: ActivityView | None = None
        self._written_at = float("-inf")
        # References to the partial images stored so far (`JobJournal.partial_image`).
        self.partials: list[dict[str, Any]] = []

    def start_call(self, part: int) -> None:
        """A call of the run began: it counts in the mean from now on (as 0 until it reports)."""
        self._calls.start(part)

    def restart(self) -> None:
        """A new candidate (a fallback) runs: its calls start from nothing."""
        self._calls.clear()

    def report(
        self,
        part: int,
        progress: float | None = None,
        *,
        status: str | None = None,
        queue_position: int | None = None,
    ) -> ActivityView | None:
        """Record a call's report; the view to write now, or None when the throttle or the
        budget holds it (or nothing changed). A field left None keeps what the call said
        before, except `queue_position`, which a call leaves by reporting progress or another
        status."""
        self._calls.report(part, Progress(progress, status, queue_position))
        view = self.view()
        if not self._due(view) or (self._budget is not None and not self._budget.take()):
            return None
        self._written, self._written_at = view, self._clock()
        return view

    def written(self) -> ActivityView:
        """The view as it is now, to be written whatever the throttle says (a partial image
        arrived): it counts as the last write."""
        view = self.view()
        self._written, self._written_at = view, self._clock()
        return view

    def row(self, view: ActivityView) -> dict[str, Any]:
        """The row's `activity` column for `view`: its detail, and the partial images'
        references when there are any."""
        detail = view.detail()
        return {**detail, "partials": list(self.partials)} if self.partials else detail

    def view(self) -> ActivityView:
        seen = self._calls.view()
        return ActivityView(seen.fraction, seen.status, seen.queue_position)

    def _due(self, view: ActivityView) -> bool:
        last = self._written
        if last is None:
            return view != ActivityView(None, None, None)
        if (view.provider_status, view.queue_position) != (
            last.provider_status,
            last.queue_position,
        ):
            return True
        if view.progress is None or view.progress == last.progress:
            return False
        moved = last.progress is None or abs(view.progress - last.progress) >= PROGRESS_STEP
        return moved and self._clock() - self._written_at >= self.interval
