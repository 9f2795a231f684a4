"""Requests the HTTP parser refuses get the gateway's JSON error, not the server's text.

uvicorn answers a request it cannot parse (a header without a colon, a NUL, space or non-ASCII
byte in the URL, a bad version, method or Content-Length, a TLS hello on the plain port) with
`400 text/plain "Invalid HTTP request received."`; the gateway's protocols
(`image_gateway/server.py`, httptools and h11 alike) answer with the OpenAI error shape,
`invalid_http_request`, `x-should-retry: false`, a request id in the body and in
`X-Request-ID`, and close the connection. The gateway keeps serving others meanwhile.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from emulators.kit.server import BackgroundServer, bind_socket, url_of
from image_gateway.app import create_app
from image_gateway.server import H11Protocol, HeaderTimeout, HttpToolsProtocol, protocol_class
from tests.conftest import LogCapture, RunningGateway, make_settings
from tests.test_metrics import scrape, value
from tests.test_slow_clients import answers, serves

MALFORMED = {
    "header-without-colon": b"GET /v1/models HTTP/1.1\r\nHost: gw\r\nBad Header\r\n\r\n",
    "space-before-colon": b"GET /v1/models HTTP/1.1\r\nHost: gw\r\nX-A : b\r\n\r\n",
    "nul-in-header": b"GET /v1/models HTTP/1.1\r\nHost: gw\r\nX-A: a\x00b\r\n\r\n",
    "cr-in-header": b"GET /v1/models HTTP/1.1\r\nHost: gw\r\nX-A: a\rb\r\n\r\n",
    "nul-in-url": b"GET /v1/mo\x00dels HTTP/1.1\r\nHost: gw\r\n\r\n",
    "space-in-url": b"GET /v1/a b HTTP/1.1\r\nHost: gw\r\n\r\n",
    "non-ascii-url": b"GET /v1/\xff HTTP/1.1\r\nHost: gw\r\n\r\n",
    "bad-version": b"GET /v1/models HTTP/9.x\r\nHost: gw\r\n\r\n",
    "bad-method": b"G(T /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n",
    "bad-content-length": (
        b"POST /v1/images/generations HTTP/1.1\r\nHost: gw\r\nContent-Length: abc\r\n\r\n"
    ),
    "tls-hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[[type[HeaderTimeout]], RunningGateway]]:
    running: list[BackgroundServer] = []

    def start(base: type[HeaderTimeout]) -> RunningGateway:
        settings = make_settings(tmp_path)
        sock = bind_socket()
        http = protocol_class(settings.client_header_timeout_seconds, base)
        server = BackgroundServer(create_app(settings), [sock], http=http)
        server.start()
        running.append(server)
        return RunningGateway(url_of(sock), settings, server)

    yield start
    for server in running:
        server.stop()


def exchange(url: str, raw: bytes) -> bytes:
    """Send `raw` on a new connection; everything the server sends until it closes."""
    host, port = url.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("base", [HttpToolsProtocol, H11Protocol], ids=["httptools", "h11"])
def test_malformed_requests_get_our_json_400(
    served: Callable[[type[HeaderTimeout]], RunningGateway],
    base: type[HeaderTimeout],
    gateway_logs: LogCapture,
) -> None:
    gw = served(base)
    ids = set()
    for name, raw in MALFORMED.items():
        [(status, headers, body)] = answers(exchange(gw.url, raw))  # then closed
        assert status == 400, name
        assert headers["content-type"] == "application/json", name
        assert headers["connection"] == "close", name
        assert headers["x-should-retry"] == "false", name  # the same bytes fail the same way
        error = body["error"]
        assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_http_request")
        assert "not valid HTTP/1.1" in error["message"]
        assert re.fullmatch(r"req_[0-9a-f]{24}", headers["x-request-id"]), name
        assert error["request_id"] == headers["x-request-id"], name
        ids.add(error["request_id"])
    assert len(ids) == len(MALFORMED)
    # Each refusal has a log line with its id, so a client's report can be matched to it.
    logged = {line for line in gateway_logs.lines if "malformed request refused" in line}
    assert all(any(i in line for line in logged) for i in ids)
    # And counted, as none of them reached the app's own request series.
    closed = 'igw_connections_closed_total{reason="invalid_http"}'
    assert value(scrape(gw).text, closed) == len(MALFORMED)
    serves(gw)  # the server is unaffected
