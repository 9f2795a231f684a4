"""A running job's progress, as its provider reports it: the job row's `progress` follows BFL's
`progress` (throttled: not one write per poll), `/v1/jobs/{id}/events` sends `progress` events
as it moves, on SQLite and on PostgreSQL with the Redis queue; the view the calls' reports make
(`jobs/activity.py`: mean of a fanned-out job's calls, the provider's status word, the queue
position), its throttle and the budget running jobs share, with a clock of the test's own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulators.bfl import BFLEmulator
from image_gateway.jobs.activity import ActivityView, JobActivity, WriteBudget
from tests.conftest import BFL_TEST_KEY, RunningGateway
from tests.jobs.support import BFL_BODY, bfl_settings, submit
from tests.jobs.test_job_events import read_events
from tests.services import REDIS_URL, fresh_postgres, postgres_databases, redis_prefix

__all__ = ["fresh_postgres", "postgres_databases", "redis_prefix"]  # fixtures, for pytest

GENERATION_SECONDS = 3.0
PROGRESS_SECONDS = 0.3


@pytest.fixture(scope="module")
def drawing_bfl() -> Iterator[BFLEmulator]:
    """BFL tasks that take 3 s, reporting `progress` on every poll meanwhile."""
    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=GENERATION_SECONDS) as emulator:
        yield emulator


@pytest.mark.parametrize("stores", ["sqlite", "postgresql+redis"])
def test_progress_follows_bfl_and_is_streamed_as_it_moves(
    start_gateway: Callable[..., RunningGateway],
    drawing_bfl: BFLEmulator,
    stores: str,
    request: pytest.FixtureRequest,
) -> None:
    drawing_bfl.reset()
    overrides: dict[str, Any] = {"job_progress_seconds": PROGRESS_SECONDS}
    if stores == "postgresql+redis":
        overrides.update(
            database_url=request.getfixturevalue("fresh_postgres")(),
            redis_url=REDIS_URL,
            redis_key_prefix=request.getfixturevalue("redis_prefix"),
        )
    gw = start_gateway(**bfl_settings(drawing_bfl, **overrides))
    mid_run: list[dict[str, Any]] = []
    with gw.client() as http:
        job_id = submit(http, BFL_BODY)["id"]
        with http.stream("GET", f"/v1/jobs/{job_id}/events") as resp:
            events = []
            for name, data in read_events(resp.iter_lines()):
                events.append((name, data))
                if name == "progress" and not mid_run:
                    mid_run.append(http.get(f"/v1/jobs/{job_id}").json())
    names = [name for name, _ in events]
    assert names[-1] == "result"
    progress = [data for name, data in events if name == "progress"]
    assert len(progress) >= 3, events
    fractions = [data["progress"] for data in progress]
    assert all(0 < f < 1 for f in fractions) and fractions == sorted(set(fractions))
    assert all(data["id"] == job_id for data in progress)
    assert all(data["queue_position"] is None for data in progress)  # BFL has no queue
    assert all(data["provider_status"] == "Pending" for data in progress)  # BFL's own word
    # The progress events come while the job runs, between its running and succeeded events.
    statuses = [(i, data["status"]) for i, (name, data) in enumerate(events) if name == "status"]
    running = next(i for i, status in statuses if status == "running")
    done = next(i for i, status in statuses if status == "succeeded")
    assert running < names.index("progress") and names.index("progress") + len(progress) <= done
    assert events[done][1]["progress"] == 1
    # GET /v1/jobs/{id} shows it mid-run too: no longer null.
    assert mid_run[0]["status"] == "running" and 0 < mid_run[0]["progress"] < 1
    # Throttled: at most one write per JOB_PROGRESS_SECONDS, though BFL was polled far more.
    polls = drawing_bfl.stats()["polls"]
    assert len(progress) <= GENERATION_SECONDS / PROGRESS_SECONDS + 2 < polls


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_fanned_out_job_shows_the_mean_of_its_calls() -> None:
    activity = JobActivity(0.0, Clock())
    activity.start_call(0)
    activity.start_call(1)
    # A call that has not reported counts 0 in the mean.
    assert activity.report(0, 0.5) == ActivityView(0.25, None, None)
    assert activity.report(1, 0.3) == ActivityView(0.4, None, None)
    assert activity.report(0, 1.0) == ActivityView(0.65, None, None)
    activity.restart()  # a fallback: its calls start again from nothing
    activity.start_call(0)
    assert activity.view() == ActivityView(None, None, None)


def test_a_status_word_and_a_queue_position_are_carried() -> None:
    activity = JobActivity(10.0, Clock())
    activity.start_call(0)
    activity.start_call(1)
    assert activity.report(0, status="IN_QUEUE", queue_position=4) == ActivityView(
        None, "IN_QUEUE", 4
    )
    # The job waits for its last call in the queue; the status is the one furthest behind.
    assert activity.report(1, status="IN_QUEUE", queue_position=7) == ActivityView(
        None, "IN_QUEUE", 7
    )
    assert activity.report(1, 0.2, status="IN_PROGRESS") == ActivityView(0.1, "IN_QUEUE", 4)
    # Out of the queue: a call that reports progress is being drawn.
    assert activity.report(0, 0.1) == ActivityView(0.15, "IN_QUEUE", None)


def test_writes_are_throttled_but_changes_of_status_are_not() -> None:
    clock = Clock()
    activity = JobActivity(1.0, clock)
    activity.start_call(0)
    assert activity.report(0, 0.10) == ActivityView(0.1, None, None)
    clock.now += 0.5
    assert activity.report(0, 0.20) is None  # within a second of the last write
    clock.now += 0.6
    assert activity.report(0, 0.205) == ActivityView(0.205, None, None)  # the held one too
    clock.now += 5
    assert activity.report(0, 0.209) is None  # moved less than a point
    assert activity.report(0, 0.209) is None  # nothing changed
    assert activity.report(0, status="Processing") == ActivityView(0.209, "Processing", None)
    assert activity.report(0, status="Processing") is None


def test_the_running_jobs_share_a_budget_of_writes_a_second() -> None:
    clock = Clock()
    budget = WriteBudget(2.0, clock)  # two writes a second, together
    jobs = [JobActivity(0.0, clock, budget) for _ in range(3)]
    for job in jobs:
        job.start_call(0)
    written = [job.report(0, 0.1) for job in jobs]
    assert written[:2] == [ActivityView(0.1, None, None)] * 2 and written[2] is None
    clock.now += 0.5  # one write's worth came back
    assert jobs[2].report(0, 0.2) == ActivityView(0.2, None, None)  # the held one goes out
    assert jobs[0].report(0, status="Processing") is None  # a change of status waits too
    clock.now += 10  # the budget fills up to one second's worth, not ten
    assert [job.report(0, 0.5) is not None for job in jobs] == [True, True, False]
    assert jobs[0].report(0, 0.6) is None


def test_a_gateway_writes_progress_within_its_budget(
    start_gateway: Callable[..., RunningGateway], drawing_bfl: BFLEmulator
) -> None:
    """Without a per-job interval, two jobs would write nearly every poll (every 0.05-0.1 s);
    a budget of one write a second lets through about one a second, for both together."""
    drawing_bfl.reset()
    settings = bfl_settings(drawing_bfl, job_progress_seconds=0, job_progress_writes_per_second=1)
    gw = start_gateway(**settings)
    with gw.client() as http:
        ids = [submit(http, BFL_BODY)["id"] for _ in range(2)]
        counts = []
        for job_id in ids:
            with http.stream("GET", f"/v1/jobs/{job_id}/events") as resp:
                names = [name for name, _ in read_events(resp.iter_lines())]
            assert names[-1] == "result"
            counts.append(names.count("progress"))
    assert sum(counts) <= GENERATION_SECONDS + 3 < drawing_bfl.stats()["polls"], counts
