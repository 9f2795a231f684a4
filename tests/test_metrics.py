"""`GET /metrics`: the series exist, move with traffic, stay bounded, and can be protected."""

from __future__ import annotations

import re
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from image_gateway.metrics import Bounded, Counters, Histograms, Metrics
from tests.conftest import BFL_TEST_KEY, CANARIES, GATEWAY_TEST_KEY, RunningGateway

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


def test_our_collectors_expose_what_prometheus_client_would() -> None:
    """`Counters`/`Histograms` (lock-free, for the request path) against prometheus_client's own
    Counter/Histogram given the same updates: the same exposition, bucket edges included,
    but for the `_created` series we do not keep."""
    ours, theirs = CollectorRegistry(auto_describe=False), CollectorRegistry(auto_describe=False)
    buckets = (0.001, 0.01, 0.5, 1, 60)
    counter = Counters("igw_x", "Things", ("a", "b"), ours)
    histogram = Histograms("igw_x_seconds", "Time", ("a",), buckets, ours)
    their_counter = Counter("igw_x", "Things", ["a", "b"], registry=theirs)
    their_histogram = Histogram("igw_x_seconds", "Time", ["a"], buckets=buckets, registry=theirs)
    for a, b, amount in [("p", "q", 1), ("p", "q", 2.5), ('r"\n', "s", 1)]:
        counter.inc((a, b), amount)
        their_counter.labels(a, b).inc(amount)
    for a, seconds in [("p", 0.001), ("p", 0.0011), ("p", 0.5), ("p", 61), ("q", 0), ("q", 1)]:
        histogram.observe((a,), seconds)
        their_histogram.labels(a).observe(seconds)

    def lines(registry: CollectorRegistry) -> list[str]:
        text = generate_latest(registry).decode()
        return sorted(line for line in text.splitlines() if "_created" not in line)

    assert lines(ours) == lines(theirs)
    assert 'igw_x_seconds_bucket{a="p",le="0.001"} 1.0' in lines(ours)  # le is inclusive
