"""Prometheus metrics: one registry per app (tests build many apps in one process), the
request-level pure-ASGI middleware, and the text exposition served at `GET /metrics`.

Series (counters end in `_total` in the exposition):
    igw_http_requests_total{route,status}               every HTTP request
    igw_http_request_duration_seconds{route}            its latency (histogram)
    igw_errors_total{type,code}                         error responses by type and code
    igw_provider_call_duration_seconds{provider,model,outcome}   one upstream call
    igw_provider_retries_total{provider,reason}         retries of an upstream call
    igw_fallbacks_total{from_provider,to_provider,reason}  moves to the next candidate
    igw_circuit_transitions_total{provider,state}       circuit breaker state changes
    igw_circuit_state{provider}                         0 closed, 1 open, 2 half-open
    igw_provider_queue_wait_seconds{pool}               wait for a concurrency slot
    igw_provider_queue_depth{pool} / _in_flight{pool} / _limit{pool}
    igw_provider_quota_exhausted_total{provider}        the alert hook for out-of-credit accounts
    igw_images_generated_total{provider,model}          images returned to clients
    igw_cost_usd_total{provider,model}                  what they cost (pricing.py)
    igw_upstream_connections{state}                     the upstream pool: in_use / idle

Labels come from closed sets (routes, providers, catalogue models, error codes); anything
open-ended (pass-through model ids, provider error codes) is capped, then reported as "other".
Gauges are read at scrape time, so the request path only ever does `inc()`/`observe()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.types import Scope

from .errors import GatewayError

CONTENT_TYPE = CONTENT_TYPE_LATEST
MAX_LABEL_VALUES = 200  # per label kind; beyond, "other"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
PROVIDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60)
CIRCUIT_VALUES = {"closed": 0, "open": 1, "half_open": 2}


class Bounded:
    """Label values seen so far, capped: protects the registry from open-ended values."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str | None) -> str:
        value = value or "none"
        if value in self.seen:
            return value
        if len(self.seen) >= self.limit or len(value) > 80:
            return "other"
        self.seen.add(value)
        return value


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self.requests = Counter(
            "igw_http_requests", "HTTP requests", ["route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "igw_http_request_duration_seconds",
            "HTTP request latency",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter("igw_errors", "Error responses", ["type", "code"], registry=r)
        self.provider_seconds = Histogram(
            "igw_provider_call_duration_seconds",
            "One upstream provider call (generate), by outcome ('ok' or the error code)",
            ["provider", "model", "outcome"],
            buckets=PROVIDER_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "igw_provider_retries",
            "Retries of an upstream call",
            ["provider", "reason"],
            registry=r,
        )
        self.fallbacks = Counter(
            "igw_fallbacks",
            "Moves from one candidate to the next",
            ["from_provider", "to_provider", "reason"],
            registry=r,
        )
        self.circuit_transitions = Counter(
            "igw_circuit_transitions",
            "Circuit breaker state changes",
            ["provider", "state"],
            registry=r,
        )
        self.queue_wait = Histogram(
            "igw_provider_queue_wait_seconds",
            "Wait for a provider concurrency slot",
            ["pool"],
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.quota = Counter(
            "igw_provider_quota_exhausted",
            "Provider answers saying the account is out of credits or quota",
            ["provider"],
            registry=r,
        )
        self.images = Counter(
            "igw_images_generated", "Images returned", ["provider", "model"], registry=r
        )
        self.cost = Counter(
            "igw_cost_usd", "Cost of generations", ["provider", "model"], registry=r
        )
        self._models = Bounded()
        self._codes = Bounded()
        self._children: dict[tuple[Any, ...], Any] = {}

    # --- request path -----------------------------------------------------------------------

    def _child(self, metric: Any, *values: str) -> Any:
        """`metric.labels(*values)`, remembered: prometheus_client takes a lock and checks the
        labels on every such call. Bounded like the label values it is keyed by."""
        key = (metric, *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self._child(self.requests, route, str(status)).inc()
        self._child(self.request_seconds, route).observe(seconds)

    def error(self, err: GatewayError) -> None:
        self._child(self.errors, err.error_type, self._codes(err.code)).inc()

    def provider_call(self, provider: str, model: str, outcome: str | None, started: float) -> None:
        child = self._child(
            self.provider_seconds, provider, self._models(model), self._codes(outcome)
        )
        child.observe(time.perf_counter() - started)

    def retried(self, provider: str, reason: str) -> None:
        self.retries.labels(provider, self._codes(reason)).inc()

    def fell_back(self, from_provider: str, to_provider: str, reason: str) -> None:
        self.fallbacks.labels(from_provider, to_provider, self._codes(reason)).inc()

    def circuit_moved(self, provider: str, state: str) -> None:
        self.circuit_transitions.labels(provider, state).inc()

    def queue_waited(self, pool: str, seconds: float) -> None:
        self.queue_wait.labels(pool).observe(seconds)

    def quota_exhausted(self, provider: str) -> None:
        self.quota.labels(provider).inc()

    def served(self, provider: str, model: str, images: int, cost_usd: float | None) -> None:
        model = self._models(model)
        self._child(self.images, provider, model).inc(images)
        if cost_usd:
            self._child(self.cost, provider, model).inc(cost_usd)

    # --- scrape time ------------------------------------------------------------------------

    def watch(self, read: Callable[[], Iterable[Metric]]) -> None:
        """Register gauges computed when scraped (pools, circuits, connections)."""
        self.registry.register(_Gauges(read))

    def watch_pool(self, stats: Callable[[], dict[str, float]]) -> None:
        """The upstream connection pool (`UpstreamClient.pool_stats`), read when scraped."""
        self.watch(
            lambda: [
                gauge("igw_upstream_connections", "Upstream pool connections", "state", stats())
            ]
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Gauges(Collector):
    def __init__(self, read: Callable[[], Iterable[Metric]]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        return self.read()


def gauge(name: str, doc: str, label: str, values: dict[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family


def route_label(scope: Scope) -> str:
    """The matched route's template (`/v1/images/files/{image_id}`), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
