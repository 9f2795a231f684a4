"""Liveness and readiness probes (no key needed, nothing secret in them), by GET or HEAD (probes
that only read the status; FastAPI adds no HEAD to a GET route, so each is named)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from image_gateway.api.deps import DispatcherDep, ImageUrlsDep, UpstreamDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
@router.head("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"description": "Not ready: a check failed (the same body, `checks` says which)."}
}


@router.get("/readyz", responses=READY_RESPONSES)
@router.head("/readyz", responses=READY_RESPONSES)
async def readyz(
    http: UpstreamDep, image_urls: ImageUrlsDep, dispatcher: DispatcherDep
) -> JSONResponse:
    checks: dict[str, Any] = {
        "upstream_client": http.started,
        "image_store": await image_urls.store.writable(),
    }
    ready = all(checks.values())
    adapters = dispatcher.providers
    configured = set(adapters.configured_at_start())  # makes no adapter that is not made yet
    body = {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "providers": {name: name in configured for name in adapters},
    }
    return JSONResponse(body, status_code=200 if ready else 503)
