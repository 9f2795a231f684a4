"""Running a request's candidates: deadline, circuit breakers, concurrency slots, retries,
fallbacks — the one place upstream calls are repeated or redirected.

For each candidate in order (the primary, then fallbacks):
  skip it when its provider has no key or its circuit is open;
  otherwise fan `n` out into upstream calls, each of which takes a concurrency slot, runs under
  the request deadline, and is retried by the pure policy (`policy.decide`) within the retry
  budget (Envoy's: retries in flight ≤ max(RETRY_BUDGET_MIN, RETRY_BUDGET_RATIO × requests in
  flight));
  a caller error (invalid input, moderation) ends the request at once — never a fallback;
  any other failure moves on to the next candidate.
The deadline covers everything: queue waits, every try, every backoff.

A call cancelled for good after it was sent (a departed client's call stopped at shutdown, a
job canceled while running) is an unknown outcome too (`_stopped`).

When the request fails after any of its calls may have been charged — an unknown outcome
(`billed_unknown`), or a fanned-out sibling that succeeded — the failure it answers with is
marked `billed_unknown` too, whichever call failed last: the client is told not to send it again
(`x-should-retry: false`, see `errors.py`).

Once the run's journal is `closed` (a synchronous client left, `providers/journal.py`), nothing
new is sent: no retry, no fallback; calls already accepted finish, and a fanned-out request
keeps the images of those that succeeded.
Once it is `relayed` (a streaming client received a partial image of the run: a picture a
second try would contradict), the run is not redone either: no retry, no fallback; its
failure is the client's. Progress reports never make it so (api/streaming.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from image_gateway.errors import (
    GatewayError,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderUnavailable,
    UpstreamTimeout,
)
from image_gateway.providers.kit.base import Provider
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.image_events import sum_usage
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal, RunJournal
from image_gateway.providers.kit.output import check_images
from image_gateway.resilience.breaker import Breakers, CircuitBreaker
from image_gateway.resilience.limiter import Limits, SharedSlots
from image_gateway.resilience.policy import RetryPolicy, decide
from image_gateway.schemas import Charge, ImageTask, ProviderResult
from image_gateway.upstream.retry_after import retry_after_header

if TYPE_CHECKING:
    from image_gateway.observability.metrics import Metrics
    from image_gateway.settings import Settings

log = logging.getLogger("image_gateway.resilience")


@dataclass(slots=True)
class Candidate:
    provider: Provider
    spec: ModelSpec
    task: ImageTask

    @property
    def label(self) -> str:
        return f"{self.provider.name}/{self.spec.id}"


@dataclass(slots=True)
class Spent:
    """An upstream call that cost, or may have cost, money without its images reaching the
    client: a fanned-out call whose sibling failed (`result`), a failed call the provider
    charged for anyway (`result`: `GatewayError.billed`), or a call whose outcome is unknown
    (`result` None: `ProviderError.billed_unknown`)."""

    index: int  # the candidate's position in the candidate list
    candidate: Candidate
    task: ImageTask  # the call's own task (its part of `n`)
    result: ProviderResult | None
    error_code: str | None = None


@dataclass(slots=True)
class Trace:
    """What happened to one request, for the response, the ledger, metrics and logs."""

    request_id: str | None = None
    calls: int = 0  # upstream calls made: fan-out, retries and fallbacks included
    tried: Candidate | None = None  # the candidate that served, or the last one tried
    index: int = 0  # its position in the candidate list (0 = the primary)
    journal: RunJournal | None = None  # a job's journal: resumable, never pays twice
    charged: bool = False  # a call succeeded or may have been paid (an unknown outcome)
    spent: list[Spent] = field(default_factory=list)  # for the ledger (`billing/accounting.py`)


class RetryBudget:
    """Envoy's retry budget: retries in flight are a bounded share of requests in flight."""

    def __init__(self, ratio: float, minimum: int) -> None:
        self.ratio = ratio
        self.minimum = minimum
        self.active = 0  # requests in flight through the runner
        self.retrying = 0

    def allow(self) -> bool:
        return self.retrying < max(self.minimum, self.ratio * self.active)


