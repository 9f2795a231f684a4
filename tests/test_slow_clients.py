"""Slow clients cannot hold the server: a request's head must arrive within
CLIENT_HEADER_TIMEOUT_SECONDS (the server's protocol, `image_gateway/server.py`) and its body
within CLIENT_BODY_TIMEOUT_SECONDS (the ASGI layer), over raw sockets that drip bytes.

Each dripping connection is answered 408 (JSON, `Connection: close`) and closed within its
bound — or closed silently when it sent nothing — while the gateway keeps serving others.
The same holds whichever way the server is started: in-process (tests), the Dockerfile's
command, `make run`; plain `uvicorn main:app` says with a warning that it lacks the bound.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulators.kit.server import BackgroundServer, bind_socket, url_of
from image_gateway.app import create_app
from image_gateway.server import H11Protocol, HeaderTimeout, HttpToolsProtocol, protocol_class
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway, make_settings
from tests.jobs.processes import REPO, START_TIMEOUT, Gateway, Process
from tests.ports import free_port
from tests.test_metrics import scrape, value

HEAD_SECONDS = 1.0
BODY_SECONDS = 1.5
SLACK = 1.5  # scheduling on a loaded 2-core machine
EARLY = 0.01  # asyncio runs a timer up to its clock resolution early
DRIP = 0.25  # seconds between bytes: far slower than any real client
REQUEST_HEAD = (
    "POST /v1/images/generations HTTP/1.1\r\nHost: gw\r\n"
    f"X-API-Key: {GATEWAY_TEST_KEY}\r\nContent-Type: application/json\r\n"
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[..., RunningGateway]]:
    """A gateway whose server uses the given header-timeout protocol (httptools or h11)."""
    running: list[BackgroundServer] = []

    def start(base: type[HeaderTimeout] = HttpToolsProtocol, **overrides: Any) -> RunningGateway:
        settings = make_settings(
            tmp_path,
            client_header_timeout_seconds=HEAD_SECONDS,
            client_body_timeout_seconds=BODY_SECONDS,
            **overrides,
        )
        sock = bind_socket()
        http = protocol_class(settings.client_header_timeout_seconds, base)
        server = BackgroundServer(create_app(settings), [sock], http=http)
        server.start()
        running.append(server)
        return RunningGateway(url_of(sock), settings, server)

    yield start
    for server in running:
        server.stop()


OPEN: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


class Drip:
    """A raw connection that sends `first` at once, then `rest` one byte every DRIP seconds
    until the server closes it, reading all the while (a server that closes a connection
    whose client is still sending resets it, and a reset discards what was not read yet).
    `wait()` returns what the server sent and how long after connecting the connection ended."""

    def __init__(self, url: str, first: bytes, rest: bytes = b"") -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        OPEN.append(self.sock)
        self.started = time.monotonic()
        if first:
            self.sock.sendall(first)
        self.rest = rest
        self.received = b""
        self.ended: float | None = None
        self._sender = threading.Thread(target=self._send, daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._sender.start()
        self._reader.start()

    def _send(self) -> None:
        for byte in self.rest:
            time.sleep(DRIP)
            if self.ended is not None:
                return
            try:
                self.sock.sendall(bytes([byte]))
            except OSError:
                return

    def _read(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                self.received += chunk
        except OSError:  # reset, or the test's own timeout
            pass
        self.ended = time.monotonic() - self.started

    def wait(self, timeout: float = 30) -> tuple[bytes, float]:
        self._reader.join(timeout)
        self.sock.close()
        assert self.ended is not None, "the server never closed the connection"
        return self.received, self.ended


def endless(text: str) -> bytes:
    """Far more bytes than can drip within any bound of these tests."""
    return (text * 200).encode()


def answers(raw: bytes) -> list[tuple[int, dict[str, str], Any]]:
    """Each response on the connection: status, headers (lower case), JSON body."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        length = int(headers["content-length"])
        found.append((int(lines[0].split()[1]), headers, json.loads(rest[:length])))
        raw = rest[length:]
    return found


def assert_408(raw: bytes, what: str) -> None:
    [(status, headers, body)] = answers(raw)
    assert status == 408, raw[:300]
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    assert headers["x-should-retry"] == "true"  # nothing was sent anywhere: a retry is safe
    assert body["error"]["code"] == "request_timeout", body
    assert body["error"]["type"] == "invalid_request_error"
    assert what in body["error"]["message"]
    # Findable in the logs like any answer, though no request reached the app (the head case).
    assert re.fullmatch(r"req_[0-9a-f]{24}", headers["x-request-id"])
    assert body["error"]["request_id"] == headers["x-request-id"]


def serves(gw: RunningGateway) -> None:
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={"prompt": "p", "size": "64x64"})
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("base", [HttpToolsProtocol, H11Protocol], ids=["httptools", "h11"])
def test_dripped_headers_are_cut_off_and_others_are_served(
    served: Callable[..., RunningGateway], base: type[HeaderTimeout]
) -> None:
    gw = served(base)
    # Many at once: each holds a socket (a file descriptor) only for the bound.
    drips = [Drip(gw.url, b"POST /v1/images/gen", endless("X-Slow: yes\r\n")) for _ in range(20)]
    silent = Drip(gw.url, b"")  # connects, then sends nothing at all
    serves(gw)  # while they drip
    for drip in drips:
        raw, ended = drip.wait()
        assert HEAD_SECONDS - EARLY <= ended < HEAD_SECONDS + SLACK
        assert_408(raw, "headers did not arrive within 1 seconds")
    raw, ended = silent.wait()
    assert (
        raw == b"" and HEAD_SECONDS - EARLY <= ended < HEAD_SECONDS + SLACK
    )  # closed, nothing said
    serves(gw)
    # Counted for operators: no request reached the app's own series.
    closed = 'igw_connections_closed_total{reason="head_timeout"}'
    assert value(scrape(gw).text, closed) == len(drips) + 1


BUSY = b"BUSY"  # what makes `Busy` hold the server's event loop


class Busy(HeaderTimeout):
    """A protocol that holds the event loop for HEAD_SECONDS + 0.5 inside the loop's read of
    sockets when a connection sends BUSY: a turn of the loop that reads thousands of sockets on
    a loaded machine, as under 10,000 connections opened at once."""

    def data_received(self, data: bytes) -> None:
        if data == BUSY:
            time.sleep(HEAD_SECONDS + 0.5)
            return
        super().data_received(data)


class BusyHttpTools(Busy, HttpToolsProtocol):
    pass


class BusyH11(Busy, H11Protocol):
    pass


@pytest.mark.parametrize("base", [BusyHttpTools, BusyH11], ids=["httptools", "h11"])
def test_a_head_sent_in_time_is_answered_when_the_loop_reads_it_late(
    served: Callable[..., RunningGateway], base: type[HeaderTimeout]
) -> None:
    """The head arrives while the loop is held past the connection's bound: the loop runs the
    due bound before it reads sockets, and the request is answered all the same (not closed
    with its bytes unread, which resets it); a client that sends nothing is still cut off."""
    gw = served(base)
    body = b'{"prompt": "p", "size": "64x64"}'
    request = (REQUEST_HEAD + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    prompt = Drip(gw.url, b"")
    silent = Drip(gw.url, b"")
    time.sleep(0.3)  # both connections made: their bounds run from here
    busy = Drip(gw.url, b"")
    time.sleep(0.1)
    busy.sock.sendall(BUSY)  # holds the loop till past both bounds
    time.sleep(0.2)
    prompt.sock.sendall(request)  # in time, but read only once the loop is free
    raw, _ = prompt.wait()
    assert [status for status, _, _ in answers(raw)] == [200], raw[:300]  # b"": reset
    raw, ended = silent.wait()  # closed (`wait` fails if not); when, the tests above hold
    assert raw == b"" and ended >= HEAD_SECONDS - EARLY
    busy.wait()


@pytest.mark.parametrize("base", [HttpToolsProtocol, H11Protocol], ids=["httptools", "h11"])
def test_a_kept_alive_connection_is_bound_for_each_request_head(
    served: Callable[..., RunningGateway], base: type[HeaderTimeout]
) -> None:
    gw = served(base)
    body = b'{"prompt": "p", "size": "64x64"}'
    first = (REQUEST_HEAD + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    # A full request answered at once, then the next one's head dripped on the same connection
    # past the first request's own bound (so the bound is per request head, not per connection).
    drip = Drip(gw.url, first, b"GET /healthz HTTP/1.1\r\n" + endless("X-Slow: yes\r\n"))
    raw, ended = drip.wait()
    (ok, _, _), (status, headers, body) = answers(raw)
    assert (ok, status, headers["connection"]) == (200, 408, "close")
    assert body["error"]["code"] == "request_timeout"
    assert ended >= HEAD_SECONDS - EARLY


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/images/generations", "application/json"),  # a generation
        ("/v1/images/edits", "multipart/form-data; boundary=xyz"),  # an edit, multipart
        ("/v1/images/edits", "application/json"),  # an edit, JSON
        ("/v1/jobs/job_x/cancel", "application/json"),  # a route that never reads its body
    ],
    ids=["generations", "edits-multipart", "edits-json", "unread-body"],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_dripped_bodies_are_cut_off_and_others_are_served(
    served: Callable[..., RunningGateway], path: str, content_type: str, chunked: bool
) -> None:
    gw = served()
    framing = "Transfer-Encoding: chunked" if chunked else "Content-Length: 100000"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: gw\r\nX-API-Key: {GATEWAY_TEST_KEY}\r\n"
        f"Content-Type: {content_type}\r\n{framing}\r\n\r\n"
    ).encode()
    chunk = b"10000\r\n" if chunked else b""  # one large chunk, never finished
    if content_type.startswith("multipart/"):
        start = b'--xyz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n'
    else:
        start = b'{"prompt": "'
    drips = [Drip(gw.url, head + chunk + start, endless("a")) for _ in range(5)]
    serves(gw)
    for drip in drips:
        raw, ended = drip.wait()
        if path.endswith("/cancel"):
            # Answered (404: no such job) without reading the body; the unread body then
            # drips into the server's header bound, and the connection is closed.
            assert [status for status, _, _ in answers(raw)] == [404, 408]
            assert HEAD_SECONDS - EARLY <= ended < HEAD_SECONDS + SLACK
        else:
            assert BODY_SECONDS - EARLY <= ended < BODY_SECONDS + SLACK
            assert_408(raw, "body did not arrive within 1.5 seconds")
    serves(gw)


