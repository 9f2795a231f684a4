"""Submit listener: BFL's generation endpoints and `/v1/credits`, served by a real FastAPI app.

Using FastAPI itself (as BFL does) gives the genuine 422 shapes, 404/405 bodies and the order of
checks: an unparseable JSON body is a 422 before auth; then `x-key`; then body validation; then
credits (402) and the concurrency limit (429).

Auth (exact BFL codes unverified): missing/empty `x-key` → 403 `{"detail":"Not authenticated"}`
(FastAPI's classic APIKeyHeader answer); wrong key → 401 `{"detail":"Invalid API key"}`. The key
is never echoed. `/v1/get_result` is deliberately NOT served here (404): poll `polling_url`.

Strict mode: BFL's schemas ignore unknown fields; strict ones forbid them (pydantic's
`extra_forbidden` 422, `loc: ["body", <field>]`, FastAPI's shape).
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from ..kit import auth
from ..kit.records import RequestLog, json_fields
from .catalog import ENDPOINTS, Endpoint, plan
from .tasks import BFLState, SubmitRejected

FAULT_SCOPE_KEY = "emulator.fault"  # the fault of this request, for the submit handler


def auth_failure(state: BFLState, key: str | None) -> tuple[int, str] | None:
    """(status, detail) when the `x-key` value is not acceptable, else None."""
    if not key:
        return 403, "Not authenticated"
    if not auth.matches(key, state.api_key):
        return 401, "Invalid API key"
    return None


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(obj), status_code=status, headers=headers, media_type="application/json"
    )


@cache
def strict_model(model: type[BaseModel]) -> type[BaseModel]:
    """`model`, refusing fields it does not declare."""
    config = ConfigDict(extra="forbid")
    return type(model.__name__, (model,), {"model_config": config, "__module__": __name__})


def build_submit_app(state: BFLState, log: RequestLog, strict: bool = False) -> FastAPI:
    app = FastAPI(title="BFL API (emulator)", openapi_url=None, docs_url=None, redoc_url=None)

    async def require_key(request: Request) -> None:
        failure = auth_failure(state, request.headers.get("x-key"))
        if failure is not None:
            state.count("auth_failures")
            raise HTTPException(status_code=failure[0], detail=failure[1])

    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        authorised = auth_failure(state, request.headers.get("x-key")) is None
        if request.url.path in ENDPOINTS and authorised:
            state.count("rejected_422")
            state.record_attempt(request.url.path, exc.body)
            log.record("POST", request.url.path, json_fields(exc.body))
        return await request_validation_exception_handler(request, exc)

    app.add_exception_handler(RequestValidationError, on_invalid)

    for ep in ENDPOINTS.values():
        handler = _submit_handler(state, log, ep, strict_model(ep.model) if strict else ep.model)
        app.add_api_route(ep.path, handler, methods=["POST"], dependencies=[Depends(require_key)])

    async def credits() -> Response:
        return json_response({"credits": round(state.credits.balance, 4)})

    app.add_api_route("/v1/credits", credits, methods=["GET"], dependencies=[Depends(require_key)])
    return app


def _submit_handler(state: BFLState, log: RequestLog, ep: Endpoint, model: type[BaseModel]) -> Any:
    async def handler(request: Request, body: BaseModel) -> Response:
        raw = await request.json()
        state.record_attempt(ep.path, raw)
        log.record("POST", ep.path, json_fields(raw))
        fields = body.__dict__
        webhook = raw.get("webhook_url") if isinstance(raw, dict) else None
        prompt, seed = fields.get("prompt") or "", fields.get("seed")
        fault = request.scope.get(FAULT_SCOPE_KEY)
        try:
            out = state.submit(ep, prompt, seed, plan(ep, body), webhook, fault)
        except SubmitRejected as exc:
            return json_response({"detail": exc.detail}, exc.status, exc.headers)
        return json_response(out)

    # FastAPI reads the body model from the signature: give each endpoint its own schema.
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", kind, annotation=Request),
            inspect.Parameter("body", kind, annotation=model),
        ],
        return_annotation=Response,
    )
    handler.__name__ = f"submit_{ep.name.replace('-', '_').replace('.', '_')}"
    return handler
