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
    igw_cost_usd_total{provider,model}                  what requests cost or may have cost
    igw_outcome_unknown_total{provider,model}           requests (ledger rows) whose calls may
                                                        have been charged without an answer
    igw_outcome_unknown_cost_usd_total{provider,model}  their estimated cost (within igw_cost)
    igw_upstream_connections{state}                     the upstream pool: in_use / idle

Labels come from closed sets (routes, providers, catalogue models, error codes); anything
open-ended (pass-through model ids, provider error codes) is capped, then reported as "other".
Gauges are read at scrape time, so the request path only ever does `inc()`/`observe()`.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from itertools import accumulate

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
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
        self.requests = Counters("igw_http_requests", "HTTP requests", ("route", "status"), r)
        self.request_seconds = Histograms(
            "igw_http_request_duration_seconds",
            "HTTP request latency",
            ("route",),
            LATENCY_BUCKETS,
            r,
        )
        self.errors = Counters("igw_errors", "Error responses", ("type", "code"), r)
        self.provider_seconds = Histograms(
            "igw_provider_call_duration_seconds",
            "One upstream provider call (generate), by outcome ('ok' or the error code)",
            ("provider", "model", "outcome"),
            PROVIDER_BUCKETS,
            r,
        )
        self.retries = Counters(
            "igw_provider_retries", "Retries of an upstream call", ("provider", "reason"), r
        )
        self.fallbacks = Counters(
            "igw_fallbacks",
            "Moves from one candidate to the next",
            ("from_provider", "to_provider", "reason"),
            r,
        )
        self.circuit_transitions = Counters(
            "igw_circuit_transitions", "Circuit breaker state changes", ("provider", "state"), r
        )
        self.queue_wait = Histograms(
            "igw_provider_queue_wait_seconds",
            "Wait for a provider concurrency slot",
            ("pool",),
            WAIT_BUCKETS,
            r,
        )
        self.quota = Counters(
            "igw_provider_quota_exhausted",
            "Provider answers saying the account is out of credits or quota",
            ("provider",),
            r,
        )
        self.images = Counters("igw_images_generated", "Images returned", ("provider", "model"), r)
        self.cost = Counters(
            "igw_cost_usd",
            "Cost of generations, outcome-unknown estimates included",
            ("provider", "model"),
            r,
        )
        self.unknown = Counters(
            "igw_outcome_unknown",
            "Requests whose provider calls may have been charged without an answer",
            ("provider", "model"),
            r,
        )
        self.unknown_cost = Counters(
            "igw_outcome_unknown_cost_usd",
            "Estimated cost of those calls (part of igw_cost_usd)",
            ("provider", "model"),
            r,
        )
        self._models = Bounded()
        self._codes = Bounded()

    # --- request path -----------------------------------------------------------------------

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests.inc((route, str(status)))
        self.request_seconds.observe((route,), seconds)

    def error(self, err: GatewayError) -> None:
        self.errors.inc((err.error_type, self._codes(err.code)))

    def provider_call(self, provider: str, model: str, outcome: str | None, started: float) -> None:
        labels = (provider, self._models(model), self._codes(outcome))
        self.provider_seconds.observe(labels, time.perf_counter() - started)

    def retried(self, provider: str, reason: str) -> None:
        self.retries.inc((provider, self._codes(reason)))

    def fell_back(self, from_provider: str, to_provider: str, reason: str) -> None:
        self.fallbacks.inc((from_provider, to_provider, self._codes(reason)))

    def circuit_moved(self, provider: str, state: str) -> None:
        self.circuit_transitions.inc((provider, state))

    def queue_waited(self, pool: str, seconds: float) -> None:
        self.queue_wait.observe((pool,), seconds)

    def quota_exhausted(self, provider: str) -> None:
        self.quota.inc((provider,))

    def served(self, provider: str, model: str, images: int) -> None:
        self.images.inc((provider, self._models(model)), images)

    def spent(self, provider: str, model: str, cost_usd: float | None, unknown: bool) -> None:
        """A usage-ledger row's cost; `unknown`: it is an estimate for calls whose outcome is
        unknown (they may have been charged), counted in both series."""
        labels = (provider, self._models(model))
        if unknown:
            self.unknown.inc(labels)
            if cost_usd:
                self.unknown_cost.inc(labels, cost_usd)
        if cost_usd:
            self.cost.inc(labels, cost_usd)

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


class Counters(Collector):
    """A counter per label values (`name_total` in the exposition).

    Plain floats: every update comes from the event loop's thread, so prometheus_client's lock,
    checks and child lookup on each update are not needed (five updates a request; the saving
    is in bench/RESULTS.md). Label values must come from bounded sets (`Bounded`).
    """

    def __init__(
        self, name: str, doc: str, labels: tuple[str, ...], registry: CollectorRegistry
    ) -> None:
        self.name, self.doc, self.labels = name, doc, labels
        self.values: dict[tuple[str, ...], float] = {}
        registry.register(self)

    def inc(self, labels: tuple[str, ...], amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(self.name, self.doc, labels=self.labels)
        for labels, total in list(self.values.items()):
            family.add_metric(labels, total)
        yield family


class Histograms(Collector):
    """A histogram per label values (`_bucket`, `_count`, `_sum`), kept like `Counters`."""

    def __init__(
        self,
        name: str,
        doc: str,
        labels: tuple[str, ...],
        buckets: tuple[float, ...],
        registry: CollectorRegistry,
    ) -> None:
        self.name, self.doc, self.labels = name, doc, labels
        self.bounds = tuple(sorted(buckets))
        self.upper = [str(float(b)) for b in self.bounds] + ["+Inf"]  # as prometheus_client
        # per label values: a count per bucket (not cumulative; the last is +Inf), then the sum
        self.values: dict[tuple[str, ...], list[float]] = {}
        registry.register(self)

    def observe(self, labels: tuple[str, ...], amount: float) -> None:
        counts = self.values.get(labels)
        if counts is None:
            counts = self.values[labels] = [0.0] * (len(self.bounds) + 2)
        counts[bisect_left(self.bounds, amount)] += 1  # le: the first bound >= amount
        counts[-1] += amount

    def collect(self) -> Iterable[Metric]:
        family = HistogramMetricFamily(self.name, self.doc, labels=self.labels)
        for labels, counts in list(self.values.items()):
            cumulative = accumulate(counts[:-1])
            family.add_metric(labels, list(zip(self.upper, cumulative, strict=True)), counts[-1])
        yield family


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


UNMATCHED = "unmatched"  # the route label of a request no route matched


def route_label(scope: Scope) -> str:
    """The matched route's template (`/v1/images/files/{image_id}`), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED
