"""`GET /metrics`: the series exist under their names, move with traffic, stay bounded, can be
protected, and add up over the workers of `uvicorn --workers N` (multiprocess mode)."""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from image_gateway.errors import InvalidRequest
from image_gateway.observability.metrics import (
    LATENCY_BUCKETS,
    PROVIDER_BUCKETS,
    WAIT_BUCKETS,
    Bounded,
    Metrics,
)
from tests.conftest import BFL_TEST_KEY, CANARIES, GATEWAY_TEST_KEY, RunningGateway
from tests.jobs.processes import REPO, START_TIMEOUT, Process
from tests.jobs.support import eventually
from tests.ports import free_port

TOKEN = "metrics-token-0123456789"


def scrape(gw: RunningGateway, **headers: str) -> httpx.Response:
    with httpx.Client(base_url=gw.url, timeout=10) as http:
        return http.get("/metrics", headers=headers)


def value(text: str, series: str) -> float:
    """The sample value of one exact series line (`name{labels}`), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_request_series_move_with_traffic(gateway: RunningGateway) -> None:
    before = scrape(gateway)
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    route = 'route="/v1/images/generations"'
    ok = f'igw_http_requests_total{{{route},status="200"}}'
    bad = f'igw_http_requests_total{{{route},status="400"}}'
    with gateway.client() as http:
        for _ in range(3):
            assert http.post(
                "/v1/images/generations", json={"prompt": "p", "size": "64x64"}
            ).is_success
        assert http.post("/v1/images/generations", json={"prompt": "p", "n": 0}).status_code == 400
        assert http.get("/v1/images/files/img_not_there").status_code == 404
    text = scrape(gateway).text
    assert value(text, ok) - value(before.text, ok) == 3
    assert value(text, bad) - value(before.text, bad) == 1
    assert value(text, f"igw_http_request_duration_seconds_count{{{route}}}") >= 4
    assert value(text, 'igw_errors_total{code="invalid_value",type="invalid_request_error"}') == 1
    assert value(text, 'igw_images_generated_total{model="local-art",provider="local"}') == 3
    assert (
        value(
            text,
            'igw_provider_call_duration_seconds_count{model="local-art",outcome="ok",provider="local"}',
        )
        == 3
    )
    # route templates, never raw paths: no label per image id
    assert 'route="/v1/images/files/{image_id}"' in text and "img_not_there" not in text
    for name in ("igw_circuit_state", "igw_provider_queue_depth", "igw_upstream_connections"):
        assert f"# TYPE {name} gauge" in text
    assert 'igw_provider_pool_limit{pool="bfl-flux/flux-kontext-max"} 6.0' in text


def test_every_413_is_counted_as_an_error(start_gateway: Any) -> None:
    """One producer of 413 (the body limit): a body refused from its Content-Length before any
    of it is read, and one refused as it streams over the limit, are answered alike and both
    counted in igw_errors_total, whatever the route."""
    gw = start_gateway(max_request_bytes=4096)
    series = 'igw_errors_total{code="payload_too_large",type="invalid_request_error"}'
    before = value(scrape(gw).text, series)

    def chunks(head: bytes = b"") -> Any:
        if head:  # a multipart part's head: a well-formed upload until it is too big
            yield head
        for _ in range(8):
            yield b"y" * 1024

    answers = []
    with gw.client() as http:
        json_type = {"content-type": "application/json"}
        for path in ("/v1/images/generations", "/v1/images/edits", "/v1/no-such-route"):
            answers.append(http.post(path, content=b"x" * 5000, headers=json_type))  # declared
        answers.append(http.post("/v1/images/generations", content=chunks(), headers=json_type))
        multipart = {"content-type": "multipart/form-data; boundary=b"}
        part = b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
        answers.append(http.post("/v1/images/edits", content=chunks(part), headers=multipart))
    for resp in answers:
        assert resp.status_code == 413, resp.text
        error = resp.json()["error"]
        assert (error["code"], error["type"]) == ("payload_too_large", "invalid_request_error")
        assert error["message"] == "request body is larger than 4096 bytes"
        assert error["request_id"] == resp.headers["x-request-id"]
        assert resp.headers["x-should-retry"] == "false"
    assert all(r.headers.get("connection") == "close" for r in answers[:3])  # never read
    assert value(scrape(gw).text, series) - before == len(answers)


def test_cost_and_images_of_a_bfl_generation(start_gateway: Any, bfl: Any) -> None:
    gw = start_gateway(
        bfl_api_key=BFL_TEST_KEY, bfl_base_url=bfl.base_url, bfl_trusted_hosts=bfl.poll_base_url
    )
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"model": "flux-dev", "prompt": "p", "n": 2}
        )
    assert resp.status_code == 200 and resp.json()["cost"]["credits"] == 5.0
    text = scrape(gw).text
    labels = '{model="flux-dev",provider="bfl-flux"}'
    assert value(text, f"igw_images_generated_total{labels}") == 2
    assert abs(value(text, f"igw_cost_usd_total{labels}") - 0.05) < 1e-9  # 1 credit = $0.01
    assert not any(piece in text for c in CANARIES for piece in (c[:8], c[-8:]))


def test_metrics_token_guards_the_route(start_gateway: Any) -> None:
    gw = start_gateway(metrics_token=TOKEN)
    assert scrape(gw).status_code == 401
    assert scrape(gw, Authorization="Bearer wrong-token-0123456789").status_code == 401
    assert scrape(gw, Authorization=f"Bearer {TOKEN}").status_code == 200
    # the gateway's client key is not a metrics credential
    assert scrape(gw, Authorization=f"Bearer {GATEWAY_TEST_KEY}").status_code == 401


def test_metrics_can_be_turned_off(start_gateway: Any) -> None:
    gw = start_gateway(metrics_enabled=False)
    resp = scrape(gw)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


def test_each_app_has_its_own_registry(start_gateway: Any) -> None:
    first, second = start_gateway(), start_gateway()
    with first.client() as http:
        http.get("/healthz")
        http.get("/healthz")
    series = 'igw_http_requests_total{route="/healthz",status="200"}'
    assert value(scrape(first).text, series) == 2
    assert value(scrape(second).text, series) == 0


def test_open_ended_label_values_are_capped() -> None:
    bounded = Bounded(limit=3)
    assert [bounded(v) for v in ("a", "b", "c", "d", "a", None)] == [
        "a",
        "b",
        "c",
        "other",
        "a",
        "other",
    ]
    assert bounded("x" * 81) == "other"
    metrics = Metrics()
    for i in range(500):
        metrics.provider_call("openai", f"gpt-image-{i}", "ok", 0.0)
    text = metrics.render().decode()
    assert len(re.findall(r"^igw_provider_call_duration_seconds_count", text, re.M)) <= 201


# Every family the README lists: (type, label names, help text).
FAMILIES = {
    "igw_http_requests": ("counter", {"route", "status"}, "HTTP requests"),
    "igw_http_request_duration_seconds": ("histogram", {"route"}, "HTTP request latency"),
    "igw_errors": ("counter", {"type", "code"}, "Error responses"),
    "igw_provider_call_duration_seconds": (
        "histogram",
        {"provider", "model", "outcome"},
        "One upstream provider call (generate), by outcome ('ok' or the error code)",
    ),
    "igw_provider_retries": ("counter", {"provider", "reason"}, "Retries of an upstream call"),
    "igw_fallbacks": (
        "counter",
        {"from_provider", "to_provider", "reason"},
        "Moves from one candidate to the next",
    ),
    "igw_circuit_transitions": ("counter", {"provider", "state"}, "Circuit breaker state changes"),
    "igw_circuit_state": (
        "gauge",
        {"provider"},
        "Circuit breaker state: 0 closed, 1 open, 2 half-open",
    ),
    "igw_provider_queue_wait_seconds": (
        "histogram",
        {"pool"},
        "Wait for a provider concurrency slot",
    ),
    "igw_provider_queue_depth": ("gauge", {"pool"}, "Calls waiting for a slot"),
    "igw_provider_in_flight": ("gauge", {"pool"}, "Calls holding a slot"),
    "igw_provider_pool_limit": ("gauge", {"pool"}, "Slots in the pool"),
    "igw_provider_quota_exhausted": (
        "counter",
        {"provider"},
        "Provider answers saying the account is out of credits or quota",
    ),
    "igw_images_generated": ("counter", {"provider", "model"}, "Images returned"),
    "igw_cost_usd": (
        "counter",
        {"provider", "model"},
        "Cost of generations, outcome-unknown estimates included",
    ),
    "igw_outcome_unknown": (
        "counter",
        {"provider", "model"},
        "Requests whose provider calls may have been charged without an answer",
    ),
    "igw_outcome_unknown_cost_usd": (
        "counter",
        {"provider", "model"},
        "Estimated cost of those calls (part of igw_cost_usd)",
    ),
    "igw_upstream_connections": ("gauge", {"state"}, "Upstream pool connections"),
    "igw_connections_closed": (
        "counter",
        {"reason"},
        "Connections closed before a request reached the app",
    ),
}
BUCKETS = {
    "igw_http_request_duration_seconds": LATENCY_BUCKETS,
    "igw_provider_call_duration_seconds": PROVIDER_BUCKETS,
    "igw_provider_queue_wait_seconds": WAIT_BUCKETS,
}


def families(text: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_every_series_keeps_its_name_labels_buckets_and_help(start_gateway: Any) -> None:
    """After one of each update, the exposition has every family the README lists, with its
    type, label names, help text and (histograms) bucket edges, and nothing else."""
    gw = start_gateway()
    metrics: Metrics = gw.server.server.config.app.state.metrics  # updated as a request would
    metrics.error(InvalidRequest("x"))
    metrics.provider_call("openai", "gpt-image-1", "ok", 0.0)
    metrics.retried("openai", "rate_limited")
    metrics.fell_back("openai", "bfl-flux", "server_error")
    metrics.circuit_moved("openai", "open")
    metrics.queue_waited("openai", 0.2)
    metrics.quota_exhausted("openai")
    metrics.served("openai", "gpt-image-1", 2)
    metrics.spent("openai", "gpt-image-1", 0.5, True)
    metrics.connection_closed("head_timeout")
    with gw.client() as http:
        assert http.get("/healthz").status_code == 200
    found = families(scrape(gw).text)
    # prometheus_client's `_created` series (a counter's or histogram's start time) come as
    # gauges of their own in the text format
    created = {name for name in found if name.endswith("_created")}
    assert set(found) - created == set(FAMILIES)
    assert created == {f"{n}_created" for n, (kind, *_) in FAMILIES.items() if kind != "gauge"}
    for name, (kind, labels, help_text) in FAMILIES.items():
        family = found[name]
        assert (family.type, family.documentation) == (kind, help_text), name
        for sample in family.samples:
            assert set(sample.labels) - {"le"} == labels, (name, sample)
        if kind == "counter":
            assert {s.name for s in family.samples} == {f"{name}_total"}
        if name in BUCKETS:
            edges = {s.labels["le"] for s in family.samples if s.name.endswith("_bucket")}
            assert edges == {str(float(b)) for b in BUCKETS[name]} | {"+Inf"}, name


def test_two_workers_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    """`uvicorn main:app --workers 2` with PROMETHEUS_MULTIPROC_DIR: whichever worker answers a
    scrape, it shows the requests both served; each worker's circuit gauges are its own series
    (`pid`), and they leave the folder when the workers stop."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "main:app", "--app-dir", str(REPO), "--workers", "2"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    argv += ["--http", "image_gateway.server:HttpProtocol"]  # as the README's command
    settings = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/gateway.db",
        "image_store_dir": tmp_path / "images",
        "gateway_api_keys": GATEWAY_TEST_KEY,
        "prometheus_multiproc_dir": folder,
    }
    server = Process("gateway", argv, settings, tmp_path)
    url = f"http://127.0.0.1:{port}"
    series = 'igw_http_requests_total{route="/v1/models",status="200"}'
    key = {"X-API-Key": GATEWAY_TEST_KEY}

    def served_by() -> dict[str, float]:
        """The requests counted in each worker's own file (`counter_<pid>.db`)."""
        counts = {}
        for path in folder.glob("counter_*.db"):
            try:
                merged = MultiProcessCollector.merge([str(path)])
            except struct.error:  # a worker's file just created, still empty
                continue
            counts[path.stem] = sum(
                s.value
                for family in merged
                for s in family.samples
                if s.name == "igw_http_requests_total" and s.labels.get("route") == "/v1/models"
            )
        return counts

    def get(path: str) -> httpx.Response:  # a new connection each time, taken by either worker
        return httpx.get(f"{url}{path}", headers=key, timeout=10)

    try:
        server.wait_for(lambda: _answers(url), "/healthz answer", START_TIMEOUT)
        sent = 0
        while sent < 400 and sum(1 for n in served_by().values() if n > 0) < 2:
            assert get("/v1/models").status_code == 200
            sent += 1
        assert len([n for n in served_by().values() if n > 0]) == 2, served_by()
        eventually(lambda: sum(served_by().values()) == sent)
        for _ in range(6):  # scrapes answered by one worker or the other
            assert value(get("/metrics").text, series) == sent
        text = eventually(lambda: _circuits_of_two_workers(get("/metrics").text))
        assert 'igw_provider_pool_limit{pool="bfl-flux/flux-kontext-max"} 6.0' in text
    finally:
        server.stop()
    assert server.popen.returncode == 0, server.logs()
    assert not list(folder.glob("gauge_live*")), sorted(p.name for p in folder.iterdir())


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _circuits_of_two_workers(text: str) -> str | None:
    pids = set(re.findall(r'^igw_circuit_state\{pid="(\d+)",provider="openai"\} 0\.0$', text, re.M))
    return text if len(pids) == 2 else None
