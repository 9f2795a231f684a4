"""Departed clients: a synchronous client that leaves stops what has not been paid for, and
what has been paid for finishes in the background without holding a slot or a shutdown
longer than it must (`api/answer.py`, `jobs/departed.py`, `providers/journal.py`).

Clients are raw sockets that send a whole request and close at a chosen moment; the BFL
emulator's tasks take GEN seconds, and its counters show what was submitted.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from emulators.bfl import BFLEmulator
from tests.admin_helpers import ADMIN_TEST_KEY
from tests.conftest import (
    BFL_TEST_KEY,
    GATEWAY_TEST_KEY,
    OPENAI_TEST_KEY,
    LogCapture,
    OpenAIEmulatorHandle,
    RunningGateway,
)
from tests.image_host import ImageHost, make_image
from tests.usage_helpers import usage_totals

GEN = 1.5  # seconds a BFL task takes
ROUTE = "/v1/images/generations"
POOL = 'pool="bfl-flux"'


@pytest.fixture(scope="module")
def slow_bfl() -> Iterator[BFLEmulator]:
    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=GEN) as emulator:
        yield emulator


@pytest.fixture
def bfl(slow_bfl: BFLEmulator) -> Iterator[BFLEmulator]:
    slow_bfl.reset()
    yield slow_bfl
    slow_bfl.state.generation_seconds = GEN


def wired(bfl: BFLEmulator) -> dict[str, Any]:
    """Gateway settings for the emulator: its key, its URL, and its polling listener trusted."""
    return {
        "bfl_api_key": BFL_TEST_KEY,
        "bfl_base_url": bfl.base_url,
        "bfl_trusted_hosts": bfl.poll_base_url,
    }


@pytest.fixture
def gw(start_gateway: Callable[..., RunningGateway], bfl: BFLEmulator) -> RunningGateway:
    return start_gateway(**wired(bfl))


def wait_until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> float:
    """Seconds it took for `check()` to hold."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def metric(gw: RunningGateway, series: str) -> float:
    text = httpx.get(gw.url + "/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def multipart(fields: dict[str, str], files: dict[str, bytes]) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://x", data=fields, files=files)
    return request.read(), request.headers["content-type"]


