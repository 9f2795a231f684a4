"""Webhooks end to end: a loopback receiver (allowed through WEBHOOK_ALLOW_HOSTS) gets the
finished job, signed so `image_gateway.jobs.webhooks.verify` accepts it; a failing receiver is
retried after the documented backoff and the delivery state shows on the job; targets that are
not public are refused before any job exists, and again when the gateway connects."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from image_gateway.jobs.webhooks import RETRY_SCHEDULE, verify
from tests.conftest import Canary, RunningGateway
from tests.jobs.support import (
    ASYNC,
    BFL_BODY,
    FAST,
    LOCAL_BODY,
    bfl_settings,
    eventually,
    submit,
)

SECRET = "whsec_test-0123456789abcdef"


@dataclass
class Delivery:
    at: float
    headers: dict[str, str]
    body: bytes

    @property
    def job(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass
class Receiver:
    """A webhook endpoint on loopback that answers with scripted statuses (then 200)."""

    statuses: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.deliveries.append(Delivery(time.monotonic(), dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.authority = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.authority}/hooks/images"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def first(self) -> Delivery | None:
        return self.deliveries[0] if self.deliveries else None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def hooked(receiver: Receiver, **extra: Any) -> dict[str, Any]:
    return {**LOCAL_BODY, "webhook_url": receiver.url, "webhook_secret": SECRET, **extra}


def test_finished_job_is_posted_signed(
    start_gateway: Callable[..., RunningGateway], receiver: Receiver
) -> None:
    gw = start_gateway(**FAST, webhook_allow_hosts=[receiver.authority])
    with gw.client() as http:
        job = submit(http, hooked(receiver))
        assert job["webhook"] == {"url": receiver.url}
        assert SECRET not in json.dumps(job)
        delivery = eventually(receiver.first)
        assert verify(SECRET, delivery.body, delivery.headers)
        assert not verify("whsec_wrong-0123456789", delivery.body, delivery.headers)
        assert delivery.headers["X-Gateway-Webhook-Id"] == job["id"]
        assert delivery.headers["Content-Type"] == "application/json"
        assert delivery.headers["X-Gateway-Signature"].startswith("v1=")
        sent = delivery.job
        assert sent["id"] == job["id"] and sent["status"] == "succeeded"
        assert sent["result"]["data"][0]["b64_json"]
        assert SECRET not in delivery.body.decode()

        # The receiver may have the delivery before the worker records it (no "delivered" yet).
        state = eventually(
            lambda: http.get(f"/v1/jobs/{job['id']}").json()["webhook"].get("delivered")
        )
        assert state is True
        webhook = http.get(f"/v1/jobs/{job['id']}").json()["webhook"]
        assert webhook["attempts"] == 1 and webhook["last_status"] == 200
        assert webhook["url"] == receiver.url and isinstance(webhook["delivered_at"], int)
    time.sleep(0.7)  # the delivery loop's next turn sends nothing more
    assert len(receiver.deliveries) == 1


def test_failed_delivery_is_retried_with_backoff(
    start_gateway: Callable[..., RunningGateway], receiver: Receiver
) -> None:
    receiver.statuses = [500]
    gw = start_gateway(**FAST, webhook_allow_hosts=[receiver.authority])
    with gw.client() as http:
        job = submit(http, hooked(receiver))

        def webhook_state(done: bool) -> dict[str, Any] | None:
            state: dict[str, Any] = http.get(f"/v1/jobs/{job['id']}").json()["webhook"]
            return state if state.get("attempts") and state["delivered"] == done else None

        failed = eventually(lambda: webhook_state(False), timeout=5)
        eventually(lambda: len(receiver.deliveries) == 2, timeout=5)
        first, second = receiver.deliveries
        assert RETRY_SCHEDULE[0] - 0.1 <= second.at - first.at <= RETRY_SCHEDULE[0] + 1.5
        assert first.headers["X-Gateway-Webhook-Id"] == second.headers["X-Gateway-Webhook-Id"]
        assert verify(SECRET, second.body, second.headers)
        state = eventually(lambda: webhook_state(True))
    assert failed["attempts"] == 1 and failed["last_status"] == 500 and not failed["gave_up"]
    assert state["attempts"] == 2 and state["last_status"] == 200 and not state["gave_up"]


def test_a_failed_job_is_posted_with_its_error(
    start_gateway: Callable[..., RunningGateway], receiver: Receiver, bfl: Any
) -> None:
    gw = start_gateway(**bfl_settings(bfl), webhook_allow_hosts=[receiver.authority])
    with gw.client() as http:
        # BFL accepts the task, then reports an error: the job fails when it runs.
        job = submit(http, hooked(receiver, **{**BFL_BODY, "prompt": "a fox [error]"}))
        delivery = eventually(receiver.first)
    assert verify(SECRET, delivery.body, delivery.headers)
    assert delivery.job["status"] == "failed" and delivery.job["id"] == job["id"]
    assert delivery.job["error"]["error"]["code"] == "generation_failed"


def test_a_canceled_queued_job_is_posted_too(
    start_gateway: Callable[..., RunningGateway], receiver: Receiver
) -> None:
    allow = {"webhook_allow_hosts": [receiver.authority]}
    api_only = start_gateway(**FAST, **allow, run_workers=False)
    with api_only.client() as http:
        job = submit(http, hooked(receiver))
        canceled = http.post(f"/v1/jobs/{job['id']}/cancel").json()
        assert canceled["status"] == "canceled"
        start_gateway(**FAST, **allow)  # a worker on the same database delivers it
        delivery = eventually(receiver.first)
    assert verify(SECRET, delivery.body, delivery.headers)
    assert delivery.job["id"] == job["id"] and delivery.job["status"] == "canceled"


def test_webhook_needs_an_async_request_and_a_secret(
    start_gateway: Callable[..., RunningGateway], receiver: Receiver
) -> None:
    gw = start_gateway(**FAST, webhook_allow_hosts=[receiver.authority])
    with gw.client() as http:
        sync = http.post("/v1/images/generations", json=hooked(receiver))
        assert sync.status_code == 400 and sync.json()["error"]["param"] == "webhook_url"
        no_secret = {**LOCAL_BODY, "webhook_url": receiver.url}
        resp = http.post("/v1/images/generations", json=no_secret, headers=ASYNC)
        assert resp.status_code == 400 and resp.json()["error"]["param"] == "webhook_secret"
        short = hooked(receiver, webhook_secret="short")
        resp = http.post("/v1/images/generations", json=short, headers=ASYNC)
        assert resp.status_code == 400 and resp.json()["error"]["param"] == "webhook_secret"
        assert http.get("/v1/jobs").json()["data"] == []
    assert receiver.deliveries == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",  # the receiver itself, but not on the allow list
        "http://localhost:{port}/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:{port}/hook",
        "http://0x7f000001:{port}/hook",
        "http://private.test/hook",  # a name that resolves to a private address
        "http://intranet:{port}/hook",  # a single-label name
        "http://hooks.localhost/hook",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_non_public_targets_are_refused_before_any_job(
    fake_dns: Any,
    receiver: Receiver,
    start_gateway: Callable[..., RunningGateway],
    url: str,
) -> None:
    fake_dns.set("private.test", ["192.168.1.20"])
    gw = start_gateway(**FAST)
    body = {**LOCAL_BODY, "webhook_url": url.format(port=receiver.port), "webhook_secret": SECRET}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body, headers=ASYNC)
        assert resp.status_code == 400, resp.text
        assert resp.json()["error"]["param"] == "webhook_url"
        assert http.get("/v1/jobs").json()["data"] == []
    time.sleep(0.2)
    assert receiver.deliveries == []


def test_a_name_rebound_to_loopback_is_refused_at_delivery(
    fake_dns: Any, canary: Canary, start_gateway: Callable[..., RunningGateway]
) -> None:
    # (fixtures in this order: the fake DNS outlives the gateway, whose retries resolve again)
    # Public when the job is submitted; loopback (where the canary listens) when it is sent.
    fake_dns.set("hooks.test", ["93.184.215.14"], ["127.0.0.1"])
    gw = start_gateway(**FAST)
    url = f"http://hooks.test:{canary.port}/hook"
    with gw.client() as http:
        job = submit(http, {**LOCAL_BODY, "webhook_url": url, "webhook_secret": SECRET})

        def attempted() -> dict[str, Any] | None:
            state: dict[str, Any] | None = http.get(f"/v1/jobs/{job['id']}").json()["webhook"]
            return state if state and state.get("attempts") else None

        state = eventually(attempted)
    assert state["delivered"] is False and state["last_status"] is None
    assert state["last_error"] and state["gave_up"] is False
    assert canary.accepted == 0