class Resilience:
    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
        shared_slots: SharedSlots | None = None,
    ) -> None:
        self.metrics = metrics
        self.deadline_seconds = settings.request_deadline_seconds
        self.policy = RetryPolicy(
            max_attempts=settings.retry_max_attempts,
            base=settings.retry_base_seconds,
            max_backoff=settings.retry_max_backoff_seconds,
            max_wait=settings.retry_max_wait_seconds,
        )
        self.breakers = Breakers(
            settings.circuit_failure_threshold,
            settings.circuit_cooldown_seconds,
            clock,
            listener=self._circuit_changed,
        )
        self.limits = Limits(
            settings.provider_concurrency, settings.provider_queue_max, shared_slots
        )
        self.budget = RetryBudget(settings.retry_budget_ratio, settings.retry_budget_min)
        self.sleep = sleep  # injectable: tests record the waits instead of sleeping
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security

    async def run(self, candidates: list[Candidate], trace: Trace) -> ProviderResult:
        """The first candidate's result that succeeds; raises the most telling failure."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline_seconds
        failure: ProviderError | None = None  # from a candidate that was actually called
        skipped: ProviderError | None = None  # from a candidate that was not
        self.budget.active += 1
        try:
            first = trace.journal.resume_from if trace.journal is not None else 0
            for index, candidate in enumerate(candidates):
                if index < first:
                    continue  # failed before a restart: a resumed job goes on from where it was
                name = candidate.provider.name
                if index > first:
                    if _closed(trace) or _relayed(trace):
                        break  # its client left, or saw this run's events: no fallback
                    self._fallback(candidates[index - 1], candidate, failure or skipped, trace)
                if not candidate.provider.configured:
                    skipped = skipped or candidate.provider.not_configured()
                    self._skipped(candidate, "provider_not_configured", trace)
                    continue
                breaker = self.breakers.get(name)
                permit = breaker.allow()
                if permit is None:
                    skipped = skipped or _circuit_open(name, breaker)
                    self._skipped(candidate, "circuit_open", trace)
                    continue
                trace.tried, trace.index = candidate, index
                if trace.journal is not None:
                    trace.journal.target = (name, candidate.spec.id)
                    await trace.journal.entering(index)
                try:
                    return await self._candidate(candidate, deadline, breaker, trace)
                except ProviderError as exc:
                    failure = exc
                    if loop.time() >= deadline:
                        break
                finally:
                    breaker.finish(permit)
            if failure is not None and trace.charged:
                failure.after_acceptance()
            raise failure or skipped or ProviderUnavailable("no provider can serve this request")
        finally:
            self.budget.active -= 1

    async def _candidate(
        self, candidate: Candidate, deadline: float, breaker: CircuitBreaker, trace: Trace
    ) -> ProviderResult:
        """All `n` images from one candidate: upstream calls of at most `images_per_call`,
        concurrently, with consecutive seeds so the images differ but stay reproducible."""
        task, per_call = candidate.task, max(1, candidate.spec.images_per_call)
        if task.n <= per_call:
            return await self._call(candidate, task, deadline, breaker, trace, 0)
        parts = []
        for offset in range(0, task.n, per_call):
            seed = None if task.seed is None else (task.seed + offset) % 2**32
            parts.append(replace(task, n=min(per_call, task.n - offset), seed=seed))
        outcomes = await asyncio.gather(
            *(
                self._call(candidate, part, deadline, breaker, trace, i, i * per_call)
                for i, part in enumerate(parts)
            ),
            return_exceptions=True,
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        results = [o for o in outcomes if isinstance(o, ProviderResult)]
        if failures and not (results and _closed(trace)):  # a departed client's: keep the paid
            trace.spent += [
                Spent(trace.index, candidate, part, outcome)
                for part, outcome in zip(parts, outcomes, strict=True)
                if isinstance(outcome, ProviderResult)
            ]
            # The caller's own error (moderation, invalid input) wins: it must end the request
            # rather than let a sibling's provider failure lead to a fallback.
            raise next((f for f in failures if not isinstance(f, ProviderError)), failures[0])
        return ProviderResult(
            images=[img for r in results for img in r.images],
            usage=merge_usage([r.usage for r in results]),
            charge=merge_charges([r.charge for r in results]),
            extra=_merged_extra([r.extra for r in results]),
            withheld_billed=sum(r.withheld_billed for r in results),
        )

    async def _call(
        self,
        candidate: Candidate,
        task: ImageTask,
        deadline: float,
        breaker: CircuitBreaker,
        trace: Trace,
        part: int,
        first_image: int = 0,
    ) -> ProviderResult:
        """One upstream call, retried while the policy, the budget and the deadline allow;
        `first_image`: the request's index of its first image (a fanned-out part's)."""
        provider, spec = candidate.provider, candidate.spec
        journal = NO_JOURNAL
        if trace.journal is not None:
            journal = trace.journal.call(trace.index, part)
            journal.first_image = first_image  # what its partial images are numbered from
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            is_retry = attempt > 1
            try:
                async with self.limits.slot(
                    provider.name, spec.id, deadline, self.metrics.queue_waited
                ):
                    trace.calls += 1
                    started = time.perf_counter()
                    try:
                        result = await _generate(provider, task, spec, deadline, journal)
                    except GatewayError as exc:
                        self.metrics.provider_call(provider.name, spec.id, exc.code, started)
                        if exc.billed is not None:  # a failure the provider charged for
                            spent = Spent(trace.index, candidate, task, exc.billed, exc.code)
                            trace.spent.append(spent)
                            trace.charged = True
                        raise
                    except asyncio.CancelledError:
                        _stopped(trace, candidate, task, journal)
                        raise
                    self.metrics.provider_call(provider.name, spec.id, "ok", started)
                    breaker.record_success()
                    trace.charged = True
                    return result
            except ProviderError as exc:
                error = exc
                trace.charged = trace.charged or exc.billed_unknown
            finally:
                if is_retry:
                    self.budget.retrying -= 1
            if error.outage:
                breaker.record_failure()
            if isinstance(error, ProviderQuotaExhausted):
                self._quota_alert(candidate, trace)
            decision = decide(self.policy, error, attempt, deadline - loop.time(), self.rng)
            if decision.retry and not self.budget.allow():
                decision = replace(decision, retry=False, reason="retry_budget")
            if decision.retry and _closed(trace):
                decision = replace(decision, retry=False, reason="client_closed")
            if decision.retry and _relayed(trace):
                decision = replace(decision, retry=False, reason="relayed")
            if not decision.retry:
                if error.billed_unknown:
                    trace.spent.append(Spent(trace.index, candidate, task, None, error.code))
                raise _final(error, decision.advise_after)
            self.budget.retrying += 1
            self.metrics.retried(provider.name, decision.reason)
            log.info(
                "upstream retry",
                extra={
                    "fields": {
                        "request_id": trace.request_id,
                        "provider": provider.name,
                        "model": spec.id,
                        "attempt": attempt + 1,
                        "delay_ms": round(decision.delay * 1000),
                        "error_code": error.code,
                    }
                },
            )
            try:
                await self.sleep(decision.delay)
            except BaseException:
                self.budget.retrying -= 1
                raise

    def _fallback(
        self, previous: Candidate, candidate: Candidate, why: ProviderError | None, trace: Trace
    ) -> None:
        code = why.code if why is not None else "unknown"
        self.metrics.fell_back(previous.provider.name, candidate.provider.name, code or "")
        log.warning(
            "fallback",
            extra={
                "fields": {
                    "request_id": trace.request_id,
                    "from": previous.label,
                    "to": candidate.label,
                    "reason": code,
                }
            },
        )

    def _skipped(self, candidate: Candidate, why: str, trace: Trace) -> None:
        log.info(
            "candidate skipped",
            extra={
                "fields": {
                    "request_id": trace.request_id,
                    "provider": candidate.provider.name,
                    "model": candidate.spec.id,
                    "reason": why,
                }
            },
        )

    def _quota_alert(self, candidate: Candidate, trace: Trace) -> None:
        """The account is out of credits: every later request fails too. Operators alert on
        this log line (level error) or on `igw_provider_quota_exhausted_total`."""
        self.metrics.quota_exhausted(candidate.provider.name)
        log.error(
            "provider quota exhausted",
            extra={"fields": {"request_id": trace.request_id, "provider": candidate.provider.name}},
        )

    def _circuit_changed(self, provider: str, old: str, new: str) -> None:
        self.metrics.circuit_moved(provider, new)
        level = logging.WARNING if new != "closed" else logging.INFO
        log.log(level, "circuit " + new, extra={"fields": {"provider": provider, "from": old}})


def _closed(trace: Trace) -> bool:
    return trace.journal is not None and trace.journal.closed


def _relayed(trace: Trace) -> bool:
    return trace.journal is not None and trace.journal.relayed


def _stopped(trace: Trace, candidate: Candidate, task: ImageTask, journal: CallJournal) -> None:
    """A call cancelled for good (its run's journal says why: `stopped`) after it was sent or
    accepted (its journal has a state) may still be charged: the ledger keeps it as an unknown
    outcome at its estimated cost. A run stopped without a reason (a worker stopping; the job
    resumes from its journal and settles what the call became) records nothing here."""
    stopped = trace.journal.stopped if trace.journal is not None else None
    if stopped is not None and journal.state is not None:
        trace.spent.append(Spent(trace.index, candidate, task, None, stopped))
        trace.charged = True


async def _generate(
    provider: Provider, task: ImageTask, spec: ModelSpec, deadline: float, journal: CallJournal
) -> ProviderResult:
    """One provider call, under the deadline; its images are checked here, for every provider,
    before anything answers them or stores them."""
    try:
        async with asyncio.timeout_at(deadline):
            result = await provider.generate(task, spec, journal)
    except TimeoutError:
        raise _deadline_error(provider.name) from None
    check_images(result.images, provider.name)
    return result


def _circuit_open(provider: str, breaker: CircuitBreaker) -> ProviderUnavailable:
    wait = breaker.retry_after()
    return ProviderUnavailable(
        f"{provider} is failing repeatedly; it is skipped until a probe succeeds",
        code="circuit_open",
        provider=provider,
        retry_after=wait,
        headers=retry_after_header(max(1.0, wait)),
    )


def _deadline_error(provider: str) -> UpstreamTimeout:
    # Not an outage: a short deadline says nothing about the provider's health. The call may
    # have been accepted upstream, so it is never re-sent.
    return UpstreamTimeout(
        f"{provider} did not finish within the request deadline (REQUEST_DEADLINE_SECONDS)",
        code="deadline_exceeded",
        provider=provider,
        billed_unknown=True,
        outage=False,
    )


def _final(error: ProviderError, advise_after: float | None) -> ProviderError:
    """The error to surface: a rate limit or unavailability always carries a Retry-After —
    the gateway's own value (bounded), never a pass-through of the provider's header."""
    if isinstance(error, ProviderRateLimited | ProviderUnavailable):
        wait = advise_after if advise_after is not None else error.retry_after
        error.headers = retry_after_header(wait if wait is not None else 1.0)
    return error


def merge_usage(usages: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Sum numeric usage fields (one level of nesting) across fanned-out calls."""
    present = [u for u in usages if u]
    return sum_usage(present) if present else None


def merge_charges(charges: list[Charge | None]) -> Charge | None:
    """The provider's own figures summed across fanned-out calls; None unless every call
    reported one (a partial sum would understate the cost)."""
    if not charges or any(c is None for c in charges):
        return None
    known = [c for c in charges if c is not None]
    credits = [c.credits for c in known]
    total_credits = None if any(c is None for c in credits) else sum(c for c in credits if c)
    return Charge(sum(c.usd for c in known), credits=total_credits)


def _merged_extra(extras: list[dict[str, Any]]) -> dict[str, Any]:
    """The first part's provider echoes, with `images_filtered` (`schemas.ImagesResponse`)
    summed over the fanned-out parts."""
    merged = dict(extras[0])
    filtered = sum(int(e.get("images_filtered", 0)) for e in extras)
    if filtered:
        merged["images_filtered"] = filtered
    return merged
