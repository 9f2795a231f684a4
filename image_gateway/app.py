"""The application factory: wires settings, the upstream client, providers, store and routes,
and renders every error through one handler."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from image_gateway import __version__
from image_gateway.access.persistence import Persistence
from image_gateway.api import (
    admin,
    catalog,
    docs,
    files,
    health,
    images,
    openapi,
    playground,
    usage,
)
from image_gateway.api import jobs as jobs_api
from image_gateway.api.answer import Answerer
from image_gateway.api.error_responses import (
    error_response,
    gateway_error_response,
    unexpected_error_response,
)
from image_gateway.api.metrics import router as metrics_router
from image_gateway.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from image_gateway.blobs import build_image_store, build_image_urls
from image_gateway.blobs.retention import run_retention
from image_gateway.errors import GatewayError, InvalidRequest, NotFound
from image_gateway.fetch import ImageFetcher
from image_gateway.generation.dispatch import Dispatcher
from image_gateway.generation.rendering import Renderer
from image_gateway.jobs.runtime import Jobs
from image_gateway.observability.announce import announce_urls
from image_gateway.observability.logs import configure_logging
from image_gateway.observability.metrics import Metrics
from image_gateway.providers.adapters import Adapters
from image_gateway.schemas import GenerationBody
from image_gateway.served_by import HEADER_TIMEOUT, METRICS, ServedByCheck
from image_gateway.settings import Settings, load_settings
from image_gateway.upstream.client import UpstreamClient

log = logging.getLogger("image_gateway")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    proxy = settings.upstream_proxy
    http = UpstreamClient(
        connect_timeout=settings.upstream_connect_timeout_seconds,
        read_timeout=settings.upstream_read_timeout_seconds,
        max_connections=settings.upstream_max_connections,
        max_response_bytes=settings.upstream_max_response_bytes,
        proxy=proxy.get_secret_value() if proxy else None,
        trust_env=settings.upstream_trust_env,
        ca_bundle=settings.upstream_ca_bundle,
        happy_eyeballs_delay=settings.upstream_happy_eyeballs_delay_seconds or None,
        dns_cache_seconds=settings.upstream_dns_cache_seconds,
    )
    # User-supplied image URLs get their own client behind the SSRF guard (different trust).
    fetcher = ImageFetcher(
        max_bytes=settings.fetch_max_bytes,
        timeout=settings.fetch_timeout_seconds,
        max_redirects=settings.fetch_max_redirects,
        max_pixels=settings.fetch_max_pixels,
        allow_hosts=settings.fetch_allow_hosts,
    )
    providers = Adapters(settings, http, fetcher)  # each made on first use
    store = build_image_store(settings)
    image_urls = build_image_urls(settings, store)
    persistence = Persistence(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, object]]:
        # Each part is closed (in reverse order) even when a later one fails to start.
        async with AsyncExitStack() as stack:
            for part in (http, fetcher, store, persistence, app.state.jobs):
                await part.start()
                stack.push_async_callback(part.close)
            if settings.image_retention_hours > 0:
                retention = asyncio.create_task(
                    run_retention(
                        store,
                        max_age_seconds=settings.image_retention_hours * 3600,
                        interval=settings.image_cleanup_interval_seconds,
                    )
                )
                stack.callback(retention.cancel)
            metrics: Metrics = app.state.metrics
            if metrics.multiprocess_dir is not None:  # `--workers N`: README "Metrics and logs"
                publishing = asyncio.create_task(metrics.publish_forever())
                stack.callback(metrics.process_stopped)
                stack.callback(publishing.cancel)
            _announce(settings, providers)
            stack.enter_context(announce_urls(settings.public_base_url))
            # The server's protocol counts the connections it closes, and bounds request heads.
            yield {METRICS: metrics, HEADER_TIMEOUT: settings.client_header_timeout_seconds}

    app = FastAPI(
        title="image-gateway",
        version=__version__,
        description=(
            "One API for image generation across OpenAI, Black Forest Labs and more. "
            "To try it in a browser, open the [playground](/playground)."
        ),
        lifespan=lifespan,
        # Served from the package by api/docs.py (FastAPI's own pages load their assets from a
        # CDN, and are blank without internet access).
        docs_url=None,
        redoc_url=None,
        # Our own logs and metrics cover requests; FastAPI's OpenTelemetry hooks would add work
        # to the hot path and could export exception text outside our redaction.
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    app.state.settings = settings
    app.state.http = http
    app.state.fetcher = fetcher
    app.state.store = store
    app.state.image_urls = image_urls
    app.state.authenticator = persistence.authenticator
    app.state.persistence = persistence  # its stores are made on first use
    app.state.metrics = metrics = Metrics()  # one registry per app
    metrics.watch_pool(http.pool_stats)
    app.state.dispatcher = dispatcher = Dispatcher(
        settings,
        providers,
        persistence.controls,
        metrics=metrics,
        shared_slots=persistence.shared_slots,
        fetcher=fetcher,
    )
    renderer = Renderer(image_urls)  # synchronous answers and job results alike
    app.state.jobs = jobs = Jobs(
        settings,
        persistence=persistence,
        dispatcher=dispatcher,
        image_urls=image_urls,
        renderer=renderer,
    )
    wait = settings.request_deadline_seconds + 30  # an idempotent request's wait for its job
    app.state.answerer = Answerer(
        dispatcher,
        renderer,
        jobs,
        wait_seconds=wait,
        public_base_url=settings.public_base_url,
        keepalive_seconds=settings.stream_keepalive_seconds,
    )
    routers = [images.router, jobs_api.router, files.router, catalog.router, usage.router]
    routers += [admin.router]
    for router in (*routers, health.router, metrics_router):
        app.include_router(router)
    docs.install(app)
    playground.install(app)
    _install_error_handlers(app)
    openapi.install(app, GenerationBody)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        timeout=settings.client_body_timeout_seconds,
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics, count=settings.metrics_enabled)
    app.add_middleware(ServedByCheck)
    return app


def _announce(settings: Settings, providers: Adapters) -> None:
    configured = providers.configured_at_start()
    log.info("image-gateway started", extra={"fields": {"providers_configured": configured}})
    if settings.development_mode:
        log.warning(
            "DEVELOPMENT MODE: GATEWAY_API_KEYS is empty, so requests that send no key are "
            "served to clients connecting straight from loopback only (not through a proxy, "
            "which sends forwarding headers) and every other client gets 401 (a key that is "
            "sent must be valid). Set GATEWAY_API_KEYS before exposing this gateway."
        )


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _install_error_handlers(app: FastAPI) -> None:
    metrics: Metrics = app.state.metrics

    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError) -> Response:
        return gateway_error_response(exc, _request_id(request), metrics)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or None
        message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
        err = InvalidRequest(f"{field}: {message}" if field else message, param=field)
        return error_response(err, _request_id(request), metrics)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        err: GatewayError
        if exc.status_code == 404:
            # The path is not echoed: an unmatched path can hold anything a client pasted
            # into it, a key included (the access log leaves it out for the same reason).
            err = NotFound(f"no route for {request.method} at this path; the routes are at /docs")
        else:
            headers = dict(exc.headers or {})  # a 405's Allow (RFC 9110 §15.5.6)
            allowed = f"; allowed: {headers['Allow']}" if "Allow" in headers else ""
            err = InvalidRequest(f"{exc.detail}{allowed}", code="http_error", headers=headers)
            err.status_code = exc.status_code
        return error_response(err, _request_id(request), metrics)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return unexpected_error_response(exc, _request_id(request), metrics)
