"""Prometheus metrics on prometheus_client's own `Counter`, `Histogram` and `Gauge`, registered
in one `CollectorRegistry` per app (tests build many apps in one process), and the text
exposition served at `GET /metrics`.

Series (counters end in `_total` in the exposition, with prometheus_client's `_created`):
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
    igw_connections_closed_total{reason}                connections the server closed before
                                                        a request reached the app: head_timeout
                                                        (`server.HeaderTimeout`), invalid_http

Labels come from closed sets (routes, providers, catalogue models, error codes); anything
open-ended (pass-through model ids, provider error codes) is capped, then reported as "other"
(`Bounded`). The gauges are set from what they watch (`watch`) when scraped, so the request
path only ever does `inc()`/`observe()`, on children looked up once per label values.

Multiprocess mode (`uvicorn --workers N`): with `PROMETHEUS_MULTIPROC_DIR` set before the
process starts, prometheus_client keeps every value in a file per process in that folder, and
`GET /metrics` answers the sum over all of them (`multiprocess.MultiProcessCollector`), whichever
worker is asked. A watched gauge is then written to its file every `PUBLISH_SECONDS` by each
worker (`publish_forever`), aggregated by its `multiprocess_mode`, and removed when the worker
stops (`process_stopped`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from typing import Generic, Literal, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Scope

from image_gateway.errors import GatewayError
from image_gateway.settings import ConfigurationError

CONTENT_TYPE = CONTENT_TYPE_LATEST
MAX_LABEL_VALUES = 200  # per label kind; beyond, "other"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
PROVIDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60)
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's switch to multiprocess mode
PUBLISH_SECONDS = 1.0  # multiprocess mode: how stale another worker's gauges may be

M = TypeVar("M", Counter, Histogram, Gauge)
Read = Callable[[], Mapping[str, float]]  # label value -> gauge value, read when scraped


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


class Children(Generic[M]):
    """A labelled metric's children by label values: `labels()` once per label values, then a
    dict lookup (prometheus_client's `labels()` takes a lock and checks its arguments on every
    call). The label values must come from bounded sets, as the metric's own would."""

    __slots__ = ("children", "metric")

    def __init__(self, metric: M) -> None:
        self.metric: M = metric
        self.children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = self.metric.labels(*values)
        return child


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Children(
            Counter("igw_http_requests", "HTTP requests", ("route", "status"), registry=r)
        )
        self.request_seconds = Children(
            Histogram(
                "igw_http_request_duration_seconds",
                "HTTP request latency",
                ("route",),
                registry=r,
                buckets=LATENCY_BUCKETS,
            )
        )
        self.errors = Children(
            Counter("igw_errors", "Error responses", ("type", "code"), registry=r)
        )
        self.provider_seconds = Children(
            Histogram(
                "igw_provider_call_duration_seconds",
                "One upstream provider call (generate), by outcome ('ok' or the error code)",
                ("provider", "model", "outcome"),
                registry=r,
                buckets=PROVIDER_BUCKETS,
            )
        )
        self.retries = Children(
            Counter(
                "igw_provider_retries",
                "Retries of an upstream call",
                ("provider", "reason"),
                registry=r,
            )
        )
        self.fallbacks = Children(
            Counter(
                "igw_fallbacks",
                "Moves from one candidate to the next",
                ("from_provider", "to_provider", "reason"),
                registry=r,
            )
        )
        self.circuit_transitions = Children(
            Counter(
                "igw_circuit_transitions",
                "Circuit breaker state changes",
                ("provider", "state"),
                registry=r,
            )
        )
        self.queue_wait = Children(
            Histogram(
                "igw_provider_queue_wait_seconds",
                "Wait for a provider concurrency slot",
                ("pool",),
                registry=r,
                buckets=WAIT_BUCKETS,
            )
        )
        self.quota = Children(
            Counter(
                "igw_provider_quota_exhausted",
                "Provider answers saying the account is out of credits or quota",
                ("provider",),
                registry=r,
            )
        )
        self.images = Children(
            Counter("igw_images_generated", "Images returned", ("provider", "model"), registry=r)
        )
        self.cost = Children(
            Counter(
                "igw_cost_usd",
                "Cost of generations, outcome-unknown estimates included",
                ("provider", "model"),
                registry=r,
            )
        )
        self.unknown = Children(
            Counter(
                "igw_outcome_unknown",
                "Requests whose provider calls may have been charged without an answer",
                ("provider", "model"),
                registry=r,
            )
        )
        self.unknown_cost = Children(
            Counter(
                "igw_outcome_unknown_cost_usd",
                "Estimated cost of those calls (part of igw_cost_usd)",
                ("provider", "model"),
                registry=r,
            )
        )
        self.closed = Children(
            Counter(
                "igw_connections_closed",
                "Connections closed before a request reached the app",
                ("reason",),
                registry=r,
            )
        )
        # Gauges, set when scraped from what they `watch`. `multiprocess_mode` says how the
        # workers' values add up: each worker has its own breakers, so one series per worker
        # (a `pid` label); queues, slots and connections are summed; every worker has the
        # same configured limit.
        self.upstream_connections = self._gauge(
            "igw_upstream_connections", "Upstream pool connections", "state", "livesum"
        )
        self.circuit_state = self._gauge(
            "igw_circuit_state",
            "Circuit breaker state: 0 closed, 1 open, 2 half-open",
            "provider",
            "liveall",
        )
        self.queue_depth = self._gauge(
            "igw_provider_queue_depth", "Calls waiting for a slot", "pool", "livesum"
        )
        self.in_flight = self._gauge(
            "igw_provider_in_flight", "Calls holding a slot", "pool", "livesum"
        )
        self.pool_limit = self._gauge(
            "igw_provider_pool_limit", "Slots in the pool", "pool", "livemax"
        )
        self._watched: list[tuple[Gauge, Read]] = []
        self._by_request: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        self._models = Bounded()
        self._codes = Bounded()
        self.multiprocess_dir = os.environ.get(MULTIPROC_DIR) or None
        self._exposed = self.registry
        if self.multiprocess_dir is not None:
            self._exposed = CollectorRegistry()
            try:
                multiprocess.MultiProcessCollector(self._exposed, self.multiprocess_dir)  # type: ignore[no-untyped-call]
            except ValueError:
                raise ConfigurationError(
                    f"image-gateway: invalid configuration\n  {MULTIPROC_DIR} "
                    f"({self.multiprocess_dir}) must be an existing folder"
                ) from None

    def _gauge(
        self,
        name: str,
        doc: str,
        label: str,
        mode: Literal["liveall", "livesum", "livemax"],
    ) -> Gauge:
        return Gauge(name, doc, (label,), registry=self.registry, multiprocess_mode=mode)

    # --- request path -----------------------------------------------------------------------

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        pair = self._by_request.get((route, status))
        if pair is None:  # once per route template and status
            pair = self._by_request[route, status] = (
                self.requests(route, str(status)),
                self.request_seconds(route),
            )
        pair[0].inc()
        pair[1].observe(seconds)

    def error(self, err: GatewayError) -> None:
        self.errors(err.error_type, self._codes(err.code)).inc()

    def provider_call(self, provider: str, model: str, outcome: str | None, started: float) -> None:
        labels = (provider, self._models(model), self._codes(outcome))
        self.provider_seconds(*labels).observe(time.perf_counter() - started)

    def retried(self, provider: str, reason: str) -> None:
        self.retries(provider, self._codes(reason)).inc()

    def fell_back(self, from_provider: str, to_provider: str, reason: str) -> None:
        self.fallbacks(from_provider, to_provider, self._codes(reason)).inc()

    def circuit_moved(self, provider: str, state: str) -> None:
        self.circuit_transitions(provider, state).inc()

    def queue_waited(self, pool: str, seconds: float) -> None:
        self.queue_wait(pool).observe(seconds)

    def quota_exhausted(self, provider: str) -> None:
        self.quota(provider).inc()

    def served(self, provider: str, model: str, images: int) -> None:
        self.images(provider, self._models(model)).inc(images)

    def spent(self, provider: str, model: str, cost_usd: float | None, unknown: bool) -> None:
        """A usage-ledger row's cost; `unknown`: it is an estimate for calls whose outcome is
        unknown (they may have been charged), counted in both series."""
        labels = (provider, self._models(model))
        if unknown:
            self.unknown(*labels).inc()
            if cost_usd:
                self.unknown_cost(*labels).inc(cost_usd)
        if cost_usd:
            self.cost(*labels).inc(cost_usd)

    def connection_closed(self, reason: str) -> None:
        """The server closed a connection before a request reached the app (`server.py`:
        "head_timeout" or "invalid_http", a closed set)."""
        self.closed(reason).inc()

    # --- scrape time ------------------------------------------------------------------------

    def watch(self, gauge: Gauge, read: Read) -> None:
        """Set `gauge` (one of ours: `circuit_state`, `queue_depth`...) from `read()`, a value
        per label value, whenever it is scraped. The label values should be a stable set (pools,
        providers, connection states): one that is no longer read keeps its last value."""
        self._watched.append((gauge, read))

    def watch_pool(self, stats: Read) -> None:
        """The upstream connection pool (`UpstreamClient.pool_stats`), read when scraped."""
        self.watch(self.upstream_connections, stats)

    def publish(self) -> None:
        """Set the watched gauges from what they watch, now. (Not `Gauge.set_function`: it
        takes one child whose label values are known in advance, where a reading brings its
        own, and prometheus_client's multiprocess mode cannot read a function.)"""
        for gauge, read in self._watched:
            for value, reading in read().items():
                gauge.labels(value).set(reading)

    def render(self) -> bytes:
        """The text exposition (`CONTENT_TYPE`): this app's registry, or in multiprocess mode
        the sum over every process's files."""
        self.publish()
        return generate_latest(self._exposed)

    async def publish_forever(self) -> None:
        """Multiprocess mode: keep this process's watched gauges in its files (another worker
        may answer a scrape), every `PUBLISH_SECONDS`, until cancelled."""
        while True:
            self.publish()
            await asyncio.sleep(PUBLISH_SECONDS)

    def process_stopped(self) -> None:
        """Multiprocess mode: this process's gauges leave the sums (`mark_process_dead`); its
        counters and histograms stay, as totals must not go down."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]


UNMATCHED = "unmatched"  # the route label of a request no route matched


def route_label(scope: Scope) -> str:
    """The matched route's template (`/v1/images/files/{image_id}`), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED
