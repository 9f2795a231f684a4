"""Asynchronous jobs: `/v1/jobs` (list, read, cancel, watch as Server-Sent Events). How an image
request becomes a job (`Prefer: respond-async`, `Idempotency-Key`) is `api/answer.py`'s."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from image_gateway.api.answer import unless_client_leaves
from image_gateway.api.deps import ClientDep, JobServiceDep, SettingsDep
from image_gateway.api.middleware import header_list
from image_gateway.api.openapi import error_responses
from image_gateway.errors import InvalidRequest, NotFound
from image_gateway.jobs.pacing import (
    RETRY_AFTER_HEADER,
    WAIT_MAX_SECONDS,
    preferred_wait,
    retry_after_header,
)
from image_gateway.jobs.rows import JobRow

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

STATUSES = ("queued", "running", "succeeded", "failed", "canceled")
SSE_KEEPALIVE_SECONDS = 15.0
SSE_MAX_SECONDS = 15 * 60.0  # then the stream ends; EventSource reconnects by itself
# A stream opened this soon after its job ended still sends the previews (a reconnect).
PARTIALS_AFTER_END_SECONDS = 60.0


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status, headers, media_type="application/json")


@router.get("")
async def list_jobs(
    client: ClientDep,
    service: JobServiceDep,
    status: Annotated[str | None, Query()] = None,
    user_id: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """This key's jobs, newest first (`after` = the previous page's `next_cursor`)."""
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}", param="status")
    rows = await service.page(
        client,
        status=status,
        user_id=user_id,
        limit=limit + 1,
        before=_decode_cursor(after),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    data = [await service.view(row, with_result=False) for row in rows]
    cursor = _encode_cursor(rows[-1]) if more and rows else None
    return _json({"object": "list", "data": data, "has_more": more, "next_cursor": cursor})


# `Prefer: wait=N` on `GET /v1/jobs/{id}`, as an OpenAPI parameter.
WAIT_PARAMETER: dict[str, Any] = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "`wait=N` (RFC 7240): while the job is queued or running, answer when it "
    f"ends or after N seconds (at most {WAIT_MAX_SECONDS}), whichever comes first; the answer "
    "says `Preference-Applied: wait=N` with the seconds applied.",
}


@router.get(
    "/{job_id}",
    responses={
        200: {
            "headers": {
                "Retry-After": RETRY_AFTER_HEADER,
                "Preference-Applied": {
                    "schema": {"type": "string"},
                    "description": "`wait=N` when the request preferred to wait",
                },
            }
        },
        **error_responses(NotFound),
    },
    openapi_extra={"parameters": [WAIT_PARAMETER]},
)
async def get_job(
    job_id: str, request: Request, client: ClientDep, service: JobServiceDep
) -> Response:
    """The job; while it is queued or running, `Retry-After` says when to ask again
    (`jobs/pacing.py`). With `Prefer: wait=N`, a queued or running job is answered when it
    ends, or after N seconds as it is then; a client that leaves meanwhile ends the wait."""
    job = await service.get(job_id, client)
    headers = {}
    prefer = header_list(request.scope, b"prefer")
    wait = preferred_wait(prefer) if prefer else None
    if wait is not None:
        headers["Preference-Applied"] = f"wait={wait}"
        if wait > 0 and not job.terminal:  # a client that leaves meanwhile is logged as 499
            job = await unless_client_leaves(service.watch(job, client, wait), request.receive)
    headers |= retry_after_header(job, time.time())
    return _json(await service.view(job), headers=headers)


@router.post("/{job_id}/cancel", responses=error_responses(NotFound))
async def cancel_job(job_id: str, client: ClientDep, service: JobServiceDep) -> Response:
    """A queued job is canceled at once; a running one as soon as its worker notices (its
    provider may already have charged for it)."""
    job = await service.cancel(job_id, client)  # 404 for another key's job
    return _json(await service.view(job, with_result=False))


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **error_responses(NotFound)},
)
async def job_events(
    job_id: str,
    request: Request,
    client: ClientDep,
    service: JobServiceDep,
    settings: SettingsDep,
) -> StreamingResponse:
    """Server-Sent Events: `status` on every change of status, `progress` as a running job's
    provider calls report it, `partial_image` as each arrives, then `result` (the whole job)
    at the end."""
    await service.get(job_id, client)
    poll = settings.sse_poll_seconds

    async def events() -> AsyncIterator[bytes]:
        last: tuple[Any, ...] | None = None
        last_progress: dict[str, Any] | None = None
        sent: set[str] = set()  # the partial images already sent (their image ids)
        saw_it_run = False  # this stream saw the job before its end
        started = time.monotonic()
        quiet_since = started
        while time.monotonic() - started < SSE_MAX_SECONDS:
            job = await service.find(job_id, client)
            if job is None:
                return
            now = (job.status, job["attempts"])
            if now != last:
                last, quiet_since = now, time.monotonic()
                status = {"id": job.id, "status": job.status, "progress": job["progress"]}
                yield _event("status", status)
            progress = _progress(job)
            if progress is not None and progress != last_progress:
                last_progress, quiet_since = progress, time.monotonic()
                yield _event("progress", progress)
            # A job's previews, also those that came in its last poll interval: a job that
            # ended keeps them (`JobJournal.forget_partials`), sent before its result to a
            # watcher that saw it run or reconnects soon after its end.
            if not job.terminal:
                saw_it_run = True
            partials = (job["activity"] or {}).get("partials", [])
            if job.terminal and not (saw_it_run or _ended_within(job, PARTIALS_AFTER_END_SECONDS)):
                partials = []
            for ref in partials:
                if ref["image_id"] not in sent:
                    sent.add(ref["image_id"])
                    partial = await service.partial_image(job, ref)
                    if partial is not None:  # gone: past the image store's retention
                        quiet_since = time.monotonic()
                        yield _event("partial_image", partial)
            if job.terminal:
                yield _event("result", await service.view(job))
                return
            if time.monotonic() - quiet_since > SSE_KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield b": keep-alive\n\n"
            if await request.is_disconnected():
                return
            await asyncio.sleep(poll)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _progress(job: JobRow) -> dict[str, Any] | None:
    """A running job's `progress` event (`jobs/activity.py`), once a call reported a fraction,
    a status word or a queue position; None otherwise."""
    activity = job["activity"] or {}
    fields = {
        "progress": job["progress"],
        "provider_status": activity.get("provider_status"),
        "queue_position": activity.get("queue_position"),
    }
    # Nothing to say yet (a run with partial images only): no event.
    if job.status != "running" or all(v is None for v in fields.values()):
        return None
    return {"id": job.id, **fields}


def _ended_within(job: JobRow, seconds: float) -> bool:
    finished = job["finished_at"]
    if finished is None:
        return False
    return bool(time.time() - finished.replace(tzinfo=UTC).timestamp() < seconds)


def _event(name: str, data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _encode_cursor(row: JobRow) -> str:
    text = f"{row['created_at'].replace(tzinfo=UTC).timestamp():.6f}|{row.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, job_id = text.split("|", 1)
        moment = datetime.fromtimestamp(float(stamp), UTC).replace(tzinfo=None)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("after is not a cursor this API returned", param="after") from None
    return moment, job_id
