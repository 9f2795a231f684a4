"""Calls that departed clients left behind.

A synchronous request whose client leaves while one of its provider calls is sent or accepted
(its `RequestJournal` is `committed`: the provider may charge) is not cancelled: the `Answerer` in
`api/answer.py` hands its running generation over here, closed to new submissions, and answers
nothing (the access log and metrics record 499). The generation goes on only to finish what
was paid for: its provider slot is held until the provider's task ends, the dispatcher's
settlement writes its ledger row with the real cost, and its images are kept — the request
becomes a finished job of its key (`GET /v1/jobs`, with the request's own `request_id`; its
`result` renders as the synchronous answer would have), or a failed one with its error. A
request none of whose calls was sent is cancelled by `answer()` instead and never gets here.

A stopping gateway gives these calls SHUTDOWN_GRACE_SECONDS in all, then cancels the rest: their
jobs and ledger rows say `interrupted` (the provider may still charge for them).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from image_gateway.access.auth import Client
from image_gateway.db.values import utcnow
from image_gateway.errors import GatewayError, UpstreamError, error_body
from image_gateway.generation.rendering import Generation
from image_gateway.jobs.rows import NewJob
from image_gateway.jobs.service import JobService, owner_of
from image_gateway.providers.kit.journal import RequestJournal
from image_gateway.schemas import GenerationBody

if TYPE_CHECKING:
    from image_gateway.jobs.store import JobStore

log = logging.getLogger("image_gateway.jobs")
RECORD_SECONDS = 10.0  # after the grace period: for the stopped calls' rows to be written
INTERRUPTED = "interrupted"


@dataclass(slots=True)
class SyncRun:
    """A synchronous request's running generation, and what its job row needs if its client
    leaves."""

    work: asyncio.Task[Generation]
    journal: RequestJournal
    body: GenerationBody
    client: Client
    kind: str  # "generate" | "edit"
    request_id: str | None
    public_base_url: str


class DepartedCalls:
    """The adopted runs of this process (see the module docstring)."""

    def __init__(self, *, store: JobStore, service: JobService, grace: float) -> None:
        self.store = store
        self.service = service
        self.grace = grace
        self._finishing: dict[asyncio.Task[None], SyncRun] = {}

    def adopt(self, departed: SyncRun) -> None:
        """Finish `departed.work` in the background (see the module docstring)."""
        departed.journal.closed = True
        finishing = asyncio.create_task(self._finish(departed))
        self._finishing[finishing] = departed  # a strong reference until it is done
        finishing.add_done_callback(self._finishing.pop)
        log.info(
            "client left; its accepted provider call finishes in the background",
            extra={"fields": {"request_id": departed.request_id}},
        )

    async def close(self) -> None:
        """Wait up to the grace period for adopted calls, then stop the rest."""
        if not self._finishing:
            return
        log.info(
            "waiting for calls of departed clients",
            extra={"fields": {"calls": len(self._finishing), "grace_s": self.grace}},
        )
        _, late = await asyncio.wait(list(self._finishing), timeout=self.grace)
        if not late:
            return
        log.warning(
            "stopping calls of departed clients: the shutdown grace period is over; the "
            "provider may still charge for them",
            extra={"fields": {"calls": len(late), "grace_s": self.grace}},
        )
        for finishing in late:
            departed = self._finishing[finishing]
            departed.journal.stopped = INTERRUPTED
            departed.work.cancel()
        await asyncio.wait(late, timeout=RECORD_SECONDS)

    async def _finish(self, departed: SyncRun) -> None:
        started = utcnow()
        try:
            generation = await departed.work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            await self._record(departed, started, error=_interrupted())
        except GatewayError as exc:
            await self._record(departed, started, error=exc)
        except Exception:  # a bug: logged with its traceback; nobody else would see it
            log.exception(
                "a departed client's call failed unexpectedly",
                extra={"fields": {"request_id": departed.request_id}},
            )
        else:
            await self._record(departed, started, generation=generation)

    async def _record(
        self,
        departed: SyncRun,
        started: datetime,
        *,
        generation: Generation | None = None,
        error: GatewayError | None = None,
    ) -> None:
        new = NewJob(
            owner=owner_of(departed.client),
            user_id=departed.body.user_id or departed.body.user,
            kind=departed.kind,
            request=departed.body.model_dump(mode="json", exclude_none=True),
            inputs=None,  # finished: never run again
            public_base_url=departed.public_base_url,
            webhook_url=None,
            webhook_secret=None,
            idempotency_key=None,
            request_hash=None,
            request_id=departed.request_id,
        )
        try:
            if generation is not None:
                result = await self.service.store_result(generation, departed.body)
                job = await self.store.record(new, "succeeded", started_at=started, result=result)
            else:
                assert error is not None
                body: dict[str, Any] = {
                    "status": error.status_code,
                    "body": error_body(error, new.request_id),
                }
                if error.attribution is not None:  # who it failed at, as the worker keeps it
                    body["provider"], body["model"] = error.attribution
                job = await self.store.record(new, "failed", started_at=started, error=body)
        except Exception:  # the store is down: the ledger row (dispatcher) is all that is left
            log.exception(
                "keeping a departed client's result failed",
                extra={"fields": {"request_id": departed.request_id}},
            )
            return
        log.info(
            "departed client's request finished",
            extra={
                "fields": {"request_id": new.request_id, "job_id": job.id, "status": job.status}
            },
        )


def _interrupted() -> UpstreamError:
    return UpstreamError(
        "the gateway stopped before the provider finished this call; it may have been charged",
        code=INTERRUPTED,
        billed_unknown=True,
        outage=False,
    )
