"""Queued jobs on the clock, for an async (submit, then poll) emulator: each submission is queued
`queue_seconds`, generates for `generation_seconds`, then is done (or canceled first); a bounded
log keeps the newest `max_jobs`, and a result counts as expired `retention` seconds after it
finished. Their result files are signed, expiring URLs (`urls`) on the second listener.

    @dataclass(kw_only=True)
    class Task(Job):                      # the provider's fields on top of the clock's
        prompt: str
        size: tuple[int, int]

    book = JobBook(SWITCHES, look=Look("Runway emulator", (20, 20, 30), (200, 200, 220)))
    task = book.create(Task, prompt="a fox", size=(1280, 720))
    task.phase(book.clock())              # "queued" | "generating" | "done" | "canceled"
    book.get(task.id)                     # counts a poll; None once dropped
    book.expired(task)                    # past finished_at() + retention
    await book.image(1280, 720, "png")    # the placeholder file (kit/placeholder.py)

Nothing runs in the background: a job's phase is computed from the clock whenever it is read,
so the provider maps phases to its own words (fal: IN_QUEUE, IN_PROGRESS, COMPLETED; Replicate:
starting, processing, succeeded). The clock is wall time (unix seconds, for the providers'
timestamps) unless a test passes another.

`JobSwitches` are the `--queue-seconds/--generation-seconds/--retention/--rate-limit` switches
with the provider's defaults and help; `JobEmulator` adds them to the command line, reads them
back (`job_options`) and points the book at the bound listeners.
"""

from __future__ import annotations

import argparse
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar

from . import cli
from .app import EmulatorApp
from .emulator import Emulator
from .placeholder import Look, Placeholders
from .signed_urls import SignedUrls

Phase = Literal["queued", "generating", "done", "canceled"]


@dataclass(kw_only=True)
class Job:
    id: str
    created: float  # clock seconds
    queue_seconds: float
    generation_seconds: float
    never: bool = False  # never finishes by itself (a `[never]` marker)
    canceled_at: float | None = None  # clock seconds
    polls: int = 0

    @property
    def started(self) -> float:
        """When generation starts (clock seconds)."""
        return self.created + self.queue_seconds

    def ends(self) -> float:
        """When generation ends, uncanceled (inf for a job that never does)."""
        return math.inf if self.never else self.started + self.generation_seconds

    def finished_at(self) -> float:
        """When it ended: canceled, or done (inf while it never does)."""
        return self.canceled_at if self.canceled_at is not None else self.ends()

    def phase(self, now: float) -> Phase:
        if self.canceled_at is not None and self.canceled_at < self.ends():
            return "canceled"
        if now < self.started:
            return "queued"
        return "generating" if now < self.ends() else "done"

    def queue_left(self, now: float) -> float:
        """Seconds until it leaves the queue (0 once generating)."""
        return max(0.0, self.started - now)

    def progress(self, now: float) -> float:
        """Share of the generation done: 0 while queued, at most 0.99 until done, then 1."""
        if self.phase(now) == "done":
            return 1.0
        if self.never or now < self.started:
            return 0.0
        return round(min(0.99, (now - self.started) / max(self.generation_seconds, 1e-9)), 3)


J = TypeVar("J", bound=Job)


@dataclass(frozen=True)
class JobSwitches:
    """One provider's defaults and help for the standard job switches."""

    queue_seconds: float = 0.0
    generation_seconds: float = 0.5
    retention: float = 3600.0
    queue_help: str = "time spent queued"
    generation_help: str = "time spent generating"
    retention_help: str = "seconds a result is kept"
    rate_help: str = "submissions per minute; 0 = unlimited"


