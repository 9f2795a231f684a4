"""The OpenAPI document (`GET /openapi.json`, what `/docs` and `/redoc` show), derived from the
code rather than kept beside it:

- **Errors.** Every error an operation can answer is documented with the one error body,
  `ErrorResponse` (the shape `errors.error_body` writes), and its headers (`x-should-retry`,
  `Retry-After`). Statuses and their descriptions come from the error classes in `errors.py`
  (`status_code`, `error_type`, `default_code`, `retry_safe`, docstring):
  those a route declares (`responses=error_responses(NotFound, …)`), plus those that follow
  from what it depends on — a key (`deps.authenticate`): 401, and 503 when the key store is
  unreachable; the admin key (`deps.require_admin`): 403; query parameters or a body: 400 (our
  validation answers 400, so FastAPI's 422, which this API never sends, is removed); a body:
  413 (`MAX_REQUEST_BYTES`) and 408 (`CLIENT_BODY_TIMEOUT_SECONDS`).
- **Keys.** The security schemes `X-API-Key` and `Authorization: Bearer`, on every operation that
  authenticates, so Swagger UI offers "Authorize" and sends the key.
- **Request models** the routes parse themselves for speed (`GenerationBody`) as components.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from image_gateway.api.deps import authenticate, require_admin
from image_gateway.errors import (
    AuthenticationFailed,
    ClientClosedRequest,
    GatewayError,
    InvalidRequest,
    PayloadTooLarge,
    PermissionDenied,
    RequestTimeout,
    ServiceUnavailable,
)

ERROR_SCHEMA = "ErrorResponse"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
KEY_SCHEMES: dict[str, dict[str, Any]] = {
    "APIKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A gateway key (GATEWAY_API_KEYS, or one stored with the admin API); "
        "`api-key: <key>` (the AzureOpenAI SDK's header) is read the same way. Keys are read "
        "from headers only: a key-like query parameter is a 401 `api_key_in_url`. In "
        "development mode (no GATEWAY_API_KEYS) clients connecting straight from loopback (no "
        "proxy's forwarding headers) need none.",
    },
    "HTTPBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The same key as `Authorization: Bearer <key>` (what the OpenAI SDKs send).",
    },
}
KEY_SECURITY: list[dict[str, list[str]]] = [{name: []} for name in KEY_SCHEMES]  # either one
UNUSED_COMPONENTS = ("HTTPValidationError", "ValidationError")


def error_classes() -> list[type[GatewayError]]:
    """Every error class the gateway has (`errors.py`), parents before children."""

    def walk(cls: type[GatewayError]) -> Iterator[type[GatewayError]]:
        yield cls
        for sub in cls.__subclasses__():
            yield from walk(sub)

    return list(dict.fromkeys(walk(GatewayError)))


def answered_errors() -> list[type[GatewayError]]:
    """The classes that name a specific error (a `default_code`): what a request can get —
    all but `ClientClosedRequest` (499), which is recorded when the client is gone, never sent."""
    return [
        cls
        for cls in error_classes()
        if cls.default_code is not None and cls is not ClientClosedRequest
    ]


ERROR_TYPES: tuple[str, ...] = tuple(sorted({cls.error_type for cls in error_classes()}))


class ErrorDetail(BaseModel):
    """What `errors.error_body` writes under `error` (OpenAI's error object, plus ours)."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(description="what went wrong, for a person; never a secret")
    type: str = Field(
        description="OpenAI's error type, which the SDKs map to exception classes",
        json_schema_extra={"enum": list(ERROR_TYPES)},
    )
    code: str | None = Field(description="a stable, machine-readable reason")
    param: str | None = Field(description="the request field or header at fault, if one is")
    provider: str | None = Field(None, description="the provider involved, if one was")
    request_id: str | None = Field(None, description="this request's X-Request-ID")


class ErrorResponse(BaseModel):
    """Every error answer's body (the OpenAI shape, so SDKs raise the right exception)."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


def describe(status: int, classes: list[type[GatewayError]]) -> str:
    """`"Not Found: - not_found (invalid_request_error) ..."` from the classes' own data."""
    lines = [f"{HTTPStatus(status).phrase}."]
    for cls in classes:
        summary = (cls.__doc__ or cls.__name__).strip().splitlines()[0]
        safe = ", may be retried" if cls.retry_safe else ""
        lines.append(f"- `{cls.default_code}` ({cls.error_type}{safe}): {summary}")
    return "\n".join(lines)


def error_headers(classes: list[type[GatewayError]]) -> dict[str, Any]:
    """What `GatewayError.response_headers()` adds: `x-should-retry` on every error answer,
    and `Retry-After` where a type that may be retried can say when."""
    headers: dict[str, Any] = {
        "x-should-retry": {
            "description": "`true` when the same request may be sent again (nothing was paid "
            "and the condition passes), else `false`; the OpenAI SDKs obey it",
            "schema": {"type": "string", "enum": ["true", "false"]},
        }
    }
    if any(cls.retry_safe for cls in classes):
        headers["Retry-After"] = {
            "description": "seconds to wait before sending the request again, when known",
            "schema": {"type": "integer"},
        }
    return headers


def error_responses(*classes: type[GatewayError]) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses=` for the errors a route raises itself, grouped by status."""
    by_status: dict[int, list[type[GatewayError]]] = {}
    for cls in classes:
        by_status.setdefault(cls.status_code, []).append(cls)
    return {
        status: {
            "model": ErrorResponse,
            "description": describe(status, found),
            "headers": error_headers(found),
        }
        for status, found in sorted(by_status.items())
    }


def install(app: FastAPI, *models: type[BaseModel]) -> None:
    """Build `app.openapi()` once, with the errors, security and `models` described above."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {})
            defs = components.setdefault("schemas", {})
            documented: tuple[type[BaseModel], ...] = (*models, ErrorResponse)
            for model in documented:
                model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                defs.update(model_schema.pop("$defs", {}))
                defs[model.__name__] = model_schema
            for name in UNUSED_COMPONENTS:
                defs.pop(name, None)
            components.setdefault("securitySchemes", {}).update(KEY_SCHEMES)
            # FastAPI's own walk over the routes, included routers resolved (their prefixes).
            for context in iter_route_contexts(app.routes):
                route = context.original_route
                if isinstance(route, APIRoute) and context.include_in_schema:
                    for method in context.methods or ():
                        path = schema["paths"][context.path_format]
                        _complete(path[method.lower()], route)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(operation: dict[str, Any], route: APIRoute) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    derived: list[type[GatewayError]] = []
    dependant = route.dependant
    body = "requestBody" in operation
    if body or _flat(dependant, lambda d: d.query_params):
        derived.append(InvalidRequest)
    admin = _depends_on(dependant, require_admin)  # which authenticates first
    if admin or _depends_on(dependant, authenticate):
        derived += [AuthenticationFailed, ServiceUnavailable]
        operation["security"] = KEY_SECURITY
    if admin:
        derived.append(PermissionDenied)
    if body:
        derived += [PayloadTooLarge, RequestTimeout]
    for status, response in error_responses(*derived).items():
        if str(status) not in responses:
            responses[str(status)] = {
                "description": response["description"],
                "headers": response["headers"],
                "content": {"application/json": {"schema": ERROR_REF}},
            }
    operation["responses"] = dict(sorted(responses.items()))


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def _flat(dependant: Dependant, field: Callable[[Dependant], list[Any]]) -> bool:
    return bool(field(dependant)) or any(_flat(d, field) for d in dependant.dependencies)
