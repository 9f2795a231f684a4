"""Call journals: what a paid upstream call has reached, kept so a restart never pays twice,
and so a client's departure stops only what has not been paid for.

A job's worker hands each upstream call a `CallJournal` backed by the job's row. Before a paid
submission an adapter records `{"phase": "submitting"}`; once the provider has accepted it, the
provider's handle (BFL: task id and polling URL). After a crash, the resumed call finds that
state: with a handle it only polls; with "submitting" and no handle the outcome is unknown, so
it fails instead of submitting again — and so does a second try of a call within one run, whose
refusal says so rather than blaming a restart (`CallJournal.inherited`).

A synchronous request keeps the same states in memory (`RequestJournal`): when its client
leaves, a request none of whose calls reached "submitting" is cancelled (nothing was sent),
and one with such a call is left to finish in the background (`jobs/departed.py`) while the
journal is `closed`: no new paid submission starts for it (`submit_once` refuses with
`ClientClosedRequest`), and the runner neither retries nor falls back. `NO_JOURNAL` keeps
nothing (direct calls).

A journal is also the channel from a running call to whoever watches it. An adapter reports
what its provider says as it says it (`kit/progress.py`), best effort, never waiting on the
watcher: `progress(value)` (a fraction 0..1, or a `Progress` with the provider's status word
and queue position; kit/polling.py reports each poll that changes it) and
`partial_image(event)` (a preview of image `event.image_index` of the request, from a
streaming provider, kit/sync.py). The default journal ignores both. The contract for a
journal that listens (a job's `JobJournal` in jobs/worker.py, a streaming request's in
generation/streaming.py):
- both are awaited inside the provider call, so they must return at once (queue or store
  the report; never wait on a client), and must not raise: a watcher's trouble is never the
  call's;
- `progress` may repeat a report; a field left None in a `Progress` means "not said this
  time", not "cleared";
- `partial_image` events of one image come in `partial_image_index` order; a retried call
  starts its images' previews again from 0 (a run that must not be redone once a client saw
  an event says so with `RunJournal.relayed`);
- `first_image` is the request's index of the call's first image (a fanned-out request's
  runner sets it per call; 0 otherwise), so that `PartialImage.image_index` is the request's.

A call cancelled after acceptance is either stopped for good (a deadline, a canceled job, a
departed client's call at shutdown), when a provider that can cancel its task is asked to
(`kit/polling.py`), or only paused (a job whose worker stopped: a later run polls the same
task): `CallJournal.resumable` says which.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from image_gateway.errors import ClientClosedRequest, GatewayError, UpstreamError
from image_gateway.providers.kit.progress import CallReports, PartialImage, Progress

T = TypeVar("T")
Saver = Callable[[dict[str, Any] | None], Awaitable[None]]
SUBMITTING = "submitting"


class CallJournal:
    def __init__(
        self,
        state: dict[str, Any] | None = None,
        saver: Saver | None = None,
        *,
        inherited: bool | None = None,
        resumable: Callable[[], bool] | None = None,
    ) -> None:
        self.state = state
        self._saver = saver
        self._resumable = resumable
        # Whether `state` was left by an earlier run of the job (the gateway restarted, or its
        # worker stopped), not written by this one; by default, whether a state was given.
        self.inherited = state is not None if inherited is None else inherited

    async def save(self, state: dict[str, Any] | None) -> None:
        self.state = state
        self.inherited = False
        if self._saver is not None:
            await self._saver(state)

    # The request's index of this call's first image (a fanned-out request's runner sets it).
    first_image = 0

    @property
    def watched(self) -> bool:
        """Whether someone reads this call's reports now (a job's watchers, a stream's
        client): an adapter may then ask its provider for them sooner (Replicate polls at
        once instead of a held answer). False for the default journal."""
        return False

    async def progress(self, value: float | Progress) -> None:
        """Best-effort progress for watchers: a fraction 0..1 or a `Progress` (read both with
        `Progress.of`); the default journal ignores it (module docstring: the contract)."""

    async def partial_image(self, event: PartialImage) -> None:
        """Best-effort preview of an image being drawn, for watchers; the default journal
        ignores it (module docstring: the contract)."""

    @property
    def closed(self) -> bool:
        """True once no new paid submission may start (its requester left)."""
        return False

    @property
    def resumable(self) -> bool:
        """Whether a later run may resume this call from its state if it is cancelled now
        (a job not stopped for good): its provider task must then be left running. Default:
        whether the state is kept anywhere (a saver)."""
        return self._resumable() if self._resumable is not None else self._saver is not None


class _NoJournal(CallJournal):
    """For synchronous requests: nothing to resume, so nothing is kept (it is shared)."""

    async def save(self, state: dict[str, Any] | None) -> None:
        return None


NO_JOURNAL: CallJournal = _NoJournal()


async def submit_once(journal: CallJournal, provider: str, submit: Callable[[], Awaitable[T]]) -> T:
    """Run a paid submission at most once across restarts, and never once its requester left
    (see the module docstring)."""
    if journal.closed:
        raise ClientClosedRequest(
            f"the client left before this {provider} call was sent; it was not sent",
            provider=provider,
        )
    if journal.state is not None and journal.state.get("phase") == SUBMITTING:
        if journal.inherited:
            when = "before this job was resumed (the gateway restarted or its worker stopped)"
        else:
            when = "on an earlier try in this request"
        raise UpstreamError(
            f"{provider} may have accepted this call {when}, so it is not sent again",
            code="interrupted",
            provider=provider,
            billed_unknown=True,
            outage=False,
        )
    if journal is NO_JOURNAL:  # a synchronous request: nothing is kept
        return await submit()
    await journal.save({"phase": SUBMITTING})
    try:
        return await submit()
    except GatewayError as exc:
        if not exc.billed_unknown:
            await journal.save(None)  # refused before acceptance: a later try may submit
        raise


class RunJournal(Protocol):
    """A run's journal across its candidates (primary, fallbacks) and fanned-out calls."""

    resume_from: int  # the candidate index a resumed run starts at (earlier ones failed)
    # Once true, nothing new is sent upstream for this run (no retry, no fallback, no
    # submission of a call still waiting): its requester left.
    closed: bool
    # Once true, the run is not redone (no retry, no fallback): a partial image of it reached
    # its client, a picture a second try would contradict. Progress never sets it: a second
    # try only counts again from 0.
    relayed: bool
    # Set by whoever cancels the run: the error code its ledger row records.
    stopped: str | None
    # The (provider, model) the run is for: its primary once planned, then the candidate being
    # called (the dispatcher and the runner set it); what a departed client's access line names.
    target: tuple[str, str] | None

    async def entering(self, index: int) -> None:
        """Persist that candidate `index` is about to be called."""

    def call(self, index: int, part: int) -> CallJournal:
        """The journal of upstream call `part` of candidate `index`."""