class JobBook(Generic[J]):
    """One emulator's jobs (the newest `max_jobs`), their clock and their result files."""

    def __init__(
        self,
        switches: JobSwitches | None = None,
        *,
        queue_seconds: float | None = None,
        generation_seconds: float | None = None,
        retention: float | None = None,
        look: Look | None = None,
        clock: Callable[[], float] = time.time,
        max_jobs: int = 20000,
        new_id: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        """Timings are the switches' defaults unless given."""
        defaults = switches or JobSwitches()
        self.queue_seconds = defaults.queue_seconds if queue_seconds is None else queue_seconds
        self.generation_seconds = (
            defaults.generation_seconds if generation_seconds is None else generation_seconds
        )
        self.retention = defaults.retention if retention is None else retention
        self.clock, self.max_jobs, self.new_id = clock, max_jobs, new_id
        self.urls = SignedUrls(clock)
        self.api_base = self.file_base = ""  # the two listeners' origins, once bound
        self.images = Placeholders(look or Look("emulator", (40, 40, 48), (200, 200, 210)))
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, J] = OrderedDict()

    def __len__(self) -> int:
        return len(self._jobs)

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()

    def create(self, kind: Callable[..., J], **fields: Any) -> J:
        """A new job of `kind` (a `Job` dataclass), queued now with the book's timings."""
        job = kind(
            id=self.new_id(),
            created=self.clock(),
            queue_seconds=self.queue_seconds,
            generation_seconds=self.generation_seconds,
            **fields,
        )
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self.max_jobs:
                self._jobs.popitem(last=False)
        return job

    def get(self, job_id: str) -> J | None:
        """The job, counting this as one poll of it; None when unknown or dropped."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                job.polls += 1
            return job

    def polls(self) -> dict[str, int]:
        with self._lock:
            return {job.id: job.polls for job in self._jobs.values() if job.polls}

    def cancel(self, job: J) -> bool:
        """Cancel an unfinished job now (False when it had already finished)."""
        if job.phase(self.clock()) in ("done", "canceled"):
            return False
        job.canceled_at = self.clock()
        return True

    def expired(self, job: Job, keep: float | None = None) -> bool:
        """More than `keep` (default `retention`) seconds since the job finished."""
        return self.clock() > job.finished_at() + (self.retention if keep is None else keep)

    async def image(self, width: int, height: int, fmt: str, black: bool = False) -> bytes:
        """A result file's bytes (`black`: a moderated image)."""
        return (await self.images.get(width, height, fmt, black=black)).data


def add_job_arguments(parser: argparse.ArgumentParser, switches: JobSwitches) -> None:
    """`--queue-seconds`, `--generation-seconds`, `--retention`, `--rate-limit`."""
    for flag, default, text in (
        ("--queue-seconds", switches.queue_seconds, switches.queue_help),
        ("--generation-seconds", switches.generation_seconds, switches.generation_help),
        ("--retention", switches.retention, switches.retention_help),
    ):
        parser.add_argument(
            flag, type=cli.amount, default=default, help=f"{text} (default {default:g})"
        )
    parser.add_argument("--rate-limit", type=cli.count, default=0, help=switches.rate_help)


def job_options(args: argparse.Namespace) -> dict[str, Any]:
    """The constructor arguments of the job switches (`rate_limit` None: unlimited)."""
    return {
        "queue_seconds": args.queue_seconds,
        "generation_seconds": args.generation_seconds,
        "retention": args.retention,
        "rate_limit": args.rate_limit or None,
    }


class JobEmulator(Emulator):
    """An async emulator: its app keeps a `JobBook`, its command line takes the job switches
    (`SWITCHES`: the provider's defaults and help). A subclass's `add_arguments` calls
    `super().add_arguments(parser)` before adding its own; its `from_args` passes
    `**cls.standard_options(args), **job_options(args)`."""

    SWITCHES: JobSwitches = JobSwitches()

    def __init__(
        self,
        app: EmulatorApp,
        book: JobBook[Any],
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
    ) -> None:
        self.book = book
        super().__init__(app, host=host, port=port, poll_port=poll_port, poll_host=poll_host)

    def bound(self) -> None:
        self.book.api_base = self.url or ""
        self.book.file_base = self.poll_base_url

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_job_arguments(parser, cls.SWITCHES)


class StandardJobEmulator(JobEmulator):
    """A `JobEmulator` with only the job switches: `APP(api_key, scenarios, strict, *,
    queue_seconds, generation_seconds, retention, rate_limit)` builds its app (which keeps its
    `book`); `DEFAULT_API_KEY` and `SWITCHES` are the defaults of a switch left None."""

    APP: ClassVar[Callable[..., Any]]

    def __init__(
        self,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        strict: bool = False,
        queue_seconds: float | None = None,
        generation_seconds: float | None = None,
        retention: float | None = None,
        rate_limit: int | None = None,
    ) -> None:
        s = self.SWITCHES
        app = type(self).APP(
            self.DEFAULT_API_KEY if api_key is None else api_key,
            self.SCENARIO_FAULTS,
            strict,
            queue_seconds=s.queue_seconds if queue_seconds is None else queue_seconds,
            generation_seconds=(
                s.generation_seconds if generation_seconds is None else generation_seconds
            ),
            retention=s.retention if retention is None else retention,
            rate_limit=rate_limit,
        )
        super().__init__(
            app, app.book, host=host, port=port, poll_port=poll_port, poll_host=poll_host
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Self:
        return cls(**cls.standard_options(args), **job_options(args))
