"""The jobs API end to end: `Prefer: respond-async` → 202 and a job, polling to its result (in
the synchronous response's shape) or its error (in the error model), listing, isolation between
keys, and cancel — over real sockets, with the local provider and the BFL emulator."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.admin_helpers import ADMIN_TEST_KEY, create_key, revoke_key
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway
from tests.jobs.support import (
    ASYNC,
    BFL_BODY,
    FAST,
    LOCAL_BODY,
    bfl_settings,
    eventually,
    slow_bfl,
    slow_bfl_emulator,
    submit,
    wait_job,
)
from tests.usage_helpers import ledger_rows, wait_rows

__all__ = ["slow_bfl", "slow_bfl_emulator"]  # fixtures, imported for pytest

OTHER_KEY = "igw-test-other-client-8c2e4f6a1d"
JOB_FIELDS = {
    "id",
    "object",
    "status",
    "progress",
    "kind",
    "user_id",
    "created_at",
    "started_at",
    "finished_at",
    "attempts",
    "cancel_requested",
    "status_url",
    "events_url",
    "result",
    "error",
}


def test_async_request_answers_202_with_the_job_at_once(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gw = start_gateway(**FAST)
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={**LOCAL_BODY, "user_id": "u-1"}, headers=ASYNC
        )
        assert resp.status_code == 202, resp.text
        assert resp.headers["preference-applied"] == "respond-async"
        job = resp.json()
        assert set(job) == JOB_FIELDS
        assert job["id"].startswith("job_") and resp.headers["location"] == f"/v1/jobs/{job['id']}"
        assert job["object"] == "image.job" and job["kind"] == "generate"
        assert job["status"] == "queued" and job["result"] is None and job["error"] is None
        assert job["user_id"] == "u-1" and job["cancel_requested"] is False
        assert job["status_url"] == f"{gw.url}/v1/jobs/{job['id']}"
        assert job["events_url"] == f"{gw.url}/v1/jobs/{job['id']}/events"
        assert isinstance(job["created_at"], int)

        done = wait_job(http, job["id"])
        assert done["status"] == "succeeded" and done["attempts"] == 1
        assert done["started_at"] >= done["created_at"] and done["finished_at"] is not None
        assert http.get(resp.headers["location"]).json()["id"] == job["id"]


def test_result_has_the_shape_of_the_synchronous_response(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gw = start_gateway(**FAST)
    body = {**LOCAL_BODY, "n": 2}
    with gw.client() as http:
        sync = http.post("/v1/images/generations", json=body).json()
        job = wait_job(http, submit(http, body)["id"])
    result = job["result"]
    assert set(result) == set(sync)
    assert (result["provider"], result["model"]) == (sync["provider"], sync["model"])
    assert [set(item) for item in result["data"]] == [set(item) for item in sync["data"]]
    # The local renderer is deterministic for a seed: the very same images.
    assert [i["b64_json"] for i in result["data"]] == [i["b64_json"] for i in sync["data"]]
    image = Image.open(io.BytesIO(base64.b64decode(result["data"][0]["b64_json"])))
    assert image.format == "PNG" and image.size == (64, 64)


def test_result_as_urls(start_gateway: Callable[..., RunningGateway]) -> None:
    gw = start_gateway(**FAST)
    body = {**LOCAL_BODY, "response_format": "url"}
    with gw.client() as http:
        sync = http.post("/v1/images/generations", json=body).json()
        job = wait_job(http, submit(http, body)["id"])
        item = job["result"]["data"][0]
        assert set(item) == set(sync["data"][0]) and "b64_json" not in item
        assert item["url"].startswith(gw.url + "/v1/images/files/")
        image = http.get(item["url"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG")


def test_an_edit_runs_as_a_job(start_gateway: Callable[..., RunningGateway]) -> None:
    gw = start_gateway(**FAST)
    png = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(png, "PNG")
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "make it blue", "size": "64x64"},
            files={"image": ("in.png", png.getvalue(), "image/png")},
            headers=ASYNC,
        )
        assert resp.status_code == 202, resp.text
        assert resp.json()["kind"] == "edit"
        job = wait_job(http, resp.json()["id"])
    assert job["status"] == "succeeded", job
    assert len(job["result"]["data"]) == 1


@pytest.mark.parametrize(
    ("prompt", "code", "status"),
    [
        ("a fox [error]", "generation_failed", 502),
        ("a fox [moderate-content]", "content_policy_violation", 400),
    ],
)
def test_a_failed_job_carries_the_error_model(
    start_gateway: Callable[..., RunningGateway], bfl: Any, prompt: str, code: str, status: int
) -> None:
    gw = start_gateway(**bfl_settings(bfl))
    body = {**BFL_BODY, "prompt": prompt}
    with gw.client() as http:
        sync = http.post("/v1/images/generations", json=body)
        job = wait_job(http, submit(http, body)["id"])
    assert sync.status_code == status
    assert job["status"] == "failed" and job["result"] is None
    error = job["error"]["error"]
    assert set(error) == set(sync.json()["error"])
    assert error["code"] == sync.json()["error"]["code"] == code
    assert error["provider"] == "bfl-flux" and error["request_id"].startswith("req_")
    assert bfl.stats()["submits"] == 2  # the sync request and the job: one each


def test_bad_requests_are_refused_before_any_job(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gw = start_gateway(**FAST)
    with gw.client() as http:
        bad = http.post(
            "/v1/images/generations", json={"prompt": "x", "size": "7x7"}, headers=ASYNC
        )
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "size"
        unknown = http.post(
            "/v1/images/generations", json={"prompt": "x", "model": "nope"}, headers=ASYNC
        )
        assert unknown.status_code in (400, 404), unknown.text
        assert http.get("/v1/jobs").json()["data"] == []
        missing = http.get("/v1/jobs/job_000000000000000000000000")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "job_not_found"
        assert http.get("/v1/jobs", params={"status": "done"}).status_code == 400
        assert http.get("/v1/jobs", params={"after": "!!not-a-cursor"}).status_code == 400
        assert http.get("/v1/jobs", params={"limit": 0}).status_code == 400
    with gw.client(key=None) as anonymous:
        assert anonymous.get("/v1/jobs").status_code == 401


def test_list_pages_newest_first_and_filters(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(bfl))
    with gw.client() as http:
        ids = []
        for i in range(5):
            user = "alice" if i % 2 == 0 else "bob"
            ids.append(submit(http, {**LOCAL_BODY, "user_id": user, "seed": i})["id"])
        failing = {**BFL_BODY, "prompt": "a fox [error]", "user_id": "bob"}  # fails upstream
        ids.append(submit(http, failing)["id"])
        for job_id in ids:
            wait_job(http, job_id)

        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["after"] = cursor
            page = http.get("/v1/jobs", params=params).json()
            pages += 1
            assert page["object"] == "list" and len(page["data"]) <= 2
            assert all(job["result"] is None for job in page["data"])  # lists stay small
            seen += [job["id"] for job in page["data"]]
            cursor = page["next_cursor"]
            assert page["has_more"] == (cursor is not None)
            if cursor is None:
                break
        assert pages == 3 and seen == list(reversed(ids))

        def listed(**params: Any) -> list[str]:
            return [job["id"] for job in http.get("/v1/jobs", params=params).json()["data"]]

        assert listed(user_id="alice") == [ids[4], ids[2], ids[0]]
        assert listed(user_id="bob") == [ids[5], ids[3], ids[1]]
        assert listed(status="failed") == [ids[5]]
        assert listed(status="succeeded", user_id="bob") == [ids[3], ids[1]]
        assert listed(status="queued") == []
        assert listed(user_id="carol") == []


def test_each_key_sees_only_its_own_jobs(start_gateway: Callable[..., RunningGateway]) -> None:
    gw = start_gateway(**FAST, gateway_api_keys=[GATEWAY_TEST_KEY, OTHER_KEY])
    with gw.client() as mine, gw.client(key=OTHER_KEY) as theirs:
        my_job = submit(mine, LOCAL_BODY)["id"]
        their_job = submit(theirs, {**LOCAL_BODY, "seed": 99})["id"]
        wait_job(mine, my_job)
        wait_job(theirs, their_job)
        assert [j["id"] for j in mine.get("/v1/jobs").json()["data"]] == [my_job]
        assert [j["id"] for j in theirs.get("/v1/jobs").json()["data"]] == [their_job]
        for path in (f"/v1/jobs/{their_job}", f"/v1/jobs/{their_job}/events"):
            resp = mine.get(path)
            assert resp.status_code == 404 and resp.json()["error"]["code"] == "job_not_found"
        resp = mine.post(f"/v1/jobs/{their_job}/cancel")
        assert resp.status_code == 404
        assert theirs.get(f"/v1/jobs/{their_job}").json()["status"] == "succeeded"


def test_cancel_a_queued_job_and_a_running_one(
    start_gateway: Callable[..., RunningGateway], slow_bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(slow_bfl, worker_concurrency=1))
    with gw.client() as http:
        running = submit(http, BFL_BODY)["id"]
        queued = submit(http, {**BFL_BODY, "prompt": "behind"})["id"]
        wait_job(http, running, until=("running",))
        eventually(lambda: slow_bfl.stats()["submits"] == 1)
        assert http.get(f"/v1/jobs/{queued}").json()["status"] == "queued"

        resp = http.post(f"/v1/jobs/{queued}/cancel")
        assert resp.status_code == 200
        assert resp.json()["status"] == "canceled" and resp.json()["finished_at"] is not None

        resp = http.post(f"/v1/jobs/{running}/cancel")
        assert resp.status_code == 200
        assert resp.json()["status"] == "running" and resp.json()["cancel_requested"] is True
        canceled = wait_job(http, running, timeout=3)  # noticed at the next heartbeat
        assert canceled["status"] == "canceled" and canceled["result"] is None

        # Canceling again changes nothing; the worker never runs the canceled queued job.
        assert http.post(f"/v1/jobs/{queued}/cancel").json()["status"] == "canceled"
        later = submit(http, {**BFL_BODY, "prompt": "after"})["id"]
        assert wait_job(http, later, timeout=10)["status"] == "succeeded"
        assert http.get(f"/v1/jobs/{queued}").json()["status"] == "canceled"
    assert slow_bfl.stats()["submits"] == 2  # the canceled running job and the last one


def test_a_job_canceled_after_its_call_was_accepted_stays_in_the_ledger(
    start_gateway: Callable[..., RunningGateway], slow_bfl: Any
) -> None:
    """Canceling a running job stops the gateway waiting, not BFL working (or charging): the
    accepted task is an outcome-unknown call at its estimated cost in /v1/usage."""
    gw = start_gateway(**bfl_settings(slow_bfl, admin_api_key=ADMIN_TEST_KEY))
    with gw.client() as http:
        running = submit(http, BFL_BODY)["id"]
        eventually(lambda: slow_bfl.stats()["submits"] == 1)
        assert http.post(f"/v1/jobs/{running}/cancel").status_code == 200
        assert wait_job(http, running, timeout=3)["status"] == "canceled"
    totals = wait_rows(gw, 1)["totals"]
    assert (totals["requests"], totals["outcome_unknown"], totals["failed"]) == (1, 1, 0), totals
    assert totals["cost_usd"] == totals["outcome_unknown_cost_usd"] > 0, totals
    [row] = ledger_rows(gw)
    assert (row["status"], row["error_code"]) == ("unknown", "job_canceled")


def test_a_finished_job_cannot_be_canceled(start_gateway: Callable[..., RunningGateway]) -> None:
    gw = start_gateway(**FAST)
    with gw.client() as http:
        job_id = wait_job(http, submit(http, LOCAL_BODY)["id"])["id"]
        resp = http.post(f"/v1/jobs/{job_id}/cancel")
        assert resp.status_code == 200, resp.text
        job = http.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "succeeded" and job["result"] is not None


def test_stored_keys_see_their_own_jobs_and_the_admin_sees_all(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gw = start_gateway(**FAST, admin_api_key=ADMIN_TEST_KEY, run_workers=False)
    created = create_key(gw, name="alice")
    alice, bob = created["key"], create_key(gw, name="bob")["key"]
    with gw.client(key=alice) as http:
        kept = submit(http, LOCAL_BODY)["id"]
        orphaned = submit(http, {**LOCAL_BODY, "seed": 1})["id"]
    with gw.client(key=bob) as http:
        assert http.get("/v1/jobs").json()["data"] == []
        assert http.get(f"/v1/jobs/{kept}").status_code == 404
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        assert {j["id"] for j in admin.get("/v1/jobs").json()["data"]} == {kept, orphaned}
        assert admin.get(f"/v1/jobs/{kept}").status_code == 200
    revoke_key(gw, created["id"])

    start_gateway(**FAST, admin_api_key=ADMIN_TEST_KEY)  # a worker on the same database
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        job = wait_job(admin, orphaned)
    # The key that submitted it was revoked while it waited: it does not run.
    assert job["status"] == "failed" and job["error"]["error"]["type"] == "authentication_error"


def test_a_job_whose_images_expired_is_still_readable(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gw = start_gateway(**FAST)
    with gw.client() as http:
        job_id = wait_job(http, submit(http, LOCAL_BODY)["id"])["id"]
        for path in Path(gw.settings.image_store_dir).rglob("*"):
            if path.is_file():
                path.unlink()  # what IMAGE_RETENTION_HOURS does
        resp = http.get(f"/v1/jobs/{job_id}")
    assert resp.status_code == 200, resp.text
    job = resp.json()
    assert job["status"] == "succeeded" and job["result"] is None and job["result_expired"]


def test_a_job_needs_the_scope_of_its_request(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gw = start_gateway(**FAST, admin_api_key=ADMIN_TEST_KEY)
    generate_only = create_key(gw, name="gen", scopes=["generate"])["key"]
    usage_only = create_key(gw, name="usage", scopes=["usage"])["key"]
    png = io.BytesIO()
    Image.new("RGB", (64, 64)).save(png, "PNG")
    with gw.client(key=generate_only) as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p"},
            files={"image": ("in.png", png.getvalue(), "image/png")},
            headers=ASYNC,
        )
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "missing_scope"
        assert http.get("/v1/jobs").json()["data"] == []
    with gw.client(key=usage_only) as http:
        resp = http.post("/v1/images/generations", json=LOCAL_BODY, headers=ASYNC)
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "missing_scope"
    with gw.client(key=ADMIN_TEST_KEY) as admin:  # the admin key manages, it cannot generate
        resp = admin.post("/v1/images/generations", json=LOCAL_BODY, headers=ASYNC)
        assert resp.status_code == 403
        assert admin.get("/v1/jobs").json()["data"] == []


def test_a_job_not_yet_ended_says_when_to_poll_again(
    start_gateway: Callable[..., RunningGateway], slow_bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(slow_bfl))
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=BFL_BODY, headers=ASYNC)
        assert resp.status_code == 202, resp.text
        assert resp.headers["retry-after"] == "1"  # just submitted: the shortest wait
        job_id = resp.json()["id"]
        running = wait_job(http, job_id, until=("running",))
        assert running["status"] == "running"
        resp = http.get(f"/v1/jobs/{job_id}")
        if resp.json()["status"] == "running":  # not ended in between
            assert 1 <= int(resp.headers["retry-after"]) <= 10
        done = wait_job(http, job_id)
        assert done["status"] == "succeeded"
        resp = http.get(f"/v1/jobs/{job_id}")
        assert resp.status_code == 200 and "retry-after" not in resp.headers