class RequestJournal:
    """The `RunJournal` of a synchronous request: call states in memory (nothing survives the
    process; nothing needs to, the client is waiting), `closed` when the client leaves."""

    resume_from = 0

    def __init__(self) -> None:
        self.closed = False
        self.relayed = False
        self.stopped: str | None = None
        self.target: tuple[str, str] | None = None
        self._calls: dict[tuple[int, int], _RequestCall] = {}

    async def entering(self, index: int) -> None:
        return None

    def call(self, index: int, part: int) -> CallJournal:
        journal = self._calls.get((index, part))
        if journal is None:  # a retry of this call sees what the last try reached
            journal = self._calls[index, part] = self._new_call(part)
        return journal

    def _new_call(self, part: int) -> _RequestCall:
        return _RequestCall(self)

    @property
    def committed(self) -> bool:
        """Has any call been sent (outcome unknown) or accepted: may the provider charge?"""
        return any(call.state is not None for call in self._calls.values())


class _RequestCall(CallJournal):
    def __init__(self, run: RequestJournal) -> None:
        super().__init__()
        self._run = run

    @property
    def closed(self) -> bool:
        return self._run.closed


Report = PartialImage | Progress


class StreamJournal(RequestJournal):
    """The journal of a synchronous request whose client reads events (`stream: true`): what
    its calls report is queued, in order, for the answer to send (`reports`), and the run is
    `relayed` from the first partial image on — the client is about to see a picture, so
    nothing of the run may be redone (progress leaves retries and fallbacks free). Queueing
    never waits (the journal contract); the answer drains the queue.

    Progress is the run's, not a call's: the calls of a fanned-out request (`n` > 1) report
    into one `CallReports`, whose view (their mean fraction, the status of the call furthest
    behind) is queued when it changes, as a job's watchers see it (`jobs/activity.py`); a
    fallback's calls start it over."""

    def __init__(self) -> None:
        super().__init__()
        self.reports: asyncio.Queue[Report] = asyncio.Queue()
        self._watched = True
        self._progress = CallReports()
        self._shown: Progress | None = None
        self._candidate = 0

    async def entering(self, index: int) -> None:
        if index != self._candidate:
            self._candidate = index
            self._progress.clear()

    @property
    def watched(self) -> bool:
        """Its client still reads the events."""
        return self._watched

    def report(self, item: Report) -> None:
        if isinstance(item, PartialImage):
            self.relayed = True
        if self._watched:
            self.reports.put_nowait(item)

    def progress(self, part: int, report: Progress) -> None:
        """Call `part` reported `report`: the run's view is queued when it changed."""
        self._progress.report(part, report)
        view = self._progress.view()
        if view != self._shown:
            self._shown = view
            self.report(view)

    def start(self, part: int) -> None:
        self._progress.start(part)

    def detach(self) -> None:
        """Its client left: what the run reports from now on is dropped, not kept."""
        self._watched = False
        while not self.reports.empty():
            self.reports.get_nowait()

    def _new_call(self, part: int) -> _RequestCall:
        self.start(part)
        return _StreamCall(self, part)


class _StreamCall(_RequestCall):
    def __init__(self, run: StreamJournal, part: int) -> None:
        super().__init__(run)
        self._stream, self._part = run, part

    @property
    def watched(self) -> bool:
        return self._stream.watched

    async def progress(self, value: float | Progress) -> None:
        self._stream.progress(self._part, Progress.of(value))

    async def partial_image(self, event: PartialImage) -> None:
        self._stream.report(event)