class Departing:
    """A raw connection that sends one whole request; `leave()` closes it, unanswered."""

    def __init__(
        self, gw: RunningGateway, path: str, body: bytes, content_type: str, extra: str = ""
    ) -> None:
        self.request_id = f"req-departs-{uuid.uuid4().hex[:12]}"
        self.path = path
        head = (
            f"POST {path} HTTP/1.1\r\nHost: gw\r\nX-API-Key: {GATEWAY_TEST_KEY}\r\n"
            f"X-Request-ID: {self.request_id}\r\nContent-Type: {content_type}\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        host, port = gw.url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.sendall(head + body)

    @classmethod
    def generate(cls, gw: RunningGateway, **body: Any) -> Departing:
        return cls(gw, ROUTE, json.dumps(body).encode(), "application/json")

    def leave(self) -> None:
        self.sock.close()


def ledger(gw: RunningGateway) -> list[dict[str, Any]]:
    path = gw.settings.database_url.get_secret_value().split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM usage ORDER BY id")]


def ledger_row(gw: RunningGateway, request_id: str) -> dict[str, Any]:
    def row() -> dict[str, Any] | None:
        return next((r for r in ledger(gw) if r["request_id"] == request_id), None)

    wait_until(lambda: row() is not None, "the ledger row")
    found = row()
    assert found is not None
    return found


def jobs(gw: RunningGateway) -> list[dict[str, Any]]:
    with gw.client() as http:
        resp = http.get("/v1/jobs")
    assert resp.status_code == 200, resp.text
    data: list[dict[str, Any]] = resp.json()["data"]
    return data


def kept_job(gw: RunningGateway, request_id: str) -> dict[str, Any]:
    """The finished job a departed request became, with its result."""
    wait_until(lambda: any(j["status"] in ("succeeded", "failed") for j in jobs(gw)), "its job")
    [job] = jobs(gw)
    with gw.client() as http:
        found: dict[str, Any] = http.get(f"/v1/jobs/{job['id']}").json()
    assert found["status_url"].endswith(job["id"])
    rows = [r for r in ledger(gw) if r["request_id"] == request_id]
    assert len(rows) == 1  # one ledger row: kept as a job, never run (and charged) again
    return found


def assert_departed_quietly(
    gw: RunningGateway,
    logs: LogCapture,
    route: str = ROUTE,
    *,
    request_id: str | None = None,
    made_by: tuple[str, str] | None = None,
) -> None:
    """The request ended as 499 in metrics and the access log; nothing was logged as an error.
    With `request_id`, its access line names `made_by` (provider, model), or none if None."""
    assert metric(gw, f'igw_http_requests_total{{route="{route}",status="499"}}') >= 1
    access = [json.loads(line) for line in logs.lines if '"image_gateway.access"' in line]
    assert any(line["status"] == 499 for line in access), access
    if request_id is not None:
        [line] = [line for line in access if line["request_id"] == request_id]
        assert line["status"] == 499 and line["path"] == route, line
        assert (line["provider"], line["model"]) == (made_by or (None, None)), line
    errors = [line for line in logs.lines if '"level":"error"' in line]
    assert not errors, errors


# --- the provider has not accepted anything: cancelled, nothing submitted ---------------------


@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
def test_leaving_while_queued_for_a_provider_slot_submits_nothing(
    start_gateway: Callable[..., RunningGateway],
    bfl: BFLEmulator,
    gateway_logs: LogCapture,
    stream: bool,
) -> None:
    """A streaming request (`stream: true`) too: nothing was sent, so it is cancelled."""
    gw = start_gateway(**wired(bfl), provider_concurrency="bfl-flux=1")
    first: list[httpx.Response] = []

    def hold() -> None:
        with gw.client() as http:
            first.append(http.post(ROUTE, json={"model": "flux-dev", "prompt": "holds the slot"}))

    holder = threading.Thread(target=hold)
    holder.start()
    wait_until(lambda: bfl.stats()["submits"] == 1, "the first submission")
    streamed = {"stream": True} if stream else {}
    queued = Departing.generate(gw, model="flux-dev", prompt="leaves while queued", **streamed)
    wait_until(lambda: metric(gw, f"igw_provider_queue_depth{{{POOL}}}") == 1, "the wait")
    queued.leave()
    wait_until(lambda: metric(gw, f"igw_provider_queue_depth{{{POOL}}}") == 0, "the cancel", 2)
    holder.join(30)
    assert first[0].status_code == 200
    time.sleep(0.3)  # a slot is free now: a waiter that was not cancelled would submit
    assert bfl.stats()["submits_by_prompt"] == {"holds the slot": 1}
    row = ledger_row(gw, queued.request_id)
    assert (row["status"], row["error_code"], row["images"]) == (
        "failed",
        "client_closed_request",
        0,
    )
    assert not row["cost_micros"]
    assert jobs(gw) == []  # nothing to keep
    # The pre-flight had chosen the model: the line names it though nothing was sent.
    made_by = ("bfl-flux", "flux-dev")
    assert_departed_quietly(gw, gateway_logs, request_id=queued.request_id, made_by=made_by)


@pytest.mark.parametrize("named_in", ["provider_params", "edit"])
def test_leaving_while_an_input_image_is_fetched_submits_nothing(
    start_gateway: Callable[..., RunningGateway],
    bfl: BFLEmulator,
    image_host: ImageHost,
    gateway_logs: LogCapture,
    named_in: str,
) -> None:
    gw = start_gateway(
        **wired(bfl),
        fetch_allow_hosts=[f"127.0.0.1:{image_host.port}"],
    )
    body: dict[str, Any] = {"model": "flux-kontext-pro", "prompt": "leaves while it drips in"}
    if named_in == "edit":  # fetched by the pre-flight after admission, as the other
        body["images"] = [{"image_url": image_host.url("/drip")}]
        departing = Departing(gw, "/v1/images/edits", json.dumps(body).encode(), "application/json")
    else:
        body["provider_params"] = {"input_image": image_host.url("/drip")}
        departing = Departing.generate(gw, **body)
    wait_until(lambda: "/drip" in image_host.hits, "the fetch")
    departing.leave()
    row = ledger_row(gw, departing.request_id)
    assert (row["status"], row["error_code"]) == ("failed", "client_closed_request")
    assert bfl.stats()["submits"] == 0
    made_by = ("bfl-flux", "flux-kontext-pro")
    assert_departed_quietly(
        gw, gateway_logs, departing.path, request_id=departing.request_id, made_by=made_by
    )


# --- the provider accepted: finished in the background, its cost and images kept --------------


@pytest.mark.parametrize("route", ["generations", "edits"])
def test_an_accepted_call_finishes_in_the_background_and_is_kept(
    gw: RunningGateway, bfl: BFLEmulator, gateway_logs: LogCapture, route: str
) -> None:
    model = {"generations": "flux-pro-1.1", "edits": "flux-kontext-pro"}[route]
    if route == "generations":
        departing = Departing.generate(gw, model=model, prompt="leaves after acceptance")
    else:
        fields = {"model": model, "prompt": "leaves after acceptance"}
        body, content_type = multipart(fields, {"image": make_image("PNG")})
        departing = Departing(gw, "/v1/images/edits", body, content_type)
    wait_until(lambda: bfl.stats()["submits"] == 1, "the submission")
    accepted = time.monotonic()
    departing.leave()
    # The provider's task is running and counts against the account: the slot stays taken...
    time.sleep(0.3)
    assert metric(gw, f"igw_provider_in_flight{{{POOL}}}") == 1
    # ...until the task ends (not the 300-s poll timeout).
    wait_until(lambda: metric(gw, f"igw_provider_in_flight{{{POOL}}}") == 0, "the free slot")
    assert time.monotonic() - accepted < GEN + 3
    stats = bfl.stats()
    assert (stats["submits"], stats["samples"]) == (1, 1)  # never re-submitted; downloaded
    row = ledger_row(gw, departing.request_id)
    assert (row["status"], row["images"]) == ("succeeded", 1)
    assert row["cost_micros"] and row["cost_micros"] > 0  # BFL's own cost
    job = kept_job(gw, departing.request_id)
    kind = {"generations": "generate", "edits": "edit"}[route]
    assert (job["status"], job["kind"]) == ("succeeded", kind)
    assert (job["result"]["provider"], job["result"]["model"]) == ("bfl-flux", model)
    image = Image.open(io.BytesIO(base64.b64decode(job["result"]["data"][0]["b64_json"])))
    assert image.size[0] > 0
    # The access line, written when the client left, names the call the job finished.
    assert_departed_quietly(
        gw,
        gateway_logs,
        f"/v1/images/{route}",
        request_id=departing.request_id,
        made_by=("bfl-flux", model),
    )


def test_a_fanned_out_request_keeps_what_was_accepted_and_sends_nothing_more(
    start_gateway: Callable[..., RunningGateway], bfl: BFLEmulator
) -> None:
    gw = start_gateway(**wired(bfl), provider_concurrency="bfl-flux=1")
    departing = Departing.generate(gw, model="flux-dev", prompt="two images, one slot", n=2)
    wait_until(lambda: bfl.stats()["submits"] == 1, "the first part's submission")
    departing.leave()
    row = ledger_row(gw, departing.request_id)
    assert (row["status"], row["images"]) == ("succeeded", 1)
    job = kept_job(gw, departing.request_id)
    assert len(job["result"]["data"]) == 1
    assert bfl.stats()["submits"] == 1  # the second part was waiting for the slot: never sent


def test_an_openai_call_in_flight_finishes_and_is_kept(
    start_gateway: Callable[..., RunningGateway],
    openai_emu: OpenAIEmulatorHandle,
    gateway_logs: LogCapture,
) -> None:
    gw = start_gateway(openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url)
    openai_emu.add_faults([{"match": "generate", "delay": GEN}])
    departing = Departing.generate(gw, model="gpt-image-1", prompt="leaves mid-generation")
    wait_until(lambda: openai_emu.stats()["in_flight"] == 1, "the call")
    departing.leave()
    row = ledger_row(gw, departing.request_id)
    assert row["status"] == "succeeded" and row["cost_micros"] > 0  # priced from its tokens
    job = kept_job(gw, departing.request_id)
    assert job["status"] == "succeeded" and job["result"]["data"][0]["b64_json"]
    assert openai_emu.stats()["requests"]["generate"] == 1
    made_by = ("openai", "gpt-image-1")
    assert_departed_quietly(gw, gateway_logs, request_id=departing.request_id, made_by=made_by)


def test_leaving_an_idempotent_request_leaves_its_job_running(
    gw: RunningGateway, bfl: BFLEmulator, gateway_logs: LogCapture
) -> None:
    body = {"model": "flux-dev", "prompt": "idempotent and departing"}
    key = {"Idempotency-Key": "departing-once"}
    departing = Departing(
        gw,
        ROUTE,
        json.dumps(body).encode(),
        "application/json",
        "Idempotency-Key: departing-once\r\n",
    )
    wait_until(lambda: bfl.stats()["submits_by_prompt"].get(body["prompt"]) == 1, "its job")
    departing.leave()
    # The retry a client makes after a dropped connection gets the same job's images.
    with gw.client() as http:
        retried = http.post(ROUTE, json=body, headers=key)
    assert retried.status_code == 200, retried.text
    assert retried.json()["data"][0]["b64_json"]
    assert bfl.stats()["submits_by_prompt"][body["prompt"]] == 1
    made_by = ("bfl-flux", "flux-dev")
    assert_departed_quietly(gw, gateway_logs, request_id=departing.request_id, made_by=made_by)


# --- leaving while the body is sent: 499 on every route, never a 500 with a traceback ---------


@pytest.mark.parametrize(
    ("path", "content_type", "start"),
    [
        (ROUTE, "application/json", b'{"prompt": "'),
        ("/v1/images/edits", "multipart/form-data; boundary=xyz", b"--xyz\r\n"),
        ("/v1/images/edits", "application/json", b'{"images": ['),
        ("/v1/admin/keys", "application/json", b'{"name": "'),
    ],
    ids=["generations", "edits-multipart", "edits-json", "admin-keys"],
)
def test_leaving_mid_body_is_a_quiet_499_on_every_route(
    start_gateway: Callable[..., RunningGateway],
    gateway_logs: LogCapture,
    path: str,
    content_type: str,
    start: bytes,
) -> None:
    admin = "admin-test-key-0123456789"
    gw = start_gateway(admin_api_key=admin)
    key = admin if path.startswith("/v1/admin") else GATEWAY_TEST_KEY
    host, port = gw.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: gw\r\nX-API-Key: {key}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: 5000\r\n\r\n".encode()
            + start
        )
        time.sleep(0.3)  # the handler is reading the body
    route = path
    wait_until(
        lambda: metric(gw, f'igw_http_requests_total{{route="{route}",status="499"}}') == 1,
        "the 499",
    )
    assert_departed_quietly(gw, gateway_logs, route)
    assert not [line for line in gateway_logs.lines if "unhandled error" in line]


