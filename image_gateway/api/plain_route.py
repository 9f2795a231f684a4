"""`PlainRoute`: a FastAPI route whose dependencies are all `api/deps.py`'s kind, an
`async def` of the request alone without sub-dependencies, solved by calling them in turn.

FastAPI's own handling of a request (`request_response`, `get_request_handler`,
`solve_dependencies`) opens two `AsyncExitStack`s and keeps five coroutine frames of its own
alive for as long as the endpoint runs: a synchronous generation holds them for its whole
wait, once per request in flight (issue 16: thousands at once; bench/RESULTS.md). A
`PlainRoute` calls the endpoint with the request and its dependencies' values from one frame.
Everything else is FastAPI's: the route is declared, matched, documented (OpenAPI) and
included as any `APIRoute`; an exception from a dependency or the endpoint reaches the app's
exception handlers through Starlette's `ExceptionMiddleware`, as it would from FastAPI's
handler; and a request FastAPI must handle itself takes FastAPI's path, unchanged: a method
the route does not take (405), or a dependency of the route replaced in
`app.dependency_overrides` (an override may take other parameters).

Only an endpoint without parameters of its own besides the `Request` (its body read by
itself, as the image routes read theirs) qualifies; any other route made with this class is
an ordinary `APIRoute`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class Plain:
    """How to call a plain route's endpoint: its `Request` parameter's name, and each other
    parameter's name with the dependency that gives its value."""

    request: str
    calls: tuple[tuple[str, Callable[[Request], Awaitable[Any]]], ...]


class PlainRoute(APIRoute):
    """An `APIRoute` (see the module docstring); give it as a router's `route_class`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.plain = plain(self.dependant)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        how = self.plain
        if how is None or scope["method"] not in (self.methods or ()) or _overridden(scope, how):
            await super().handle(scope, receive, send)
            return
        request = Request(scope, receive, send)
        values: dict[str, Any] = {how.request: request}
        for name, call in how.calls:
            values[name] = await call(request)
        response = await self.endpoint(**values)
        await response(scope, receive, send)


def plain(dependant: Dependant) -> Plain | None:
    """How to call the route of `dependant` plainly, or None when FastAPI must: a parameter
    besides the request and the dependencies (path, query, header, cookie, body, response,
    background tasks, ...), or a dependency that is not an `async def` of the request alone."""
    if (
        dependant.request_param_name is None
        or not inspect.iscoroutinefunction(dependant.call)
        or dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return None
    calls = []
    for dependency in dependant.dependencies:
        call = dependency.call
        if (
            dependency.name is None
            or call is None
            or not inspect.iscoroutinefunction(call)
            or dependency.dependencies
            or dependency.request_param_name is None
            or len(inspect.signature(call).parameters) != 1
        ):
            return None
        calls.append((dependency.name, call))
    return Plain(dependant.request_param_name, tuple(calls))


def _overridden(scope: Scope, how: Plain) -> bool:
    """Whether the app replaces one of the route's dependencies (`app.dependency_overrides`)."""
    overrides: dict[object, object] = getattr(scope.get("app"), "dependency_overrides", None) or {}
    return bool(overrides) and any(call in overrides for _, call in how.calls)
