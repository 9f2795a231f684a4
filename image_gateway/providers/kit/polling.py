"""Submit-and-poll providers: submit once, poll until the task ends, download its result at once.

BFL, fal, Replicate, Runway, DashScope, Luma and Fireworks Kontext all take a generation as a
task: a paid submission answers with a handle (task id, often a status URL, a cancel URL,
sometimes a result URL and a charge), the task is polled until it ends, and its result is one
URL, a list of URLs, or base64. `SubmitAndPollProvider` owns that machinery once; an adapter
gives the hooks (pure translations and the provider's endpoints):

    submit_url(spec), to_vendor(task, spec)         where and what to submit (JSON)
    auth_headers(key), submit_headers()             BFL `x-key`; DashScope's async header
    parse_submit(resp, payload) -> Submitted        the handle in a 2xx answer
    parse_poll(resp, payload, submitted) -> Pending | NotFound | Finished | ResultAt | raise
    parse_result(resp, payload, submitted)          the document at ResultAt's URL (fal)
    poll_url(task_id)                               its own status URL built from the id, if any
    poll_call(url, submitted), cancel_call(...)     other methods and bodies (Fireworks, fal)

What the kit does with them:
- Submission through `journal.submit_once`, then `journal.save(submitted.state())`: a resumed
  job only polls; a 2xx it cannot use is a failure that may have been paid (never re-sent). An
  error answer goes through `Provider.error_from` (the one status table).
- Polls are free: a transport failure, a garbled body, 408/429/5xx is "pending" until the
  deadline (`poll_timeout_seconds`, then `UpstreamTimeout`). The interval starts at
  `poll_initial_seconds` and grows x1.5 up to `poll_max_interval_seconds`; a server's retry
  hint is honoured up to 5 times that. "Not found" (404 or the provider's own status) is
  tolerated `not_found_grace` times (a task not yet visible right after submit).
- The key goes only to trusted origins (`config.base_url` + `config.trusted_hosts`,
  `upstream/origins.TrustedOrigins`): an untrusted status URL is replaced by `poll_url(task_id)`
  when the provider has one, else the call fails; an untrusted result document or image URL is
  an error and is never fetched. Images are downloaded as soon as the task is done (providers'
  URLs expire: BFL 10 min, Replicate 1 h), without the key unless `result_needs_key`.
- What a status says of the task's progress (a fraction, the provider's status word, a queue
  position: `Pending`) goes to `journal.progress` each time it changes.
- Cancelled after acceptance for good — a synchronous request's deadline, a departed client's
  call stopped at shutdown, a canceled job — the provider's task is cancelled too if it has a
  cancel call (best effort, `CANCEL_SECONDS`, never raising over the cancellation; an
  untrusted cancel URL is not called, with a warning naming its origin). A job's
  call a later run may resume (`CallJournal.resumable`: its worker stopped, its lease moved)
  is left running; so, as the generation cannot tell them apart, is a job's at its deadline.
- Every failure after acceptance says the outcome is unknown (`kit/acceptance.py`, the rule
  `kit/sync.py` shares): a `ProviderError` is marked `after_acceptance()` (may have been
  paid); a hook that cannot read an answer (`KeyError`, `TypeError`, ... from `parse_submit`,
  `parse_poll`, `parse_result`, or a `Submitted`/`Output` built from wrong types) becomes
  such an `UpstreamError`, never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from typing_extensions import TypeVar

from image_gateway.errors import UpstreamError, UpstreamTimeout
from image_gateway.fetch import ImageFetcher
from image_gateway.image_format import sniff_image_type
from image_gateway.providers.kit.acceptance import after_acceptance
from image_gateway.providers.kit.base import Provider
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.config import PollingConfig
from image_gateway.providers.kit.cost import CreditPrice
from image_gateway.providers.kit.errors import retry_after_seconds
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal, submit_once
from image_gateway.providers.kit.progress import Progress
from image_gateway.providers.kit.tasks import (
    NOT_FOUND,
    Call,
    Finished,
    NotFound,
    Output,
    Pending,
    PollOutcome,
    ResultAt,
    Submitted,
)
from image_gateway.schemas import Charge, GeneratedImage, ImageTask, ProviderResult
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient, UpstreamResponse
from image_gateway.upstream.origins import TrustedOrigins, origin_text

__all__ = [
    "NOT_FOUND",
    "Call",
    "Finished",
    "NotFound",
    "Output",
    "Pending",
    "PollOutcome",
    "ResultAt",
    "SubmitAndPollProvider",
    "Submitted",
]

log = logging.getLogger("image_gateway.providers.polling")

P = TypeVar("P", bound=PollingConfig, default=PollingConfig)
CANCEL_SECONDS = 3.0  # the longest a cancelled generation waits for its provider's cancel call
HINT_FACTOR = 5  # a server's retry hint is honoured up to this many max intervals
Parser = Callable[[UpstreamResponse, Any, Submitted], PollOutcome]  # parse_poll, parse_result
NO_PROGRESS = Progress()  # a status that says nothing of the task's progress


class SubmitAndPollProvider(Provider[P]):
    """A provider whose generations are tasks (see the module docstring for the hooks)."""

    not_found_grace: ClassVar[int] = 3  # "not found" answers tolerated per task
    result_needs_key: ClassVar[bool] = False  # send the key with image downloads
    credit_price: ClassVar[CreditPrice | None] = None  # what its `Submitted.credits` cost

    def __init__(
        self, settings: Settings, http: UpstreamClient, fetcher: ImageFetcher | None = None
    ) -> None:
        super().__init__(settings, http, fetcher)
        self.origins = TrustedOrigins(self.config.base_url, self.config.trusted_hosts)

    # -- hooks ---------------------------------------------------------------------------

    def submit_headers(self, journal: CallJournal = NO_JOURNAL) -> dict[str, str]:
        """Extra headers of the submission only (`journal.watched`: someone reads the call's
        progress)."""
        return {}

    @abstractmethod
    def submit_url(self, spec: ModelSpec) -> str:
        """Where a task for `spec` is submitted (a POST of `to_vendor`'s JSON)."""

    @abstractmethod
    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        """The JSON body of one submission. Pure."""

    @abstractmethod
    def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
        """The handle in a 2xx answer (`payload`: its JSON); raise when there is none."""

    @abstractmethod
    def parse_poll(self, resp: UpstreamResponse, payload: Any, submitted: Submitted) -> PollOutcome:
        """A 2xx status answer (`payload`: its JSON) as an outcome; raise for a task that ended
        badly (`ContentPolicyViolation` when moderated, `UpstreamError` `generation_failed`)."""

    def parse_result(
        self, resp: UpstreamResponse, payload: Any, submitted: Submitted
    ) -> PollOutcome:
        """The 2xx answer at a `ResultAt` URL. Only providers that answer `ResultAt` need it."""
        raise UpstreamError(f"{self.name} gave a result URL it cannot read", provider=self.name)

    def poll_url(self, task_id: str) -> str | None:
        """The provider's own status URL for a task id (on `base_url`), or None when statuses
        are only at the URL it returns (fal)."""
        return None

    def poll_call(self, url: str, submitted: Submitted) -> Call:
        """The status request (Fireworks Kontext: a POST with the id in its body)."""
        return Call("GET", url)

    def cancel_call(self, submitted: Submitted) -> Call | None:
        """The request that cancels the task, or None when the provider cannot."""
        return Call("POST", submitted.cancel_url) if submitted.cancel_url else None

    def charge(self, submitted: Submitted) -> Charge | None:
        price = self.credit_price
        return price.charge(submitted.credits) if price is not None else None

    # -- the machinery -------------------------------------------------------------------

    async def generate(
        self, task: ImageTask, spec: ModelSpec, journal: CallJournal = NO_JOURNAL
    ) -> ProviderResult:
        key = self.api_key()
        submitted = Submitted.from_state(journal.state)
        if submitted is None:
            submitted = await self._submit(task, spec, key, journal)
        # The provider accepted the task (and may charge for it on acceptance, as BFL does):
        # a task that failed, got lost, never finished or answered what its adapter cannot
        # read may have been paid for.
        with after_acceptance(self):
            try:
                finished = await self._poll(submitted, key, journal)
            except asyncio.CancelledError:
                if not journal.resumable:
                    await self._cancel(submitted, key)
                raise
            images = [await self._download(output, key) for output in finished.outputs]
            if not images:
                raise UpstreamError(f"{self.name} returned no result image", provider=self.name)
            charge = self.charge(submitted)
        return ProviderResult(images=images, charge=charge)

    # Submission and each poll run in frames of their own: a generation waits in `_poll` for
    # seconds to minutes, thousands at once, and must not hold the request body (input images
    # as base64) or the last poll's answer (headers, body) all that time.

    async def _submit(
        self, task: ImageTask, spec: ModelSpec, key: str, journal: CallJournal
    ) -> Submitted:
        body = self.to_vendor(task, spec)
        url = self.submit_url(spec)
        headers = {**self.auth_headers(key), **self.submit_headers(journal)}

        async def submit() -> Submitted:
            resp = await self.http.request(
                "POST",
                url,
                provider=self.name,
                headers=headers,
                json=body,
                read_timeout=self.submit_read_timeout,
            )
            return self._accepted(resp)

        submitted = await submit_once(journal, self.name, submit)
        await journal.save(submitted.state())
        return submitted

    def _accepted(self, resp: UpstreamResponse) -> Submitted:
        """Any 2xx accepts the submission — and may have charged for it: one we cannot use
        (not JSON, no task id) is a failure never sent again."""
        if not 200 <= resp.status < 300:
            raise self.error_from(resp)  # not taken: no task exists
        with after_acceptance(self):
            return self.parse_submit(resp, resp.json(self.name))

    async def _poll(self, submitted: Submitted, key: str, journal: CallJournal) -> Finished:
        config = self.config
        deadline = time.monotonic() + config.poll_timeout_seconds
        call, parse = self.poll_call(self._status_url(submitted), submitted), self.parse_poll
        interval = wait = config.poll_initial_seconds
        not_found, progress = 0, NO_PROGRESS
        while True:
            await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                raise UpstreamTimeout(
                    f"{self.name} task {submitted.task_id} did not finish within "
                    f"{config.poll_timeout_seconds:g} s",
                    provider=self.name,
                )
            interval = wait = min(interval * 1.5, config.poll_max_interval_seconds)
            outcome = await self._read(call, parse, submitted, key, deadline)
            if isinstance(outcome, Finished):
                return outcome
            if isinstance(outcome, ResultAt):  # done: its result is a document of its own
                call, parse, wait = Call("GET", self._checked(outcome.url)), self.parse_result, 0
            elif isinstance(outcome, NotFound):
                not_found += 1
                if not_found > self.not_found_grace:
                    raise UpstreamError(
                        f"{self.name} lost task {submitted.task_id}",
                        provider=self.name,
                        code="task_not_found",
                    )
            else:
                report = outcome.report
                if report != NO_PROGRESS and report != progress:
                    progress = report
                    await journal.progress(report)
                if outcome.retry_after is not None:
                    longest = config.poll_max_interval_seconds * HINT_FACTOR
                    wait = max(wait, min(outcome.retry_after, longest))

    async def _read(
        self, call: Call, parse: Parser, submitted: Submitted, key: str, deadline: float
    ) -> PollOutcome:
        """One free read (a status, or a result document) as an outcome; an answer to be read
        again is `Pending`, with the server's retry hint (Retry-After) unless it gave one."""
        try:
            resp = await self._send(call, key, deadline - time.monotonic())
        except (UpstreamError, UpstreamTimeout):
            return Pending()  # a poll is free: try again until the deadline
        if resp.status == 404:
            return NOT_FOUND
        outcome: PollOutcome = Pending()  # 408, 429, 5xx: read again
        if 200 <= resp.status < 300:
            try:
                payload = resp.json(self.name)
            except UpstreamError:
                return Pending()  # a garbled answer is read again like a failed one
            outcome = parse(resp, payload, submitted)
        elif resp.status not in (408, 429) and resp.status < 500:
            raise self.error_from(resp)
        if isinstance(outcome, Pending) and outcome.retry_after is None:
            hint = retry_after_seconds(resp.headers)
            if hint is not None:  # (most answers give none: no copy of the outcome, each poll)
                return replace(outcome, retry_after=hint)
        return outcome

    def _status_url(self, submitted: Submitted) -> str:
        """The server-given status URL when trusted with the key, else the provider's own."""
        given, own = submitted.polling_url, self.poll_url(submitted.task_id)
        if given is not None and self.origins.allows(given):
            return given
        if given is not None:
            log.warning(
                "untrusted polling_url ignored"
                + ("; polling the provider's base URL instead" if own else ""),
                extra={"fields": {"provider": self.name, "origin": origin_text(given)}},
            )
        if own is None:
            raise UpstreamError(
                f"{self.name} gave no status URL it may be polled at "
                f"(see {self._trust_variable()})",
                provider=self.name,
            )
        return own

    def _checked(self, url: str) -> str:
        """`url` when its origin is trusted (it gets the key, or our download), else an error."""
        if not self.origins.allows(url):
            raise UpstreamError(
                f"{self.name} returned its result on an untrusted origin "
                f"({origin_text(url)}; see {self._trust_variable()})",
                provider=self.name,
            )
        return url

    async def _download(self, output: Output, key: str) -> GeneratedImage:
        """The image now (its URL expires), checked by every provider's common check later."""
        if output.data is not None:
            data = output.data
        elif output.url is not None:
            headers = self.auth_headers(key) if self.result_needs_key else None
            url = self._checked(output.url)
            resp = await self.http.request("GET", url, provider=self.name, headers=headers)
            if resp.status != 200:
                raise UpstreamError(
                    f"{self.name} result image could not be downloaded (HTTP {resp.status})",
                    provider=self.name,
                )
            data = resp.body
        else:
            raise UpstreamError(f"{self.name} returned no usable result image", provider=self.name)
        mime = sniff_image_type(data) or "application/octet-stream"
        return GeneratedImage(data, mime, seed=output.seed)

    async def _send(self, call: Call, key: str, seconds: float) -> UpstreamResponse:
        """A free call (a poll, a result document, a cancel) with the key, within `seconds`."""
        return await self.http.request(
            call.method,
            call.url,
            provider=self.name,
            headers=self.auth_headers(key),
            json=call.json,
            deadline=seconds,
        )

    async def _cancel(self, submitted: Submitted, key: str) -> None:
        """Ask the provider to stop a task nobody will collect; best effort, never raising.
        A cancel URL on an untrusted origin is not called (it would get the key): a warning
        names its origin."""
        try:
            call = self.cancel_call(submitted)
            if call is None:
                return
            if not self.origins.allows(call.url):
                log.warning(
                    "untrusted cancel_url not called; the provider's task is left running",
                    extra={"fields": {"provider": self.name, "origin": origin_text(call.url)}},
                )
                return
            resp = await self._send(call, key, CANCEL_SECONDS)
        except Exception:  # its cancellation goes on whatever happens here
            log.warning("cancel call failed", extra={"fields": {"provider": self.name}})
            return
        log.info(
            "provider task cancelled",
            extra={"fields": {"provider": self.name, "status": resp.status}},
        )

    def _trust_variable(self) -> str:
        """How an operator trusts an origin: `BFL_FLUX_TRUSTED_HOSTS (or BFL_TRUSTED_HOSTS)`."""
        return self.definition.variable_text("trusted_hosts")
