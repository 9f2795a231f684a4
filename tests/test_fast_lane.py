"""The fast lane (`image_gateway/fast_lane.py`) answers `POST /v1/images/generations` exactly as
the routed FastAPI stack does: the same statuses, bodies, headers, access-log lines and metrics,
for successes and for every kind of failure. Each case runs against two real servers of the
same settings, one with the lane and one without, over real sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulators._server import BackgroundServer, bind_socket, url_of
from image_gateway.app import create_app
from image_gateway.fast_lane import Gateway
from image_gateway.server import protocol_class
from tests.conftest import GATEWAY_TEST_KEY, LogCapture, make_settings
from tests.jobs.support import eventually

ROUTE = "/v1/images/generations"
AUTH = {"X-API-Key": GATEWAY_TEST_KEY}


class Server:
    def __init__(self, app: Gateway, server: BackgroundServer, url: str) -> None:
        self.app, self.server, self.url = app, server, url

    def post(self, body: Any = None, **kwargs: Any) -> httpx.Response:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            if body is not None:
                raw = isinstance(body, bytes | Iterator)
                kwargs["content"] = body if raw else json.dumps(body)
            return http.post(ROUTE, **kwargs)

    def metrics(self) -> str:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            return http.get("/metrics").text


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Callable[..., tuple[Server, Server]]]:
    """(with the lane, without it): two gateways of the same settings, each its own folder."""
    started: list[Server] = []

    def start(**overrides: Any) -> tuple[Server, Server]:
        servers = []
        for name in ("lane", "routed"):
            folder = tmp_path / name
            folder.mkdir()
            app = create_app(make_settings(folder, **overrides))
            assert isinstance(app, Gateway) and app.lane is not None
            if name == "routed":
                app.lane = None
            sock = bind_socket()
            http = protocol_class(app.state.settings.client_header_timeout_seconds)
            background = BackgroundServer(app, [sock], http=http)
            background.start()
            servers.append(Server(app, background, url_of(sock)))
        started.extend(servers)
        return servers[0], servers[1]

    yield start
    for server in started:
        server.server.stop()


def shape(resp: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    """What must match: status, body without ids/times, and the headers a client relies on."""
    body = resp.json()
    if "error" in body:
        assert body["error"].pop("request_id") == resp.headers["x-request-id"]
    else:
        assert body.pop("id").startswith("img_")
        body.pop("created")
    headers = {
        name: resp.headers[name]
        for name in ("content-type", "retry-after", "connection")
        if name in resp.headers
    }
    assert resp.headers["x-request-id"].startswith("req_")
    return resp.status_code, body, headers


CASES: list[tuple[str, dict[str, Any]]] = [
    ("success", {"body": {"prompt": "a red fox", "size": "64x64"}, "headers": AUTH}),
    ("no key", {"body": {"prompt": "p"}, "headers": {}}),
    ("wrong key", {"body": {"prompt": "p"}, "headers": {"X-API-Key": "igw-nope"}}),
    ("bad json", {"body": b"{not json", "headers": AUTH}),
    ("not an object", {"body": [1, 2], "headers": AUTH}),
    ("invalid field", {"body": {"prompt": "p", "n": 0}, "headers": AUTH}),
    ("unknown field", {"body": {"prompt": "p", "api_base": "http://x"}, "headers": AUTH}),
    ("unknown model", {"body": {"prompt": "p", "model": "nope-1"}, "headers": AUTH}),
    ("not configured", {"body": {"prompt": "p", "model": "gpt-image-1"}, "headers": AUTH}),
    ("too large", {"body": b"x" * 70_000, "headers": AUTH}),
]


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_lane_answers_as_the_routed_stack(pair: Any, name: str, case: dict[str, Any]) -> None:
    lane, routed = pair(max_request_bytes=64 * 1024)
    assert shape(lane.post(case["body"], headers=case["headers"])) == shape(
        routed.post(case["body"], headers=case["headers"])
    )


def test_access_log_and_metrics_match(pair: Any, gateway_logs: LogCapture) -> None:
    lane, routed = pair()
    for server in (lane, routed):
        assert server.post({"prompt": "p", "size": "64x64"}, headers=AUTH).status_code == 200
        assert server.post({"prompt": "p", "n": 0}, headers=AUTH).status_code == 400
        assert server.post({"prompt": "p"}, headers={}).status_code == 401

    def access_lines() -> list[dict[str, Any]] | None:
        # Written once the answer is sent, so possibly a moment after the client has it.
        lines = [json.loads(line) for line in gateway_logs.lines]
        found = [line for line in lines if line["logger"] == "image_gateway.access"]
        return found if len(found) == 6 else None

    access = eventually(access_lines, timeout=5)
    for line in access:
        del line["ts"], line["request_id"], line["latency_ms"]
    assert access[:3] == access[3:]
    assert access[0]["client"] == "key-1" and access[0]["model"] == "local-art"
    assert access[0]["status"] == 200 and access[2]["status"] == 401

    def series(text: str) -> list[str]:
        wanted = ("igw_http_requests_total", "igw_errors_total", "igw_images_generated_total")
        return sorted(
            line for line in text.splitlines() if line.startswith(wanted) and f'"{ROUTE}"' in line
        )

    assert series(lane.metrics()) == series(routed.metrics())
    assert 'igw_http_requests_total{route="/v1/images/generations",status="401"} 1.0' in (
        series(lane.metrics())
    )


def test_unexpected_error_is_a_clean_500_on_both(
    pair: Any, gateway_logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    lane, routed = pair()
    for server in (lane, routed):

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a bug with a secret sk-live-should-not-leak")

        monkeypatch.setattr(server.app.state.dispatcher, "generate", broken)
    answers = [shape(s.post({"prompt": "p"}, headers=AUTH)) for s in (lane, routed)]
    assert answers[0] == answers[1]
    status, body, _ = answers[0]
    assert status == 500 and "internal error" in body["error"]["message"]
    assert "sk-live" not in json.dumps(body)
    tracebacks = [line for line in gateway_logs.lines if "unhandled error" in line]
    assert len(tracebacks) == 2 and all("RuntimeError" in line for line in tracebacks)


def test_streamed_body_over_the_limit_and_client_that_leaves(pair: Any) -> None:
    lane, routed = pair(max_request_bytes=64 * 1024)

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"y" * 1024

    for server in (lane, routed):
        resp = server.post(chunks(), headers=AUTH)
        assert resp.status_code == 413
        assert resp.json()["error"]["code"] == "payload_too_large"
    # A client that sends half its body and leaves: the lane drops the request quietly and
    # keeps serving.
    host, port = lane.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            f"POST {ROUTE} HTTP/1.1\r\nHost: x\r\nX-API-Key: {GATEWAY_TEST_KEY}\r\n".encode()
            + b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"prompt":'
        )
    assert lane.post({"prompt": "p", "size": "64x64"}, headers=AUTH).status_code == 200


def test_other_methods_and_paths_are_left_to_the_router(pair: Any) -> None:
    lane, _ = pair()
    with httpx.Client(base_url=lane.url, timeout=30) as http:
        assert http.get(ROUTE, headers=AUTH).status_code == 405
        trailing = http.post(ROUTE + "/", json={"prompt": "p"}, headers=AUTH)
        assert trailing.status_code in (307, 404)
        # Async requests go through the lane too, to the same answer() as the router.
        queued = http.post(
            ROUTE, json={"prompt": "p", "size": "64x64"}, headers=AUTH | {"Prefer": "respond-async"}
        )
        assert queued.status_code == 202 and queued.headers["location"].startswith("/v1/jobs/")
