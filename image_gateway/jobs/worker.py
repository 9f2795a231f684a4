"""The job worker: takes jobs from the queue, runs them under a lease, and keeps going after
crashes.

- One consumer loop takes job ids from the queue while fewer than `WORKER_CONCURRENCY` jobs run
  (an idle worker is one task waiting on the queue, not N loops each waking every second:
  10,000 timers a second at N=10,000, issue 16); each job's run claims the job's lease
  in the store (skipping it if finished or leased elsewhere) and run it through the same
  dispatcher as synchronous requests, with a journal that records each provider handle before
  anything else happens (`providers/journal.py`): a resumed job polls, it never pays twice.
- A job was admitted when it was submitted (`service.py`): the worker renews that admission as
  it starts the job, and it ends exactly once — settled by the dispatcher after a provider was
  tried, released when the job ends without one (revoked key, lost inputs, canceled, given up).
- A heartbeat extends the lease, notices a cancel request, and stops the run if the lease was
  lost to another worker.
- A sweeper re-enqueues jobs whose lease expired (their worker died) and queued jobs whose
  wake-up was lost, and deletes finished jobs past retention.
- Webhooks of finished jobs are delivered with retries (`webhooks.py`), from the store, so a
  restart resumes them too.
- A busy or unreachable store (`ServiceUnavailable`, e.g. `StoreBusy`) never fails a job: a
  claim it refused leaves the job queued (its id is queued again after Retry-After); a run it
  stopped before the provider call puts the job back; the journal and the job's end are
  written again until the lease would lapse, so a provider's handle or result is not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
import pybase64

from image_gateway.access.auth import Client
from image_gateway.access.controls import Admission
from image_gateway.blobs.base import ImageStore
from image_gateway.db.values import utcnow
from image_gateway.errors import (
    AuthenticationFailed,
    GatewayError,
    InvalidRequest,
    RateLimited,
    ServiceUnavailable,
    StoreBusy,
    error_body,
)
from image_gateway.fetch.fetcher import GuardedResolver
from image_gateway.fetch.urls import Refused, parse_target
from image_gateway.jobs import webhooks
from image_gateway.jobs.activity import JobActivity, WriteBudget
from image_gateway.jobs.queue import Delivery, JobQueue, MemoryJobQueue
from image_gateway.jobs.rows import JobRow
from image_gateway.jobs.service import JobService, restored
from image_gateway.providers.kit.journal import CallJournal
from image_gateway.providers.kit.progress import PartialImage, Progress
from image_gateway.schemas import GenerationBody, InputImage
from image_gateway.settings import Settings

if TYPE_CHECKING:
    import aiohttp

    from image_gateway.access.key_store import KeyStore
    from image_gateway.jobs.store import JobStore

T = TypeVar("T")
log = logging.getLogger("image_gateway.jobs")
MAX_ATTEMPTS = 10  # claims of one job (restarts, crashes) before it fails for good
JOB_CANCELED = "job_canceled"  # the ledger's error code of a job canceled while it ran
# The sweep's and the webhook loop's first look at the database, after a start: the server's
# first answers (a cold start's, issue 16) go out before the store and SQLAlchemy load.
FIRST_POLL_SECONDS = 0.5
PROGRESS_SECONDS = 1.0  # JOB_PROGRESS_SECONDS's default, for a journal built without settings
# What a partial image's reference on the job's row keeps besides its image id (its event's).
PARTIAL_FIELDS = (
    "image_index",
    "partial_image_index",
    "size",
    "quality",
    "background",
    "output_format",
    "created_at",
)


class LeaseLost(Exception):
    """Another worker owns the job now: stop without writing anything."""


async def patiently(write: Callable[[], Awaitable[T]], patience: float) -> T:
    """`write()`, tried again after each StoreBusy's Retry-After while `patience` seconds
    last (a job's lease: past it, another worker may own the job); then StoreBusy."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return await write()
        except StoreBusy:
            if time.monotonic() + StoreBusy.retry_seconds >= deadline:
                raise
            log.warning("job store busy; writing again", extra={"fields": {}})
            await asyncio.sleep(StoreBusy.retry_seconds)


class JobJournal:
    """`RunJournal` backed by the job row (written only while this worker holds the lease)."""

    closed = False  # a job has no client connection to lose
    relayed = False  # nothing of a running job reaches a client that a retry would contradict
    stopped: str | None = None
    target: tuple[str, str] | None = None

    def __init__(
        self,
        store: JobStore,
        job_id: str,
        worker: str,
        saved: Any,
        activity: JobActivity | None = None,
        images: ImageStore | None = None,
        patience: float = 0.0,
    ) -> None:
        self.store, self.job_id, self.worker = store, job_id, worker
        self.patience = patience  # seconds a busy store is waited out (`patiently`)
        self.data: dict[str, Any] = saved if isinstance(saved, dict) else {}
        self.data.setdefault("candidate", 0)
        self.data.setdefault("calls", {})
        self.resume_from = int(self.data["candidate"])
        self._inherited = set(self.data["calls"])  # call states an earlier run left
        self._lock = asyncio.Lock()
        self.activity = activity if activity is not None else JobActivity(PROGRESS_SECONDS)
        self.images = images  # where partial images are kept while the job runs
        self._activity_lock = asyncio.Lock()

    async def entering(self, index: int) -> None:
        if self.data["candidate"] != index:
            self.data["candidate"], self.data["calls"] = index, {}
            self._inherited.clear()
            self.activity.restart()
            await self._persist()

    def call(self, index: int, part: int) -> CallJournal:
        async def save(state: dict[str, Any] | None) -> None:
            self._inherited.discard(str(part))
            if state is None:
                self.data["calls"].pop(str(part), None)
            else:
                self.data["calls"][str(part)] = state
            await self._persist()

        self.activity.start_call(part)
        return _JobCall(
            self,
            part,
            self.data["calls"].get(str(part)),
            save,
            inherited=str(part) in self._inherited,
            # A run stopped without a reason (its worker stopping, its lease lost) is resumed.
            resumable=lambda: self.stopped is None,
        )

    async def report(
        self,
        part: int,
        progress: float | None = None,
        *,
        status: str | None = None,
        queue_position: int | None = None,
    ) -> None:
        """A call's progress, for the job's watchers: written to the row when the throttle
        lets it (`jobs/activity.py`). Best effort: a failed write is skipped, never raised
        into the provider call (the heartbeat notices a lost lease)."""
        view = self.activity.report(part, progress, status=status, queue_position=queue_position)
        if view is not None:
            await self._save_activity()

    async def partial_image(self, event: PartialImage) -> None:
        """A preview of one of the job's images: kept in the image store (whichever gateway
        serves the job's events reads it there; `forget_partials` says how long it stays)
        and its reference, with the event's fields, added to the row at once (not throttled:
        at most 3 per image). Best effort, like progress (`kit/journal.py`'s contract)."""
        if self.images is None:
            return
        try:
            image = pybase64.b64decode(event.b64_json, validate=True)
            image_id = await self.images.put(image, "image/png")
        except Exception:  # not base64, or the store is unreachable: the job goes on
            log.warning("job partial image not stored", extra={"fields": {"job_id": self.job_id}})
            return
        fields = {f: getattr(event, f) for f in PARTIAL_FIELDS}
        if fields["created_at"] is None:
            fields["created_at"] = int(time.time())
        self.activity.partials.append({**fields, "image_id": image_id})
        self.activity.written()
        await self._save_activity()

    async def forget_partials(self) -> None:
        """This run ended: its partial images are deleted unless the job's row still names
        them and the job is over (finished, failed or canceled here). Those stay for the job's
        watchers, which send a terminal job's unsent previews before its result
        (`api/jobs.py`), and go with the image store's retention (`IMAGE_RETENTION_HOURS`),
        like its result. A run that was put back, lost its lease or stopped drops its own:
        the next run starts a list of its own."""
        ids = [ref["image_id"] for ref in self.activity.partials]
        if not ids or self.images is None:
            return
        try:
            row = await self.store.get(self.job_id)
        except Exception:  # unreadable: keep them; the image store's retention removes them
            return
        if row is not None and row.terminal:
            named = {ref["image_id"] for ref in (row["activity"] or {}).get("partials", [])}
            ids = [i for i in ids if i not in named]
        if ids:
            try:
                await self.images.delete(ids)
            except Exception:  # the image store's retention removes them later
                log.warning("job partials not deleted", extra={"fields": {"job_id": self.job_id}})

    async def _save_activity(self) -> None:
        """Write the row's progress and activity as they are now; one write at a time, so an
        older state never overwrites a newer one."""
        async with self._activity_lock:
            view = self.activity.view()
            row = self.activity.row(view)
            try:
                await self.store.save_activity(self.job_id, self.worker, view.progress, row)
            except Exception:
                log.warning("job progress not saved", extra={"fields": {"job_id": self.job_id}})

    async def _persist(self) -> None:
        async with self._lock:
            saved = await patiently(
                lambda: self.store.save_journal(self.job_id, self.worker, self.data),
                self.patience,
            )
            if not saved:
                raise LeaseLost(self.job_id)


class _JobCall(CallJournal):
    """A job's call journal: its progress and partial images go to the job
    (`JobJournal.report`, `JobJournal.partial_image`)."""

    def __init__(self, run: JobJournal, part: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._run, self._part = run, part

    @property
    def watched(self) -> bool:
        return True  # its reports go to the job's row, for whoever watches it

    async def progress(self, value: float | Progress) -> None:
        report = Progress.of(value)
        await self._run.report(
            self._part,
            report.fraction,
            status=report.status,
            queue_position=report.queue_position,
        )

    async def partial_image(self, event: PartialImage) -> None:
        await self._run.partial_image(event)


class JobWorker:
    def __init__(
        self,
        settings: Settings,
        *,
        store: Callable[[], JobStore],
        queue: JobQueue,
        service: Callable[[], JobService],
        keys: Callable[[], KeyStore] | None,
    ) -> None:
        self.settings = settings
        # Made on first use (`jobs/runtime.py`): the store loads SQLAlchemy, which the first
        # requests after a start do not wait for (the loops' first poll is FIRST_POLL_SECONDS on).
        self._store, self._service, self._keys = store, service, keys
        self.queue = queue
        self.name = f"worker-{secrets.token_hex(6)}"
        self.lease = settings.job_lease_seconds
        self._tasks: list[asyncio.Task[None]] = []
        self._runs: set[asyncio.Task[None]] = set()  # the jobs being run (`_consume`)
        self._slots = asyncio.Semaphore(settings.worker_concurrency)
        self._running: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        # Progress writes of all the jobs this worker runs (`jobs/activity.py`).
        self._progress_budget = WriteBudget(settings.job_progress_writes_per_second)

    @property
    def store(self) -> JobStore:
        return self._store()

    @property
    def service(self) -> JobService:
        return self._service()

    async def start(self) -> None:
        for loop in [self._consume(), self._sweep(), self._deliver_webhooks()]:
            self._tasks.append(asyncio.create_task(loop))
        concurrency = self.settings.worker_concurrency
        log.info(
            "job worker started",
            extra={"fields": {"worker": self.name, "concurrency": concurrency}},
        )

    async def stop(self) -> None:
        """Stop taking work. Running jobs keep their journal; their lease expires and another
        worker (or this one after a restart) resumes them."""
        tasks = [*self._tasks, *self._runs]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        with contextlib.suppress(Exception):  # let a restarted worker resume them at once
            await self.store.release_leases(self.name)
        if self._session is not None:
            await self._session.close()

    async def _consume(self) -> None:
        """Hand each queued job to a run of its own once one of WORKER_CONCURRENCY slots is
        free (a job's run gives its slot back when it ends)."""
        while True:
            await self._slots.acquire()
            try:
                delivery = await self.queue.next(self.name, 1.0)
            except BaseException as exc:
                self._slots.release()
                if not isinstance(exc, Exception):
                    raise  # stopping
                log.exception("job queue error", extra={"fields": {"worker": self.name}})
                await asyncio.sleep(1.0)
                continue
            if delivery is None:
                self._slots.release()
                continue
            task = asyncio.create_task(self._take(delivery))
            self._runs.add(task)
            task.add_done_callback(self._taken)

    def _taken(self, task: asyncio.Task[None]) -> None:
        self._runs.discard(task)
        self._slots.release()

    async def _take(self, delivery: Delivery) -> None:
        """Run one delivered job; whatever goes wrong stays with it (logged)."""
        try:
            await self.run(
                delivery.job_id, functools.partial(self.queue.heartbeat, self.name, delivery)
            )
            await self.queue.ack(delivery)
        except StoreBusy:  # the job is as it was (queued, or leased): wake it up later
            log.warning("job store busy", extra={"fields": {"worker": self.name}})
            await asyncio.sleep(StoreBusy.retry_seconds)
            with contextlib.suppress(Exception):  # else the sweeper finds it
                await self.queue.enqueue(delivery.job_id)
                await self.queue.ack(delivery)
        except Exception:  # one bad job (or a store hiccup) must not stop the others
            log.exception("job worker error", extra={"fields": {"worker": self.name}})
            await asyncio.sleep(1.0)

    async def run(self, job_id: str, queue_heartbeat: Any = None) -> None:
        """Run one job if this worker can claim it."""
        job = await self.store.claim(job_id, self.name, self.lease)
        if job is None:
            return
        runs = self.service.runs  # who waits for this job's end here (`runs_here.py`)
        runs.started(job.id)
        try:
            await self._run_claimed(job, queue_heartbeat)
        finally:
            runs.ended(job.id)

    async def _run_claimed(self, job: JobRow, queue_heartbeat: Any) -> None:
        if job["cancel_requested"]:  # canceled while its previous worker was gone: don't start
            await self.service.release(job)
            await self._finish_canceled(job.id)
            return
        if job["attempts"] > MAX_ATTEMPTS:  # it keeps killing its worker, or keeps crashing
            error = GatewayError(
                f"the job was started {MAX_ATTEMPTS} times without finishing; it is given up",
                code="job_attempts_exhausted",
            )
            body = {"status": error.status_code, "body": error_body(error, job["request_id"])}
            await self.service.release(job)
            await self.store.finish(
                job.id, self.name, "failed", error=body, webhook_due=self._hooked(job)
            )
            return
        activity = JobActivity(self.settings.job_progress_seconds, budget=self._progress_budget)
        images = self.service.image_urls.store
        journal = JobJournal(
            self.store, job.id, self.name, job["journal"], activity, images, self.lease
        )
        work = asyncio.create_task(self._execute(job, journal))
        beat = asyncio.create_task(self._heartbeat(job.id, work, queue_heartbeat, journal))
        self._running.add(job.id)
        try:
            await work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # this worker is stopping: the job resumes from its journal later
            await self._finish_canceled(job.id)
        except LeaseLost:
            log.warning("job lease lost", extra={"fields": {"job_id": job.id}})
        finally:
            self._running.discard(job.id)
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        # It ended here (finished, canceled, put back or taken over): its partials go, but
        # those of a job that is over stay for its watchers (`JobJournal.forget_partials`).
        await journal.forget_partials()

    async def _heartbeat(
        self, job_id: str, work: asyncio.Task[None], queue_beat: Any, journal: JobJournal
    ) -> None:
        while not work.done():
            await asyncio.sleep(self.lease / 3)
            try:
                cancel_requested = await self.store.extend(job_id, self.name, self.lease)
                if cancel_requested is None:
                    work.cancel()  # the lease went to another worker: it runs the job now
                    return
                if queue_beat is not None:
                    await queue_beat()
            except Exception:  # the store is briefly unreachable: try again next beat
                log.warning("job heartbeat failed", extra={"fields": {"job_id": job_id}})
                continue
            if cancel_requested:
                # For good: a call already sent stays in the ledger as an unknown outcome.
                journal.stopped = JOB_CANCELED
                work.cancel()
                return

    async def _finish_canceled(self, job_id: str) -> None:
        job = await self.store.get(job_id)
        if job is not None and job["cancel_requested"] and job["lease_owner"] == self.name:
            await self.store.finish(job_id, self.name, "canceled", webhook_due=self._hooked(job))

    async def _execute(self, job: JobRow, journal: JobJournal) -> None:
        request_id = job["request_id"]
        try:
            try:
                client = await self._client(job["owner"])
                images, mask, params = await self._inputs(job)
                request = job["request"]
                if params:  # loaded at submission: the provider gets them, not their URLs
                    given = request.get("provider_params") or {}
                    request = {**request, "provider_params": {**given, **params}}
                body = GenerationBody.model_validate(request)
                admission = await self._admission(job, client)
            except BaseException:
                await self.service.release(job)  # it ends here, before any provider
                raise
            # From here the dispatcher ends the admission (settled, or released if refused).
            generation = await self.service.dispatcher.generate(
                body,
                client=client,
                request_id=request_id,
                images=images,
                mask=mask,
                journal=journal,
                admission=admission,
            )
        except RateLimited as exc:
            # Only a job queued before jobs were admitted at submission is admitted here; its
            # key's own limits put it back to run later instead of failing it.
            wait = float(exc.headers.get("Retry-After", "1") or 1)
            await self.store.put_back(job.id, self.name, wait)
            return
        except ServiceUnavailable as exc:
            # The gateway's own store was busy or unreachable (the key, the budget, the
            # journal): the job is not at fault; it runs again later (from its journal).
            wait = float(exc.headers.get("Retry-After", "1") or 1)
            log.warning(
                "job put back: store unavailable",
                extra={"fields": {"job_id": job.id, "error_code": exc.code}},
            )
            # Not written either: the lease lapses and the sweeper hands the job out again.
            with contextlib.suppress(StoreBusy):
                await self.store.put_back(job.id, self.name, wait)
            return
        except GatewayError as exc:
            error: dict[str, Any] = {"status": exc.status_code, "body": error_body(exc, request_id)}
            if exc.attribution is not None:  # who it failed at, for logs (not shown in the job)
                error["provider"], error["model"] = exc.attribution
            await patiently(
                lambda: self.store.finish(
                    job.id, self.name, "failed", error=error, webhook_due=self._hooked(job)
                ),
                self.lease,
            )
            self._log_finished(job, "failed", exc.attribution, exc.code)
            return
        result = await self.service.store_result(generation, body)
        await patiently(
            lambda: self.store.finish(
                job.id, self.name, "succeeded", result=result, webhook_due=self._hooked(job)
            ),
            self.lease,
        )
        self._log_finished(job, "succeeded", (generation.provider, generation.model), None)

    def _log_finished(
        self, job: JobRow, status: str, target: tuple[str, str] | None, error_code: str | None
    ) -> None:
        """A job's own line, as a synchronous request's access line: who served it, or who it
        failed at (the provider tried last, else the primary), with the request id."""
        provider, model = target if target is not None else (None, None)
        log.info(
            "job finished",
            extra={
                "fields": {
                    "job_id": job.id,
                    "request_id": job["request_id"],
                    "status": status,
                    "provider": provider,
                    "model": model,
                    "error_code": error_code,
                    "worker": self.name,
                }
            },
        )

    async def _admission(self, job: JobRow, client: Client) -> Admission | None:
        """The admission the job was submitted with, renewed: its slot and reservation may
        have expired while it waited, or been settled by a worker that stopped mid-run."""
        admission = restored(job, client)
        if admission is not None:
            await self.service.dispatcher.renew(admission)
        return admission

    @staticmethod
    def _hooked(job: JobRow) -> bool:
        return bool(job["webhook_url"])

    async def _client(self, owner: str) -> Client:
        """Who the job runs as: the key that submitted it, as it is now (a revoked key's
        queued jobs fail)."""
        kind, _, ident = owner.partition(":")
        if kind == "key":
            stored = await self._keys().get(ident) if self._keys is not None else None
            if stored is None or stored.revoked_at is not None:
                raise AuthenticationFailed("the key that submitted this job was revoked")
            return stored.client()
        return Client(ident if kind == "env" else "development")

    async def _inputs(
        self, job: JobRow
    ) -> tuple[list[InputImage], InputImage | None, dict[str, str]]:
        """What the pre-flight loaded at submission (`service.py`): the input images, the mask,
        and the `provider_params` images (base64 of their checked bytes)."""
        inputs = job["inputs"] or {}
        store = self.service.image_urls.store

        async def load(image_id: str) -> InputImage:
            got = await store.get(image_id)
            if got is None:
                raise InvalidRequest("this job's input images are no longer stored")
            return InputImage(got.data, got.content_type, image_id)

        images = [await load(i) for i in inputs.get("images", [])]
        mask = await load(inputs["mask"]) if inputs.get("mask") else None
        params = {
            name: pybase64.b64encode((await load(image_id)).data).decode("ascii")
            for name, image_id in (inputs.get("params") or {}).items()
        }
        return images, mask, params

    async def _sweep(self) -> None:
        retention = self.settings.job_retention_days
        # An in-process queue starts empty: the queued jobs of a process that crashed or was
        # restarted are taken at once, not after JOB_REQUEUE_AFTER_SECONDS.
        requeue_after = 0.0 if isinstance(self.queue, MemoryJobQueue) else None
        await asyncio.sleep(FIRST_POLL_SECONDS)
        while True:
            try:
                ids = await self.store.claimable_ids(
                    queued_older_than=self.settings.job_requeue_after_seconds
                    if requeue_after is None
                    else requeue_after
                )
                requeue_after = None
                for job_id in ids:
                    await self.queue.enqueue(job_id)
                if retention > 0:
                    await self.store.delete_finished_before(utcnow() - timedelta(days=retention))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("job sweep failed", extra={"fields": {"worker": self.name}})
            await asyncio.sleep(self.settings.job_sweep_seconds)

    async def _deliver_webhooks(self) -> None:
        await asyncio.sleep(FIRST_POLL_SECONDS)
        while True:
            try:
                for job in await self.store.webhooks_due():
                    hold = self.settings.webhook_timeout_seconds + 5
                    if await self.store.take_webhook(job.id, job["webhook_next_at"], hold):
                        await self._deliver(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("webhook delivery loop failed", extra={"fields": {}})
            await asyncio.sleep(0.5)

    def _webhook_session(self) -> aiohttp.ClientSession:
        import aiohttp  # with the first webhook: a gateway without any does not load it

        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout_seconds)
            self._session = GuardedResolver(self.service.webhook_allow).session(timeout)
        return self._session

    async def _deliver(self, job: JobRow) -> None:
        import aiohttp

        state = dict(job["webhook"] or {"attempts": 0, "delivered": False})
        fresh = await self.store.get(job.id)
        body = orjson.dumps(await self.service.view(fresh or job))
        secret = job["webhook_secret"] or ""
        headers = webhooks.headers_for(job.id, secret, body)
        state["attempts"] = int(state.get("attempts", 0)) + 1
        try:
            target = parse_target(job["webhook_url"])
            if not self.service.allows_webhook_target(target):  # the allow list changed
                raise Refused("is not a public address")
            async with self._webhook_session().post(
                target.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                state["last_status"] = resp.status
                ok = 200 <= resp.status < 300
        except (Refused, aiohttp.ClientError, TimeoutError) as exc:
            state["last_status"], state["last_error"], ok = None, type(exc).__name__, False
        if ok:
            state.update(delivered=True, delivered_at=int(time.time()))
            await self.store.record_webhook(job.id, state, None)
            return
        delay = webhooks.next_delay(state["attempts"])
        state["gave_up"] = delay is None
        next_at = None if delay is None else utcnow() + timedelta(seconds=delay)
        await self.store.record_webhook(job.id, state, next_at)
        log.info(
            "webhook delivery failed",
            extra={
                "fields": {"job_id": job.id, "attempt": state["attempts"], "retry": bool(delay)}
            },
        )
