"""Liveness and readiness probes (no key needed, nothing secret in them), by GET or HEAD (probes
that only read the status; FastAPI adds no HEAD to a GET route, so each is named)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

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
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks: dict[str, Any] = {
        "upstream_client": state.http.started,
        "image_store": await state.store.writable(),
    }
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "providers": {name: p.configured for name, p in state.dispatcher.providers.items()},
    }
    return JSONResponse(body, status_code=200 if ready else 503)
