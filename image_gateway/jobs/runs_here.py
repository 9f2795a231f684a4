"""Which jobs this process's worker is running, and a notice when one of those runs ends: what
lets `GET /v1/jobs/{id}` with `Prefer: wait=N` (and a synchronous request with an
Idempotency-Key, `api/answer.py`) answer the moment a job ends instead of re-reading its row.

The worker says `started(id)` when it has claimed a job and `ended(id)` when its run is over,
whatever the outcome (finished, failed, canceled, put back, lease lost, worker stopping); a
queued job canceled here says `ended(id)` too. A waiter reads the row again after a notice: a
run that ended without ending the job (put back, taken over) leaves it waiting as before.

Only in-process: a job run by another process's worker (`RUN_WORKERS=false` here, Redis
workers elsewhere, or a lease another gateway took) is not here, and its waiters re-read its row
at the pacing interval (`jobs/pacing.py`) instead (`JobService.watch`).
"""

from __future__ import annotations

import asyncio


class RunsHere:
    def __init__(self) -> None:
        self._running: set[str] = set()
        self._waiters: dict[str, set[asyncio.Future[bool]]] = {}

    def started(self, job_id: str) -> None:
        self._running.add(job_id)

    def ended(self, job_id: str) -> None:
        """The job's run here is over (or a queued job was canceled): wake its waiters."""
        self._running.discard(job_id)
        for waiter in self._waiters.pop(job_id, ()):
            if not waiter.done():
                waiter.set_result(True)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._running

    async def wait(self, job_id: str, seconds: float) -> bool:
        """Up to `seconds` for `ended(job_id)`: True when it came, False when the time ran out."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        waiters = self._waiters.setdefault(job_id, set())
        waiters.add(waiter)
        timer = loop.call_later(seconds, _time_up, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            waiters.discard(waiter)
            if not waiters and self._waiters.get(job_id) is waiters:
                del self._waiters[job_id]


def _time_up(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)
