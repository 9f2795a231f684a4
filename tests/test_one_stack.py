"""One stack serves every route: `POST /v1/images/generations` goes through the same middleware,
routing, dependencies and exception handlers as every other request, so what is added to the
app applies to it too (a dependency override, an exception handler, a middleware), and a
deployment under a `root_path` (uvicorn `--root-path`, a proxy prefix) serves it as any other.
Each case runs a real server over real sockets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from emulators.kit.server import BackgroundServer, bind_socket, url_of
from image_gateway.access.auth import Client
from image_gateway.api.answer import Answerer
from image_gateway.api.deps import authenticate, get_answerer
from image_gateway.app import create_app
from image_gateway.errors import InvalidRequest
from image_gateway.server import protocol_class
from tests.conftest import GATEWAY_TEST_KEY, LogCapture, make_settings
from tests.jobs.support import eventually

ROUTE = "/v1/images/generations"
AUTH = {"X-API-Key": GATEWAY_TEST_KEY}
PREFIX = "/gw"


class Served:
    """An app made by `create_app`, served by uvicorn (with the gateway's protocol)."""

    def __init__(self, app: FastAPI, server: BackgroundServer, url: str) -> None:
        self.app, self.server, self.url = app, server, url

    def post(self, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
        with httpx.Client(base_url=self.url, timeout=30) as http:
            return http.post(ROUTE, content=raw, headers=headers)

    def metrics(self) -> str:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            return http.get("/metrics").text


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """`serve(prepare=None, root_path="", **settings)`: a gateway in its own folder; `prepare`
    may change the app before it starts (as an operator's code would)."""
    started: list[Served] = []

    def start(
        prepare: Callable[[FastAPI], None] | None = None, root_path: str = "", **overrides: Any
    ) -> Served:
        folder = tmp_path / f"gw{len(started)}"
        folder.mkdir()
        settings = make_settings(folder, **overrides)
        app = create_app(settings)
        if prepare is not None:
            prepare(app)
        sock = bind_socket()
        http = protocol_class(settings.client_header_timeout_seconds)
        server = BackgroundServer(app, [sock], http=http, root_path=root_path)
        server.start()
        served = Served(app, server, url_of(sock))
        started.append(served)
        return served

    yield start
    for served in started:
        served.server.stop()


def shape(resp: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    """What must not depend on the deployment: status, body without ids and times, and the
    headers a client relies on."""
    body = resp.json()
    if "error" in body:
        assert body["error"].pop("request_id") == resp.headers["x-request-id"]
    else:
        assert body.pop("id").startswith("img_")
        body.pop("created")
        for item in body["data"]:
            item.pop("b64_json", None)
            item.pop("url", None)
    headers = {
        name: resp.headers[name]
        for name in ("content-type", "retry-after", "connection", "x-should-retry")
        if name in resp.headers
    }
    assert resp.headers["x-request-id"].startswith("req_")
    return resp.status_code, body, headers


CASES: list[tuple[str, Any, dict[str, str]]] = [
    ("success", {"prompt": "a red fox", "size": "64x64"}, AUTH),
    ("success-url", {"prompt": "a red fox", "size": "64x64", "response_format": "url"}, AUTH),
    ("no key", {"prompt": "p"}, {}),
    ("bad json", b"{not json", AUTH),
    ("invalid field", {"prompt": "p", "n": 0}, AUTH),
    ("unknown field", {"prompt": "p", "api_base": "http://x"}, AUTH),
    ("unknown model", {"prompt": "p", "model": "nope-1"}, AUTH),
    ("not configured", {"prompt": "p", "model": "gpt-image-1"}, AUTH),
    ("too large", b"x" * 70_000, AUTH),
]


def test_a_root_path_serves_the_main_route_as_without_one(
    serve: Callable[..., Served], gateway_logs: LogCapture
) -> None:
    plain = serve(max_request_bytes=64 * 1024)
    prefixed = serve(root_path=PREFIX, max_request_bytes=64 * 1024)
    for _, body, headers in CASES:
        assert shape(prefixed.post(body, headers)) == shape(plain.post(body, headers))
    # Image links name the prefix the gateway is reached under; behind a proxy that strips it,
    # the link is served.
    answer = prefixed.post({"prompt": "p", "size": "64x64", "response_format": "url"}, AUTH)
    url = answer.json()["data"][0]["url"]
    assert url.startswith(f"{prefixed.url}{PREFIX}/v1/images/files/")
    image = httpx.get(url.replace(f"{prefixed.url}{PREFIX}", prefixed.url), timeout=30)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"

    def series(text: str) -> list[str]:
        return sorted(
            line
            for line in text.splitlines()
            if line.startswith("igw_errors_total")
            or (line.startswith("igw_http_requests_total") and "/v1/images/files/" not in line)
        )

    # Counted under the same route template and error codes either way.
    plain.post({"prompt": "p", "size": "64x64", "response_format": "url"}, AUTH)
    assert series(prefixed.metrics()) == series(plain.metrics())
    assert f'route="{ROUTE}",status="200"' in "".join(series(prefixed.metrics()))

    def access_lines() -> list[dict[str, Any]] | None:
        lines = [json.loads(line) for line in gateway_logs.lines]
        found = [line for line in lines if line["logger"] == "image_gateway.access"]
        return found if len(found) >= 2 * len(CASES) + 2 else None

    refused = [line for line in eventually(access_lines, timeout=5) if line["status"] == 401]
    assert [line["path"] for line in refused] == [ROUTE, ROUTE]


def test_a_dependency_override_applies_to_the_main_route(serve: Callable[..., Served]) -> None:
    async def as_someone(request: Request) -> Client:
        request.scope.setdefault("state", {})["client_name"] = "overridden"
        return Client("overridden")

    def prepare(app: FastAPI) -> None:
        wired: Answerer = app.state.answerer
        moved = Answerer(
            wired.dispatcher,
            wired.renderer,
            wired.jobs,
            wait_seconds=wired.wait_seconds,
            public_base_url="https://images.example.test/base",
        )

        async def elsewhere() -> Answerer:
            return moved

        app.dependency_overrides[authenticate] = as_someone
        app.dependency_overrides[get_answerer] = elsewhere

    gw = serve(prepare)
    answer = gw.post({"prompt": "p", "size": "64x64", "response_format": "url"})  # no key
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"][0]["url"].startswith("https://images.example.test/base/v1/")


def test_an_exception_handler_added_to_the_app_applies_to_the_main_route(
    serve: Callable[..., Served],
) -> None:
    async def teapot(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InvalidRequest)
        return JSONResponse({"handled": exc.param}, status_code=418)

    gw = serve(lambda app: app.add_exception_handler(InvalidRequest, teapot))
    answer = gw.post({"prompt": "p", "n": 0}, AUTH)
    assert (answer.status_code, answer.json()) == (418, {"handled": "n"})
    # The request-context middleware still gave it its id.
    assert answer.headers["x-request-id"].startswith("req_")


def test_a_middleware_added_to_the_app_sees_the_main_route(serve: Callable[..., Served]) -> None:
    seen: list[str] = []

    class Stamp:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            seen.append(f"{scope['method']} {scope['path']}")

            async def stamped(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", []).append((b"x-stamp", b"1"))
                await send(message)

            await self.app(scope, receive, stamped)

    gw = serve(lambda app: app.add_middleware(Stamp))
    answer = gw.post({"prompt": "p", "size": "64x64"}, AUTH)
    assert answer.status_code == 200 and answer.headers["x-stamp"] == "1"
    assert f"POST {ROUTE}" in seen


def test_a_server_that_gives_its_address_as_a_list_is_served(
    serve: Callable[..., Served],
) -> None:
    """ASGI lets `scope["server"]` be any two-item iterable (Starlette's TestClient gives a
    list): the answer's base URL is made from it as from uvicorn's tuple."""

    class AsList:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope.get("server") is not None:
                scope["server"] = list(scope["server"])
            await self.app(scope, receive, send)

    gw = serve(lambda app: app.add_middleware(AsList))
    for _ in range(2):  # the first answer fills the base-URL cache, the second reads it
        answer = gw.post({"prompt": "p", "size": "64x64", "response_format": "url"}, AUTH)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"][0]["url"].startswith(gw.url), answer.json()


def test_an_unexpected_error_is_a_clean_500(
    serve: Callable[..., Served], gateway_logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = serve()

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug with a secret sk-live-should-not-leak")

    monkeypatch.setattr(gw.app.state.dispatcher, "generate", broken)
    status, body, _ = shape(gw.post({"prompt": "p"}, AUTH))
    assert status == 500 and "internal error" in body["error"]["message"]
    assert "sk-live" not in json.dumps(body)
    tracebacks = [line for line in gateway_logs.lines if "unhandled error" in line]
    assert len(tracebacks) == 1 and "RuntimeError" in tracebacks[0]


def test_routes_get_the_wiring_only_as_dependencies() -> None:
    """`app.state` holds the app's wiring; in `api/` only `deps.py` reads it, so a route's
    needs are dependencies a test or an operator can override."""
    api = Path(__file__).resolve().parent.parent / "image_gateway" / "api"
    readers = sorted(p.name for p in api.glob("*.py") if "app.state" in p.read_text())
    assert readers == ["deps.py"]
