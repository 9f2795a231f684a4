"""Call journals and the job store's lease: `submit_once` runs a paid submission at most once
across restarts, and `JobJournal` writes a job's journal only while its worker holds the lease
(a real SQLite store, migrated from empty)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from image_gateway.db.engine import Database
from image_gateway.db.migrate import upgrade
from image_gateway.errors import InvalidRequest, UpstreamError
from image_gateway.jobs.store import JobStore, NewJob
from image_gateway.jobs.worker import JobJournal, LeaseLost
from image_gateway.providers.kit.journal import (
    NO_JOURNAL,
    CallJournal,
    RequestJournal,
    submit_once,
)


class Saved:
    """A journal's storage: what was written, in order."""

    def __init__(self) -> None:
        self.writes: list[dict[str, Any] | None] = []

    async def __call__(self, state: dict[str, Any] | None) -> None:
        self.writes.append(state)


async def test_submit_once_journals_before_it_submits() -> None:
    saved = Saved()
    journal = CallJournal(None, saved)

    async def submit() -> str:
        assert saved.writes == [{"phase": "submitting"}]  # written before the paid call
        return "task-1"

    assert await submit_once(journal, "bfl-flux", submit) == "task-1"
    assert journal.state == {"phase": "submitting"}


async def test_submit_once_refuses_to_submit_again_after_an_unknown_outcome() -> None:
    calls = 0

    async def submit() -> str:
        nonlocal calls
        calls += 1
        return "task"

    journal = CallJournal({"phase": "submitting"}, Saved())
    with pytest.raises(UpstreamError) as caught:
        await submit_once(journal, "bfl-flux", submit)
    assert caught.value.code == "interrupted" and caught.value.billed_unknown
    assert not caught.value.outage and caught.value.provider == "bfl-flux"
    assert calls == 0


async def test_a_refused_submission_clears_the_journal_an_unknown_one_keeps_it() -> None:
    saved = Saved()
    journal = CallJournal(None, saved)

    async def refused() -> str:
        raise InvalidRequest("bad prompt")

    with pytest.raises(InvalidRequest):
        await submit_once(journal, "bfl-flux", refused)
    assert journal.state is None and saved.writes == [{"phase": "submitting"}, None]

    async def cut_off() -> str:
        raise UpstreamError("connection reset", billed_unknown=True)

    with pytest.raises(UpstreamError):
        await submit_once(journal, "bfl-flux", cut_off)
    assert journal.state == {"phase": "submitting"}  # maybe accepted: never sent again


async def test_the_refusal_says_whether_a_restart_or_this_request_left_it_submitting() -> None:
    """A state found in a journal an earlier run left blames the restart; a second try of a
    call this request already sent (a synchronous request's journal) says so instead."""

    async def never() -> str:
        raise AssertionError("sent again")

    async def cut_off() -> str:
        raise UpstreamError("connection reset", billed_unknown=True)

    resumed = CallJournal({"phase": "submitting"}, Saved())
    with pytest.raises(UpstreamError) as caught:
        await submit_once(resumed, "bfl-flux", never)
    assert "before this job was resumed" in caught.value.message

    request = RequestJournal().call(0, 0)
    with pytest.raises(UpstreamError):
        await submit_once(request, "openai", cut_off)
    with pytest.raises(UpstreamError) as caught:
        await submit_once(request, "openai", never)
    assert caught.value.code == "interrupted" and caught.value.billed_unknown
    assert "on an earlier try in this request" in caught.value.message
    assert "restart" not in caught.value.message and "resumed" not in caught.value.message


async def test_synchronous_requests_keep_no_journal() -> None:
    async def submit() -> int:
        return 1

    assert await submit_once(NO_JOURNAL, "x", submit) == 1
    assert await submit_once(NO_JOURNAL, "x", submit) == 1  # nothing remembered
    assert NO_JOURNAL.state is None


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/journal.db")
    db.prepare()
    await upgrade(db)
    yield JobStore(db, idempotency_ttl=timedelta(hours=24))
    await db.close()


async def new_job(store: JobStore) -> str:
    job, created = await store.create(
        NewJob(
            owner="env:key-1",
            user_id=None,
            kind="generate",
            request={"prompt": "p"},
            inputs=None,
            public_base_url="http://gw",
            webhook_url=None,
            webhook_secret=None,
            idempotency_key=None,
            request_hash=None,
            request_id=None,
        )
    )
    assert created
    return job.id


async def test_job_journal_persists_each_call_while_leased(store: JobStore) -> None:
    job_id = await new_job(store)
    claimed = await store.claim(job_id, "w1", 30)
    assert claimed is not None and claimed["journal"] is None
    journal = JobJournal(store, job_id, "w1", claimed["journal"])
    assert journal.resume_from == 0
    await journal.entering(0)
    await journal.call(0, 0).save({"phase": "submitting"})
    await journal.call(0, 1).save({"phase": "submitted", "task_id": "t-1"})
    row = await store.get(job_id)
    assert row is not None
    assert row["journal"] == {
        "candidate": 0,
        "calls": {"0": {"phase": "submitting"}, "1": {"phase": "submitted", "task_id": "t-1"}},
    }
    await journal.call(0, 0).save(None)  # refused upstream: a later try may submit
    row = await store.get(job_id)
    assert row is not None and row["journal"]["calls"] == {
        "1": {"phase": "submitted", "task_id": "t-1"}
    }


async def test_a_job_journal_tells_what_an_earlier_run_left_from_what_this_run_wrote(
    store: JobStore,
) -> None:
    job_id = await new_job(store)
    assert await store.claim(job_id, "w1", 30) is not None
    left = {"candidate": 0, "calls": {"0": {"phase": "submitting"}}}
    journal = JobJournal(store, job_id, "w1", left)
    assert journal.call(0, 0).inherited  # a dead worker's: the refusal blames the restart
    assert not journal.call(0, 1).inherited
    await journal.call(0, 1).save({"phase": "submitting"})
    assert not journal.call(0, 1).inherited  # this run's own try
    await journal.call(0, 0).save({"phase": "submitting"})
    assert not journal.call(0, 0).inherited


async def test_a_fallback_starts_a_fresh_set_of_calls(store: JobStore) -> None:
    job_id = await new_job(store)
    assert await store.claim(job_id, "w1", 30) is not None
    journal = JobJournal(store, job_id, "w1", None)
    await journal.call(0, 0).save({"phase": "submitting"})
    await journal.entering(1)
    row = await store.get(job_id)
    assert row is not None and row["journal"] == {"candidate": 1, "calls": {}}
    resumed = JobJournal(store, job_id, "w1", row["journal"])
    assert resumed.resume_from == 1  # candidate 0 failed before the restart: not tried again


async def test_a_resumed_worker_sees_the_handle_and_the_old_one_is_locked_out(
    store: JobStore,
) -> None:
    job_id = await new_job(store)
    assert await store.claim(job_id, "w1", 30) is not None
    old = JobJournal(store, job_id, "w1", None)
    handle = {"phase": "submitted", "task_id": "t-9", "polling_url": "http://bfl/poll"}
    await old.call(0, 0).save(handle)

    assert await store.claim(job_id, "w2", 30) is None  # the lease is still w1's
    await store.release_leases("w1")  # w1 stops (or its lease expires)
    claimed = await store.claim(job_id, "w2", 30)
    assert claimed is not None and claimed["attempts"] == 2
    resumed = JobJournal(store, job_id, "w2", claimed["journal"])
    assert resumed.call(0, 0).state == handle

    with pytest.raises(LeaseLost):  # w1 woke up late: it may not overwrite w2's journal
        await old.call(0, 0).save({"phase": "submitting"})
    assert not await store.finish(job_id, "w1", "succeeded", result={})
    assert await store.finish(job_id, "w2", "failed", error={"status": 502, "body": {}})
    row = await store.get(job_id)
    assert row is not None and row.status == "failed" and row["journal"]["calls"]["0"] == handle
    assert await store.claim(job_id, "w3", 30) is None  # finished jobs are never run again