def test_dripped_headers_cut_off_in_the_gateway_as_deployed(tmp_path: Path) -> None:
    """The Dockerfile's command and `make run` serve with the header bound, read from the
    environment (CLIENT_HEADER_TIMEOUT_SECONDS) like every other setting."""
    commands = {"dockerfile": dockerfile_command(), "make-run": make_run_command()}
    for name, argv in commands.items():
        port = free_port()
        argv = [*argv]
        argv[argv.index("--port") + 1] = str(port)
        argv[argv.index("--host") + 1] = "127.0.0.1"
        gw = deployed(name, argv, port, tmp_path)
        try:
            drip = Drip(gw.url, b"GET /healthz HTTP/1.1\r\n", endless("X-Slow: yes\r\n"))
            raw, ended = drip.wait()
            assert_408(raw, "headers did not arrive within 1 seconds")
            assert HEAD_SECONDS - EARLY <= ended < HEAD_SECONDS + SLACK + 1, name
            assert httpx.get(gw.url + "/healthz", timeout=10).status_code == 200
        finally:
            gw.stop()
        assert "does not bound the time" not in gw.err.read_text()


def test_plain_uvicorn_warns_that_it_does_not_bound_headers(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "main:app", "--port", str(port)]
    gw = deployed("plain", argv, port, tmp_path)
    try:
        assert httpx.get(gw.url + "/healthz", timeout=10).status_code == 200
        gw.wait_for(
            lambda: "--http image_gateway.server:HttpProtocol" in gw.err.read_text(),
            "warning",
            10,
        )
    finally:
        gw.stop()


def deployed(name: str, argv: list[str], port: int, folder: Path) -> Gateway:
    """A gateway process started by `argv` (in `folder`: no `.env`), once it answers."""
    settings = {
        "gateway_api_keys": GATEWAY_TEST_KEY,
        "database_url": f"sqlite+aiosqlite:///{folder}/{name}.db",
        "image_store_dir": folder / "images",
        "client_header_timeout_seconds": HEAD_SECONDS,
    }
    gw = Gateway.__new__(Gateway)
    gw.port, gw.url = port, f"http://127.0.0.1:{port}"
    Process.__init__(gw, name, argv, settings, folder)
    gw.wait_for(gw._healthy, "/healthz answer", START_TIMEOUT)
    return gw


def dockerfile_command() -> list[str]:
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            argv: list[str] = json.loads(line.removeprefix("CMD "))
            assert argv[0] == "uvicorn"
            return [sys.executable, "-m", *argv]
    raise AssertionError("the Dockerfile has no CMD")


def make_run_command() -> list[str]:
    venv = Path(sys.executable).parent.parent
    printed = subprocess.run(
        ["make", "-n", "run", f"VENV={venv}", "HOST=127.0.0.1", "PORT=1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in reversed(printed.splitlines()) if " main:app" in line)
    return shlex.split(line)


def test_the_bound_named_by_class_is_the_apps_own_setting(tmp_path: Path) -> None:
    """`--http image_gateway.server:HttpProtocol` binds no value: the bound is the served app's
    CLIENT_HEADER_TIMEOUT_SECONDS, from its lifespan state, not the settings loaded again (this
    process's environment would give the default, 10 s)."""
    settings = make_settings(tmp_path, client_header_timeout_seconds=HEAD_SECONDS)
    sock = bind_socket()
    server = BackgroundServer(create_app(settings), [sock], http=HttpToolsProtocol)
    server.start()
    try:
        drip = Drip(url_of(sock), b"GET /healthz HTTP/1.1\r\n", endless("X-Slow: yes\r\n"))
        raw, ended = drip.wait()
        assert_408(raw, "headers did not arrive within 1 seconds")
        assert HEAD_SECONDS - EARLY <= ended < HEAD_SECONDS + SLACK
    finally:
        server.stop()
