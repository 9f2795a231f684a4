"""`Idempotency-Key` on the paid POSTs: the same key and body (within the TTL) never generate —
nor pay the provider — twice, even when sent at the same moment; a different body is a 409;
after the TTL the key starts a new job. Counted on the BFL emulator's paid submissions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from tests.conftest import GATEWAY_TEST_KEY, RunningGateway
from tests.jobs.support import (
    ASYNC,
    BFL_BODY,
    LOCAL_BODY,
    bfl_settings,
    db_path,
    submit,
    wait_job,
    write_row,
)

OTHER_KEY = "igw-test-other-client-8c2e4f6a1d"


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def test_async_twice_is_one_job_and_one_submission(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(bfl))
    with gw.client() as http:
        first = submit(http, BFL_BODY, key("order-1"))
        again = submit(http, BFL_BODY, key("order-1"))
        assert again["id"] == first["id"]
        done = wait_job(http, first["id"])
        assert done["status"] == "succeeded"
        after = submit(http, BFL_BODY, key("order-1"))  # finished: still the same job
        assert after["id"] == first["id"] and after["status"] == "succeeded"
        assert len(http.get("/v1/jobs").json()["data"]) == 1
    assert bfl.stats()["submits"] == 1


def test_sync_twice_returns_the_same_images(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(bfl))
    with gw.client() as http:
        first = http.post("/v1/images/generations", json=BFL_BODY, headers=key("sync-1"))
        second = http.post("/v1/images/generations", json=BFL_BODY, headers=key("sync-1"))
    assert first.status_code == second.status_code == 200, first.text
    assert first.json() == second.json()
    assert first.json()["data"][0]["b64_json"] and first.json()["provider"] == "bfl-flux"
    assert bfl.stats()["submits"] == 1


def test_concurrent_requests_with_one_key_pay_once(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(bfl))
    clients = 6
    barrier = threading.Barrier(clients)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def send() -> None:
        with gw.client() as http:
            barrier.wait()
            resp = http.post("/v1/images/generations", json=BFL_BODY, headers=key("race-1"))
        with lock:
            answers.append(resp)

    threads = [threading.Thread(target=send) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r.status_code for r in answers] == [200] * clients, [r.text for r in answers]
    assert len({r.json()["data"][0]["b64_json"] for r in answers}) == 1
    assert len({r.json()["id"] for r in answers}) == 1
    assert bfl.stats()["submits"] == 1


def test_concurrent_async_requests_share_one_job(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(bfl))
    clients = 6
    barrier = threading.Barrier(clients)
    ids: list[str] = []

    def send() -> None:
        with gw.client() as http:
            barrier.wait()
            ids.append(submit(http, BFL_BODY, key("race-async"))["id"])

    threads = [threading.Thread(target=send) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(ids) == clients and len(set(ids)) == 1
    with gw.client() as http:
        assert wait_job(http, ids[0])["status"] == "succeeded"
    assert bfl.stats()["submits"] == 1


def test_same_key_with_a_different_body_is_a_conflict(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gw = start_gateway()
    with gw.client() as http:
        first = submit(http, LOCAL_BODY, key("k-1"))
        for headers in (key("k-1"), {**key("k-1"), **ASYNC}):
            resp = http.post(
                "/v1/images/generations", json={**LOCAL_BODY, "seed": 8}, headers=headers
            )
            assert resp.status_code == 409, resp.text
            error = resp.json()["error"]
            assert error["code"] == "idempotency_key_reused"
            assert error["param"] == "Idempotency-Key"
        assert [j["id"] for j in http.get("/v1/jobs").json()["data"]] == [first["id"]]


def test_a_key_is_scoped_to_its_client(start_gateway: Callable[..., RunningGateway]) -> None:
    gw = start_gateway(gateway_api_keys=[GATEWAY_TEST_KEY, OTHER_KEY])
    with gw.client() as mine, gw.client(key=OTHER_KEY) as theirs:
        a = submit(mine, LOCAL_BODY, key("shared"))
        b = submit(theirs, {**LOCAL_BODY, "seed": 1}, key("shared"))  # no 409: not theirs
        assert a["id"] != b["id"]


def test_invalid_keys_are_refused(start_gateway: Callable[..., RunningGateway]) -> None:
    gw = start_gateway()
    with gw.client() as http:
        for bad in ("", "x" * 257, "has space"):
            resp = http.post("/v1/images/generations", json=LOCAL_BODY, headers=key(bad))
            assert resp.status_code == 400, resp.text
            assert resp.json()["error"]["param"] == "Idempotency-Key"
        assert http.get("/v1/jobs").json()["data"] == []


def test_after_the_ttl_the_key_starts_a_new_job(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(bfl))
    with gw.client() as http:
        first = submit(http, BFL_BODY, key("old"))
        wait_job(http, first["id"])
        write_row(db_path(gw), first["id"], created_at="2020-01-01 00:00:00.000000")
        second = submit(http, BFL_BODY, key("old"))
        assert second["id"] != first["id"]
        wait_job(http, second["id"])
        # Reuse past the TTL with another body is no conflict either: the old use is gone.
        write_row(db_path(gw), second["id"], created_at="2020-01-01 00:00:00.000000")
        third = submit(http, {**BFL_BODY, "prompt": "another"}, key("old"))
        assert third["id"] not in (first["id"], second["id"])
        assert wait_job(http, third["id"])["status"] == "succeeded"
        # The earlier jobs are still there to read.
        assert http.get(f"/v1/jobs/{first['id']}").json()["status"] == "succeeded"
    assert bfl.stats()["submits"] == 3


def test_a_failed_job_is_replayed_with_its_error(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(bfl))
    body = {**BFL_BODY, "prompt": "a fox [error]"}
    with gw.client() as http:
        first = http.post("/v1/images/generations", json=body, headers=key("fails"))
        second = http.post("/v1/images/generations", json=body, headers=key("fails"))
    assert first.status_code == second.status_code == 502
    assert first.json() == second.json()
    assert first.json()["error"]["code"] == "generation_failed"
    assert bfl.stats()["submits"] == 1