# --- shutdown: departed calls never hold it past SHUTDOWN_GRACE_SECONDS ------------------------


def test_shutdown_stops_departed_calls_after_the_grace_period(
    start_gateway: Callable[..., RunningGateway], bfl: BFLEmulator, tmp_path: Path
) -> None:
    bfl.state.generation_seconds = 120.0  # far past the grace period
    gw = start_gateway(**wired(bfl), shutdown_grace_seconds=1.0)
    departing = [
        Departing.generate(gw, model="flux-dev", prompt=f"abandoned {i}") for i in range(3)
    ]
    wait_until(lambda: bfl.stats()["submits"] == 3, "three accepted tasks")
    for d in departing:
        d.leave()
    wait_until(
        lambda: metric(gw, f'igw_http_requests_total{{route="{ROUTE}",status="499"}}') == 3,
        "three 499s",
    )
    started = time.monotonic()
    gw.server.stop(timeout=30)
    took = time.monotonic() - started
    assert not gw.server._thread.is_alive()
    assert took < 1.0 + 3.0, took  # the grace period, and the rows written
    rows = {r["request_id"]: r for r in ledger(gw)}
    for d in departing:
        assert rows[d.request_id]["error_code"] == "interrupted"
    path = gw.settings.database_url.get_secret_value().split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        kept = conn.execute("SELECT status, error FROM jobs").fetchall()
    assert len(kept) == 3
    for status, error in kept:
        assert status == "failed" and json.loads(error)["body"]["error"]["code"] == "interrupted"
    # BFL accepted the three tasks: the ledger keeps them as outcome-unknown calls at their
    # estimated cost, as /v1/usage shows them after a restart on the same database.
    restarted = start_gateway(
        **wired(bfl),
        admin_api_key=ADMIN_TEST_KEY,
        database_url=gw.settings.database_url.get_secret_value(),
    )
    totals = usage_totals(restarted)["totals"]
    assert (totals["requests"], totals["outcome_unknown"], totals["failed"]) == (3, 3, 0), totals
    assert totals["cost_usd"] == totals["outcome_unknown_cost_usd"] > 0, totals
    costs = {(rows[d.request_id]["status"], rows[d.request_id]["cost_micros"]) for d in departing}
    [(status, micros)] = costs  # each one flux-dev image, at table price
    assert status == "unknown" and micros > 0


def test_shutdown_lets_a_departed_call_finish_within_the_grace_period(
    start_gateway: Callable[..., RunningGateway], bfl: BFLEmulator
) -> None:
    gw = start_gateway(**wired(bfl), shutdown_grace_seconds=20.0)
    departing = Departing.generate(gw, model="flux-dev", prompt="finishes during shutdown")
    wait_until(lambda: bfl.stats()["submits"] == 1, "the submission")
    departing.leave()
    wait_until(
        lambda: metric(gw, f'igw_http_requests_total{{route="{ROUTE}",status="499"}}') == 1,
        "the 499",
    )
    started = time.monotonic()
    gw.server.stop(timeout=30)
    assert time.monotonic() - started < GEN + 3  # the task's own time, not the grace period
    [row] = ledger(gw)
    assert (row["status"], row["request_id"]) == ("succeeded", departing.request_id)
