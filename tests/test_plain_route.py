"""`api/plain_route.py`: which routes are called plainly, and that a plain route answers as
FastAPI's handling would (dependencies, exception handlers, 405, overrides), over sockets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from emulators.kit.server import BackgroundServer, bind_socket, url_of
from image_gateway.api import images
from image_gateway.api.plain_route import PlainRoute, plain


class Refused(Exception):
    pass


async def who(request: Request) -> str:
    name = request.headers.get("x-name")
    if name is None:
        raise Refused()
    return name


async def greeting(request: Request) -> str:
    return "hello"


def sync_dependency(request: Request) -> str:  # FastAPI runs it in its thread pool
    return "sync"


async def with_a_parameter(request: Request, extra: str = Query("")) -> str:
    return extra


Who = Annotated[str, Depends(who)]
Greeting = Annotated[str, Depends(greeting)]

router = APIRouter(prefix="/p", route_class=PlainRoute)


@router.post("/hello")
async def hello(request: Request, name: Who, text: Greeting) -> Response:
    """What the plain call gave the endpoint."""
    return JSONResponse({"text": f"{text} {name}", "path": request.url.path})


@router.post("/query")
async def query(request: Request, q: str = "") -> Response:
    return JSONResponse({"q": q})


@router.post("/sync")
async def uses_sync(request: Request, value: Annotated[str, Depends(sync_dependency)]) -> Response:
    return JSONResponse({"value": value})


@router.post("/nested")
async def nested(request: Request, value: Annotated[str, Depends(with_a_parameter)]) -> Response:
    return JSONResponse({"value": value})


def routes() -> dict[str, PlainRoute]:
    return {route.path: route for route in router.routes if isinstance(route, PlainRoute)}


def test_the_image_routes_are_called_plainly() -> None:
    for route in images.router.routes:
        assert isinstance(route, PlainRoute) and route.plain is not None, route


def test_a_route_with_other_parameters_or_dependencies_is_fastapis() -> None:
    found = routes()
    assert found["/p/hello"].plain is not None
    assert [name for name, _ in found["/p/hello"].plain.calls] == ["name", "text"]
    for path in ("/p/query", "/p/sync", "/p/nested"):
        assert found[path].plain is None, path
        assert plain(found[path].dependant) is None


@pytest.fixture
def app_url() -> Iterator[tuple[FastAPI, str]]:
    app = FastAPI()
    app.include_router(router)

    async def refused(request: Request, exc: Exception) -> Response:
        return JSONResponse({"refused": True}, status_code=401)

    app.add_exception_handler(Refused, refused)
    sock = bind_socket()
    server = BackgroundServer(app, [sock])
    server.start()
    yield app, url_of(sock)
    server.stop()


def test_a_plain_route_answers_as_fastapi_would(app_url: tuple[FastAPI, str]) -> None:
    app, url = app_url
    with httpx.Client(base_url=url, timeout=30) as http:
        answer = http.post("/p/hello", headers={"x-name": "ada"})
        assert answer.json() == {"text": "hello ada", "path": "/p/hello"}
        # A dependency's exception reaches the app's exception handler.
        assert (http.post("/p/hello").status_code, http.post("/p/hello").json()) == (
            401,
            {"refused": True},
        )
        # FastAPI's own answers: a method the route does not take, a query parameter.
        wrong = http.get("/p/hello")
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
        assert http.post("/p/query?q=x").json() == {"q": "x"}
        assert http.post("/p/sync").json() == {"value": "sync"}

        # An override (here one with no parameter at all) is FastAPI's to solve.
        async def someone() -> str:
            return "override"

        app.dependency_overrides[who] = someone
        assert http.post("/p/hello").json()["text"] == "hello override"
        app.dependency_overrides.clear()
        assert http.post("/p/hello").status_code == 401
