"""Job rows: create (with idempotency), read, list, and the lease protocol workers follow.

A worker may run a job only while it holds the job's lease (`lease_owner`, `lease_expires_at`),
taken by a compare-and-set `claim()` and kept by `extend()`. Every write a worker makes checks
that it still holds the lease, so a worker that lost it (paused, partitioned) cannot overwrite
the one that took over. A lease that expires — its worker died — makes the job claimable again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from image_gateway.db.engine import Database
from image_gateway.db.tables import jobs
from image_gateway.db.values import utcnow
from image_gateway.jobs.rows import (
    ACTIVE,
    TERMINAL,
    IdempotencyConflict,
    JobRow,
    NewJob,
    new_job_id,
)

# The statements of every job's life (its insert, every poll, its claim, its journal and
# progress writes, its lease renewals and its end), built once: a statement built per call is
# compiled from SQLAlchemy's cache, but its cache key is computed again each time, which was
# most of a write's cost on SQLite (issue 16's 10,000 jobs). Their values come as execution
# parameters: an insert or update without `.values()` sets the columns the parameters name.
_NOW = bindparam("now", type_=jobs.c.updated_at.type)
_GET = select(jobs).where(jobs.c.id == bindparam("job_id"))
_GET_OWNED = _GET.where(jobs.c.owner == bindparam("owner"))
_INSERT = jobs.insert().returning(*jobs.c)  # the row as stored: no second read per job
_CLAIM = (
    update(jobs)
    .where(
        jobs.c.id == bindparam("job_id"),
        jobs.c.status.in_(ACTIVE),
        or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at < _NOW),
        or_(jobs.c.not_before.is_(None), jobs.c.not_before <= _NOW),
    )
    .values(
        status="running",
        lease_owner=bindparam("worker"),
        lease_expires_at=bindparam("expires", type_=jobs.c.lease_expires_at.type),
        attempts=jobs.c.attempts + 1,
        started_at=func.coalesce(jobs.c.started_at, _NOW),
        updated_at=_NOW,
        not_before=None,
    )
    .returning(*jobs.c)  # the claimed row, in the same statement
)
# Sets the columns its parameters name besides `job_id` and `worker` (`_leased_update`).
_LEASED = update(jobs).where(
    jobs.c.id == bindparam("job_id"), jobs.c.lease_owner == bindparam("worker")
)
_PUT_BACK = _LEASED.values(
    status="queued",
    lease_owner=None,
    lease_expires_at=None,
    not_before=bindparam("due", type_=jobs.c.not_before.type),
    attempts=jobs.c.attempts - 1,  # waiting for a rate limit is not a failed attempt
    updated_at=_NOW,
)
# A heartbeat's lease renewal, which also says whether the job's cancel was asked for.
_EXTEND = (
    update(jobs)
    .where(jobs.c.id == bindparam("job_id"), jobs.c.lease_owner == bindparam("worker"))
    .values(
        lease_expires_at=bindparam("expires", type_=jobs.c.lease_expires_at.type),
        updated_at=_NOW,
    )
    .returning(jobs.c.cancel_requested)
)
_SAVE_ACTIVITY = (
    update(jobs)
    .where(
        jobs.c.id == bindparam("job_id"),
        jobs.c.lease_owner == bindparam("worker"),
        jobs.c.status == "running",
    )
    .values(progress=bindparam("progress"), activity=bindparam("activity"))
)


class JobStore:
    def __init__(self, db: Database, *, idempotency_ttl: timedelta) -> None:
        self.db = db
        self.idempotency_ttl = idempotency_ttl

    async def create(self, new: NewJob) -> tuple[JobRow, bool]:
        """Insert a queued job; with an idempotency key already used (within the TTL) by the
        same owner, return that job instead (`created` False), or raise IdempotencyConflict
        when its request differs."""
        now = utcnow()
        values = {
            "id": new_job_id(),
            "owner": new.owner,
            "user_id": new.user_id,
            "status": "queued",
            "kind": new.kind,
            "request": new.request,
            "inputs": new.inputs,
            "public_base_url": new.public_base_url,
            "webhook_url": new.webhook_url,
            "webhook_secret": new.webhook_secret,
            "idempotency_key": new.idempotency_key,
            "request_hash": new.request_hash,
            "request_id": new.request_id,
            "admission": new.admission,
            "cancel_requested": 0,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for _ in range(3):
            if new.idempotency_key is not None:
                existing = await self._by_idempotency_key(new.owner, new.idempotency_key)
                if existing is not None:
                    if existing["created_at"] >= now - self.idempotency_ttl:
                        if existing["request_hash"] != new.request_hash:
                            raise IdempotencyConflict(existing.id)
                        return existing, False
                    await self._expire_key(existing.id)  # older than the TTL: a new request
            try:
                async with self.db.write() as conn:
                    row = (await conn.execute(_INSERT, values)).one()
            except IntegrityError:
                continue  # a concurrent request with the same key won: return its job
            return JobRow(dict(row._mapping)), True
        raise IdempotencyConflict("concurrent use of the same Idempotency-Key")

    async def record(
        self,
        new: NewJob,
        status: str,
        *,
        started_at: datetime,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> JobRow:
        """Insert a job that has already run to `status` (a terminal one) outside any worker:
        a synchronous request finished after its client left (`jobs/departed.py`). Never
        claimable, never delivered to a webhook."""
        assert status in TERMINAL
        now = utcnow()
        values = {
            "id": new_job_id(),
            "owner": new.owner,
            "user_id": new.user_id,
            "status": status,
            "kind": new.kind,
            "request": new.request,
            "inputs": new.inputs,
            "public_base_url": new.public_base_url,
            "request_id": new.request_id,
            "result": result,
            "error": error,
            "progress": 1.0 if status == "succeeded" else None,
            "cancel_requested": 0,
            "attempts": 1,
            "created_at": started_at,
            "started_at": started_at,
            "updated_at": now,
            "finished_at": now,
        }
        async with self.db.write() as conn:
            await conn.execute(jobs.insert().values(**values))
        return JobRow(values)

    async def create_probe(self, owner: str, key: str, request_hash: str) -> JobRow | None:
        """The job an earlier request with this Idempotency-Key made (within the TTL), so the
        caller can skip storing inputs; IdempotencyConflict when its request differs."""
        existing = await self._by_idempotency_key(owner, key)
        if existing is None or existing["created_at"] < utcnow() - self.idempotency_ttl:
            return None
        if existing["request_hash"] != request_hash:
            raise IdempotencyConflict(existing.id)
        return existing

    async def _by_idempotency_key(self, owner: str, key: str) -> JobRow | None:
        query = select(jobs).where(jobs.c.owner == owner, jobs.c.idempotency_key == key)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else JobRow(dict(row._mapping))

    async def _expire_key(self, job_id: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(update(jobs).where(jobs.c.id == job_id).values(idempotency_key=None))

    async def get(self, job_id: str, owner: str | None = None) -> JobRow | None:
        query, params = (_GET, {"job_id": job_id})
        if owner is not None:
            query, params = (_GET_OWNED, {"job_id": job_id, "owner": owner})
        async with self.db.read() as conn:
            row = (await conn.execute(query, params)).first()
        return None if row is None else JobRow(dict(row._mapping))

    async def page(
        self,
        owner: str | None,
        *,
        status: str | None,
        user_id: str | None,
        limit: int,
        before: tuple[datetime, str] | None,
    ) -> list[JobRow]:
        """Newest first; `before` is the (created_at, id) of the last row of the previous page."""
        query = select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
        if owner is not None:
            query = query.where(jobs.c.owner == owner)
        if status is not None:
            query = query.where(jobs.c.status == status)
        if user_id is not None:
            query = query.where(jobs.c.user_id == user_id)
        if before is not None:
            at, job_id = before
            query = query.where(
                or_(jobs.c.created_at < at, and_(jobs.c.created_at == at, jobs.c.id < job_id))
            )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [JobRow(dict(row._mapping)) for row in rows]

    async def claim(self, job_id: str, worker: str, lease_seconds: float) -> JobRow | None:
        """Take the lease on a job that is queued, or running under an expired lease."""
        now = utcnow()
        expires = now + timedelta(seconds=lease_seconds)
        params = {"job_id": job_id, "worker": worker, "now": now, "expires": expires}
        async with self.db.write() as conn:
            row = (await conn.execute(_CLAIM, params)).first()
        return None if row is None else JobRow(dict(row._mapping))

    async def _leased_update(self, job_id: str, worker: str, **values: Any) -> bool:
        """Set `values` (column → value) on the job while `worker` holds its lease."""
        params = {"job_id": job_id, "worker": worker, **values, "updated_at": utcnow()}
        async with self.db.write() as conn:
            result = await conn.execute(_LEASED, params)
        return bool(result.rowcount == 1)

    async def extend(self, job_id: str, worker: str, lease_seconds: float) -> bool | None:
        """Renew `worker`'s lease on the job: None when it no longer holds it, else whether
        the job's cancel was asked for (one statement, where a renewal and a read were two)."""
        now = utcnow()
        expires = now + timedelta(seconds=lease_seconds)
        params = {"job_id": job_id, "worker": worker, "now": now, "expires": expires}
        async with self.db.write() as conn:
            row = (await conn.execute(_EXTEND, params)).first()
        return None if row is None else bool(row[0])

    async def save_journal(self, job_id: str, worker: str, journal: dict[str, Any]) -> bool:
        return await self._leased_update(job_id, worker, journal=journal)

    async def save_activity(
        self, job_id: str, worker: str, progress: float | None, activity: dict[str, Any]
    ) -> bool:
        """What the job's calls reported (`jobs/activity.py`), while this worker holds the
        lease and the job runs. One narrow update: `updated_at` is left alone (the sweeper
        reads it of queued jobs only, and a watcher compares the columns themselves)."""
        params = {"job_id": job_id, "worker": worker, "progress": progress, "activity": activity}
        async with self.db.write() as conn:
            result = await conn.execute(_SAVE_ACTIVITY, params)
        return bool(result.rowcount == 1)

    async def finish(
        self,
        job_id: str,
        worker: str,
        status: str,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        webhook_due: bool = False,
    ) -> bool:
        now = utcnow()
        return await self._leased_update(
            job_id,
            worker,
            status=status,
            result=result,
            error=error,
            finished_at=now,
            lease_owner=None,
            lease_expires_at=None,
            progress=1.0 if status == "succeeded" else None,
            webhook_next_at=now if webhook_due else None,
        )

    async def put_back(self, job_id: str, worker: str, delay_seconds: float) -> bool:
        """Release the lease; the job runs again after the delay (e.g. a key's rate limit)."""
        now = utcnow()
        due = now + timedelta(seconds=delay_seconds)
        params = {"job_id": job_id, "worker": worker, "now": now, "due": due}
        async with self.db.write() as conn:
            result = await conn.execute(_PUT_BACK, params)
        return bool(result.rowcount == 1)

    async def release_leases(self, worker: str) -> None:
        """A stopping worker gives its running jobs back (they resume from their journal)."""
        async with self.db.write() as conn:
            await conn.execute(
                update(jobs)
                .where(jobs.c.lease_owner == worker, jobs.c.status == "running")
                .values(lease_expires_at=utcnow(), updated_at=utcnow())
            )

    async def request_cancel(self, job_id: str, owner: str | None) -> tuple[JobRow | None, bool]:
        """Cancel a queued job at once; ask the worker of a running job to stop. Returns the
        job and whether this call canceled it while queued (exactly one call does)."""
        now = utcnow()
        where = [jobs.c.id == job_id]
        if owner is not None:
            where.append(jobs.c.owner == owner)
        async with self.db.write() as conn:
            queued = await conn.execute(
                update(jobs)
                .where(*where, jobs.c.status == "queued", jobs.c.lease_owner.is_(None))
                .values(
                    status="canceled",
                    finished_at=now,
                    updated_at=now,
                    # Finished without a worker: its webhook is due now, like any other end.
                    webhook_next_at=case((jobs.c.webhook_url.is_not(None), now), else_=None),
                )
            )
            await conn.execute(
                update(jobs)
                .where(*where, jobs.c.status == "running")
                .values(cancel_requested=1, updated_at=now)
            )
        return await self.get(job_id, owner), queued.rowcount == 1

    async def claimable_ids(self, *, queued_older_than: float, limit: int = 500) -> list[str]:
        """Jobs nobody is running: leases that expired (a dead worker), and queued jobs whose
        wake-up may have been lost (a crash between insert and enqueue)."""
        now = utcnow()
        stale_queue = now - timedelta(seconds=queued_older_than)
        query = (
            select(jobs.c.id)
            .where(
                or_(
                    and_(jobs.c.status == "running", jobs.c.lease_expires_at < now),
                    and_(
                        jobs.c.status == "queued",
                        or_(
                            # put back (a key's rate limit) and now due
                            and_(jobs.c.not_before.is_not(None), jobs.c.not_before <= now),
                            # its wake-up may be lost
                            and_(jobs.c.not_before.is_(None), jobs.c.updated_at < stale_queue),
                        ),
                    ),
                )
            )
            .order_by(jobs.c.created_at)
            .limit(limit)
        )
        async with self.db.read() as conn:
            ids = [row[0] for row in (await conn.execute(query)).all()]
        if ids:
            async with self.db.write() as conn:  # so the next sweep does not re-enqueue them
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.id.in_(ids), jobs.c.status == "queued")
                    .values(updated_at=now, not_before=None)
                )
        return ids

    async def webhooks_due(self, limit: int = 100) -> list[JobRow]:
        query = (
            select(jobs)
            .where(jobs.c.webhook_next_at.is_not(None), jobs.c.webhook_next_at <= utcnow())
            .order_by(jobs.c.webhook_next_at)
            .limit(limit)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [JobRow(dict(row._mapping)) for row in rows]

    async def take_webhook(self, job_id: str, due: datetime, hold_seconds: float) -> bool:
        """Claim one delivery attempt (compare-and-set on the due time), so two instances never
        deliver the same attempt."""
        async with self.db.write() as conn:
            result = await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.webhook_next_at == due)
                .values(webhook_next_at=utcnow() + timedelta(seconds=hold_seconds))
            )
        return bool(result.rowcount == 1)

    async def record_webhook(
        self, job_id: str, state: dict[str, Any], next_at: datetime | None
    ) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(webhook=state, webhook_next_at=next_at, updated_at=utcnow())
            )

    async def delete_finished_before(self, cutoff: datetime) -> int:
        async with self.db.write() as conn:
            result = await conn.execute(
                delete(jobs).where(jobs.c.status.in_(TERMINAL), jobs.c.finished_at < cutoff)
            )
        return int(result.rowcount or 0)
