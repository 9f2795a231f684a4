"""Call journals: what a paid upstream call has reached, kept so a restart never pays twice.

A job's worker hands each upstream call a `CallJournal` backed by the job's row. Before a paid
submission an adapter records `{"phase": "submitting"}`; once the provider has accepted it, the
provider's handle (BFL: task id and polling URL). After a crash, the resumed call finds that
state: with a handle it only polls; with "submitting" and no handle the outcome is unknown, so
it fails instead of submitting again. Requests served synchronously use `NO_JOURNAL`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from ..errors import GatewayError, UpstreamError

T = TypeVar("T")
Saver = Callable[[dict[str, Any] | None], Awaitable[None]]
SUBMITTING = "submitting"


class CallJournal:
    def __init__(self, state: dict[str, Any] | None = None, saver: Saver | None = None) -> None:
        self.state = state
        self._saver = saver

    async def save(self, state: dict[str, Any] | None) -> None:
        self.state = state
        if self._saver is not None:
            await self._saver(state)

    async def progress(self, value: float) -> None:
        """Best-effort progress (0..1) for watchers; the default journal ignores it."""


class _NoJournal(CallJournal):
    """For synchronous requests: nothing to resume, so nothing is kept (it is shared)."""

    async def save(self, state: dict[str, Any] | None) -> None:
        return None


NO_JOURNAL: CallJournal = _NoJournal()


async def submit_once(journal: CallJournal, provider: str, submit: Callable[[], Awaitable[T]]) -> T:
    """Run a paid submission at most once across restarts (see the module docstring)."""
    if journal.state is not None and journal.state.get("phase") == SUBMITTING:
        raise UpstreamError(
            f"{provider} may have accepted this call before the gateway restarted, so it is not "
            "sent again",
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
    """A job's journal across its candidates (primary, fallbacks) and fanned-out calls."""

    resume_from: int  # the candidate index a resumed run starts at (earlier ones failed)

    async def entering(self, index: int) -> None:
        """Persist that candidate `index` is about to be called."""

    def call(self, index: int, part: int) -> CallJournal:
        """The journal of upstream call `part` of candidate `index`."""
