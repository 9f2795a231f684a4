"""Logs through stdlib logging, formatted by python-json-logger: the JSON line's shape, our
handler on stderr only while nobody configured logging, an embedding application's root
handlers getting each record once, and nothing changed in logging for the whole process. No
key reaches a log: query values are redacted in uvicorn's access log (a real `uvicorn
main:app` process, with and without `--reload`), and gateway keys, provider keys and webhook
secrets appear in no line it writes."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from image_gateway.observability.logs import (
    JsonFormatter,
    JsonLinesHandler,
    QueryRedaction,
    configure_logging,
    redact_query,
)
from tests.admin_helpers import ADMIN_TEST_KEY
from tests.conftest import (
    BFL_TEST_KEY,
    GATEWAY_TEST_KEY,
    OPENAI_TEST_KEY,
    LogCapture,
    OpenAIEmulatorHandle,
    RunningGateway,
)
from tests.jobs.processes import REPO, START_TIMEOUT, Process
from tests.jobs.support import ASYNC, eventually
from tests.jobs.test_webhooks_delivery import Receiver
from tests.ports import free_port

FIELDS = {"request_id": "req_1", "status": 200, "path": "/v1/x\r\ny", "cost": 0.25, "n": None}


@pytest.fixture
def loggers() -> tuple[logging.Logger, logging.Logger, io.StringIO]:
    """A parent with our handler's formatter (like `image_gateway`) and a child (like
    `.access`), made outside logging's registry, so that no other handler (pytest's) is
    attached to them."""
    stream = io.StringIO()
    parent = logging.Logger("igw_test_logs", logging.INFO)
    parent.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    parent.addHandler(handler)
    child = logging.Logger("igw_test_logs.access")
    child.parent = parent
    return parent, child, stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_is_one_json_object_with_its_fields(loggers: Any) -> None:
    parent, child, stream = loggers
    child.info("request", extra={"fields": FIELDS, "other": "x"})
    child.warning("two\nlines %s", "in\r\none")
    try:
        raise ValueError("boom")
    except ValueError:
        child.exception("failed", extra={"fields": {"request_id": "req_2"}})
    first, second, third = lines(stream)
    assert len(stream.getvalue().splitlines()) == 3  # CR/LF in a message or a field stay inside
    assert list(first)[:4] == ["ts", "level", "logger", "msg"]
    assert abs(first.pop("ts") - parent.makeRecord("x", 20, "", 0, "", (), None).created) < 5
    assert first == {"level": "info", "logger": "igw_test_logs.access", "msg": "request"} | {
        **FIELDS,
        "other": "x",
    }
    assert (second["level"], second["msg"]) == ("warning", "two\nlines in\r\none")
    assert third["request_id"] == "req_2" and third["level"] == "error"
    assert third["exc"].startswith("Traceback") and "ValueError: boom" in third["exc"]


def test_levels_are_honoured(loggers: Any) -> None:
    parent, child, stream = loggers
    parent.setLevel(logging.WARNING)
    child.info("request", extra={"fields": FIELDS})
    assert stream.getvalue() == ""
    child.warning("slow", extra={"fields": FIELDS})
    assert lines(stream)[0]["level"] == "warning"


def test_our_handler_writes_only_while_the_root_logger_has_none() -> None:
    stream = io.StringIO()
    handler = JsonLinesHandler(stream)
    logger = logging.Logger("igw_test_handler")
    logger.addHandler(handler)
    root_handlers = logging.root.handlers[:]
    try:
        logging.root.handlers.clear()  # as in `uvicorn main:app`: nobody configured logging
        logger.warning("alone")
        logging.root.handlers.append(logging.NullHandler())  # an application configured it
        logger.warning("configured")
    finally:
        logging.root.handlers[:] = root_handlers
    assert [line["msg"] for line in lines(stream)] == ["alone"]


def test_configure_logging_changes_nothing_for_the_process() -> None:
    """Only our logger's level and handler, and the redaction filter on uvicorn's access
    logger: the root logger, `propagate` and logging's module-wide switches stay as they were."""
    root = logging.getLogger()
    before = (root.level, root.handlers[:], root.filters[:])
    switches = (logging.logThreads, logging.logProcesses, logging.logMultiprocessing)
    source = logging._srcfile
    configure_logging("DEBUG")
    configure_logging("INFO")
    ours = logging.getLogger("image_gateway")
    assert (root.level, root.handlers, root.filters) == before
    assert (logging.logThreads, logging.logProcesses, logging.logMultiprocessing) == switches
    assert logging._srcfile == source
    assert ours.propagate and ours.level == logging.INFO
    assert sum(isinstance(h, JsonLinesHandler) for h in ours.handlers) == 1
    assert all(logging.getLogger(name).propagate for name in ("image_gateway.access",))


EMBEDDER = """
import logging, sys

def configure():  # an application's own logging: a root handler with its own format
    handler = logging.StreamHandler(sys.stdout)
    fmt = "embedder|%(name)s|%(fields)s"
    handler.setFormatter(logging.Formatter(fmt, defaults={"fields": {}}))
    logging.getLogger().addHandler(handler)

{before}
from image_gateway.app import create_app
app = create_app()
{after}
"""


@pytest.mark.parametrize("embedded", ["alone", "configured-before", "configured-after"])
def test_each_record_is_written_once_by_our_handler_or_the_applications(
    tmp_path: Path, embedded: str
) -> None:
    """A real `uvicorn` process. Served alone (`main:app`), each request's access line is one
    JSON line on stderr. Embedded in an application that gives the root logger a handler
    (before or after `create_app`), the line reaches that handler once, by propagation, and
    ours writes nothing."""
    app = "main:app"
    if embedded != "alone":
        when = embedded.removeprefix("configured-")
        code = EMBEDDER.replace("{before}", "configure()" if when == "before" else "")
        code = code.replace("{after}", "configure()" if when == "after" else "")
        (tmp_path / "embedder.py").write_text(code)
        app = "embedder:app"
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", app, "--app-dir", str(tmp_path)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    settings = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/gateway.db",
        "image_store_dir": tmp_path / "images",
        "gateway_api_keys": GATEWAY_TEST_KEY,
        "log_level": "INFO",
    }
    server = Process("gateway", argv, settings, tmp_path)
    url = f"http://127.0.0.1:{port}"
    ids = [f"req-{embedded}-{i}" for i in range(3)]
    try:
        server.wait_for(lambda: _healthy(url), "/healthz answer", START_TIMEOUT)
        for request_id in ids:
            resp = httpx.get(f"{url}/v1/models", headers={"X-Request-ID": request_id})
            assert resp.status_code == 401, resp.text  # an error answer is logged all the same
    finally:
        server.stop()
    out, err = server.out.read_text(), server.err.read_text()
    ours = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    theirs = [line for line in out.splitlines() if line.startswith("embedder|")]
    for request_id in ids:
        mine = [line for line in ours if line.get("request_id") == request_id]
        other = [line for line in theirs if repr(request_id) in line]
        if embedded == "alone":
            assert not theirs and len(mine) == 1, err[-3000:]
            assert mine[0]["logger"] == "image_gateway.access" and mine[0]["level"] == "info"
            assert (mine[0]["status"], mine[0]["path"]) == (401, "/v1/models")
        else:
            assert not ours and len(other) == 1, out[-3000:] + err[-3000:]
            assert other[0].startswith("embedder|image_gateway.access|{")
    if embedded != "alone":  # the start-up line as well, through the application's handler
        assert any(line.startswith("embedder|image_gateway|") for line in theirs), out[-3000:]


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("/v1/models", "/v1/models"),
        ("/v1/models?api_key=sk-1&limit=2", "/v1/models?api_key=[redacted]&limit=[redacted]"),
        ("/x?key=a&key=b", "/x?key=[redacted]&key=[redacted]"),
        ("/x?igw_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", "/x?[redacted]"),
        ("/x?%61pi_key=k&=v&&flag", "/x?[redacted]&[redacted]&&[redacted]"),
        ('/x?api_key="quoted#frag', "/x?api_key=[redacted]"),
        ("/x?a=1?b=2", "/x?a=[redacted]"),
        ("/x?a=1;b=2", "/x?a=[redacted]"),
        ("GET /x?token=abc HTTP/1.1", "GET /x?token=[redacted] HTTP/1.1"),
        # Path parameters, and a query that arrived inside the path (`%3F` on the wire):
        ("/v1/models;api_key=sk-1", "/v1/models;api_key=[redacted]"),
        (
            "/v1/models;a=1;b=2?c=3&d",
            "/v1/models;a=[redacted];b=[redacted]?c=[redacted]&[redacted]",
        ),
        ("/v1/models;sk-1/rest", "/v1/models;[redacted]"),
        ("/v1/models?api_key=sk-1", "/v1/models?api_key=[redacted]"),
        # ... as uvicorn logs it (the path quoted), any case, encoded twice:
        ("/v1/models%3Fapi_key%3Dsk-1%26x%3D2", "/v1/models?api_key=[redacted]&x=[redacted]"),
        ("/v1/models%3fapi_key%3dsk-1", "/v1/models?api_key=[redacted]"),
        ("/v1/models%3Bapi_key%3Dsk-1", "/v1/models;api_key=[redacted]"),
        ("/v1/models%253Fapi_key%253Dsk-1", "/v1/models?api_key=[redacted]"),
        ("/v1/models%25253Fsk-1", "/v1/models?[redacted]"),
        ("a; b", "a; b"),  # a lone `;` hides nothing
        ("/v1/a%20b%0A", "/v1/a%20b%0A"),  # other escapes stay escaped: no line is split
    ],
)
def test_redact_query(text: str, redacted: str) -> None:
    assert redact_query(text) == redacted


def test_the_app_puts_the_filter_on_uvicorns_access_logger_once() -> None:
    access = logging.getLogger("uvicorn.access")
    configure_logging("INFO")
    configure_logging("INFO")
    assert sum(isinstance(f, QueryRedaction) for f in access.filters) == 1
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/v1/models?api_key={GATEWAY_TEST_KEY}", "1.1", 200),
        None,
    )
    assert access.filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /v1/models?api_key=[redacted] HTTP/1.1" 200'


PASTED = "igw-pasted-canary-6a2d8f0c4e"


def test_the_access_line_logs_no_path_a_client_made_up(
    gateway: RunningGateway, gateway_logs: LogCapture
) -> None:
    """Our access line: a served request's path (parameters redacted); for an error the
    route's template, or nothing when no route matched, since such a path is whatever the
    client typed — a key pasted into it included."""
    requests = [
        ("/v1/models?limit=1", GATEWAY_TEST_KEY, 200, "/v1/models"),
        (f"/v1/jobs/{PASTED}", GATEWAY_TEST_KEY, 404, "/v1/jobs/{job_id}"),
        (f"/v1/jobs/{PASTED}", None, 401, "/v1/jobs/{job_id}"),
        (f"/v1/{PASTED}", GATEWAY_TEST_KEY, 404, None),
        (f"/v1/models;api_key={PASTED}", GATEWAY_TEST_KEY, 404, None),
        (f"/v1/models%3Fapi_key={PASTED}", GATEWAY_TEST_KEY, 404, None),
        (f"/v1/images/files/{PASTED}", None, 404, "/v1/images/files/{image_id}"),
    ]
    for path, key, status, logged in requests:
        with gateway.client(key=key) as http:
            resp = http.get(path)
        assert resp.status_code == status, (path, resp.text)
        request_id = resp.headers["x-request-id"]

        def access_lines(request_id: str = request_id) -> list[dict[str, Any]]:
            return [
                json.loads(line)
                for line in gateway_logs.lines
                if '"image_gateway.access"' in line and request_id in line
            ]

        [line] = eventually(access_lines)  # written once the answer is sent
        assert (line["status"], line["path"]) == (status, logged), path
    leaked = [piece for piece in fragments(PASTED) if piece in "\n".join(gateway_logs.lines)]
    assert not leaked, leaked[:3]


WEBHOOK_SECRET = "whsec_canary-webhook-9e4c1a7b3f"
WRONG_KEY = "igw-wrong-canary-0d6b2f8a4c"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def fragments(secret: str, start: int = 0, length: int = 8) -> set[str]:
    return {secret[i : i + length] for i in range(start, len(secret) - length + 1)}


@pytest.mark.parametrize("reload", [False, True], ids=["uvicorn", "uvicorn-reload"])
def test_no_key_reaches_uvicorns_access_log_or_ours(
    tmp_path: Path,
    openai_emu: OpenAIEmulatorHandle,
    bfl: Any,
    receiver: Receiver,
    reload: bool,
) -> None:
    """The README's manual path, `uvicorn main:app [--reload]` (uvicorn's access log on), as
    a process: keys sent in the URL (any parameter name, or bare) and in headers, provider keys
    used upstream and echoed back by a failing provider, a webhook secret — none of them, nor
    any 8-character piece, is in anything the process writes."""
    settings = {
        "gateway_api_keys": GATEWAY_TEST_KEY,
        "admin_api_key": ADMIN_TEST_KEY,
        "openai_api_key": OPENAI_TEST_KEY,
        "openai_base_url": openai_emu.base_url,
        "bfl_api_key": BFL_TEST_KEY,
        "bfl_base_url": bfl.base_url,
        "bfl_trusted_hosts": bfl.poll_base_url,
        "bfl_poll_initial_seconds": 0.05,
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/gateway.db",
        "image_store_dir": tmp_path / "images",
        "webhook_allow_hosts": receiver.authority,
        "retry_max_attempts": 1,
        "log_level": "DEBUG",
    }
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "main:app", "--app-dir", str(REPO)]
    argv += ["--host", "127.0.0.1", "--port", str(port)] + (["--reload"] if reload else [])
    server = Process("gateway", argv, settings, tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        server.wait_for(lambda: _healthy(url), "/healthz answer", START_TIMEOUT)
        statuses = _requests_with_keys_everywhere(url, openai_emu, receiver)
    finally:
        server.stop()
    output = server.err.read_text() + server.out.read_text()
    access = [line for line in output.splitlines() if ' HTTP/1.1" ' in line]
    # uvicorn's access log was on: each request has its line, with the names of the parameters.
    assert len(access) >= len(statuses), output[-3000:]
    assert '"GET /v1/models?limit=[redacted]&note=[redacted] HTTP/1.1" 200' in output
    assert '"POST /v1/images/generations?q=[redacted] HTTP/1.1" 200' in output
    assert '"GET /healthz?[redacted] HTTP/1.1" 200' in output
    assert '"GET /v1/models?api_key=[redacted]&limit=[redacted] HTTP/1.1" 401' in output
    assert '"GET /v1/models?api_key=[redacted] HTTP/1.1" 404' in output  # from `%3F`
    assert '"GET /v1/models;api_key=[redacted] HTTP/1.1" 404' in output
    ours = [json.loads(line) for line in output.splitlines() if '"image_gateway.access"' in line]
    assert len(ours) >= len(statuses)
    assert {entry["path"] for entry in ours} >= {"/v1/models", "/v1/images/generations", None}
    assert all("?" not in (entry["path"] or "") for entry in ours)
    for secret in (GATEWAY_TEST_KEY, ADMIN_TEST_KEY, OPENAI_TEST_KEY, BFL_TEST_KEY):
        leaked = [piece for piece in fragments(secret) if piece in output]
        assert not leaked, (secret, leaked[:3])
    for secret in (WEBHOOK_SECRET, WRONG_KEY):
        leaked = [piece for piece in fragments(secret) if piece in output]
        assert not leaked, (secret, leaked[:3])
    stored = statuses["stored_key"]
    leaked = [piece for piece in fragments(stored, start=8) if piece in output]  # past its prefix
    assert not leaked, leaked[:3]


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _requests_with_keys_everywhere(
    url: str, openai_emu: OpenAIEmulatorHandle, receiver: Receiver
) -> dict[str, Any]:
    """Requests that put keys in the URL (and headers); their statuses by name. Those whose
    query has a key-like parameter are refused (401); other parameters, whatever their values,
    are served; a key inside the path finds no route (404)."""
    echo = {"error": {"message": f"bad {OPENAI_TEST_KEY}", "type": "x", "code": None}}
    openai_emu.add_faults([{"match": "generate", "status": 500, "body": echo}])
    got: dict[str, Any] = {}
    key = {"X-API-Key": GATEWAY_TEST_KEY}
    with httpx.Client(base_url=url, headers=key, timeout=30) as http:
        got["models"] = http.get(f"/v1/models?limit=3&note={GATEWAY_TEST_KEY}").status_code
        got["bare"] = http.get(f"/healthz?{GATEWAY_TEST_KEY}").status_code
        got["providers"] = http.get(
            "/v1/providers", params={"openai": OPENAI_TEST_KEY, "bfl": BFL_TEST_KEY}
        ).status_code
        body = {"model": "gpt-image-1", "prompt": "a fox", "size": "1024x1024"}
        got["openai_fails"] = http.post(
            f"/v1/images/generations?q={GATEWAY_TEST_KEY}", json=body
        ).status_code
        got["openai"] = http.post(
            f"/v1/images/generations?q={GATEWAY_TEST_KEY}", json=body
        ).status_code
        flux = {"model": "flux-dev", "prompt": "a fox", "size": "512x512"}
        got["bfl"] = http.post(f"/v1/images/generations?n={BFL_TEST_KEY}", json=flux).status_code
        hooked = {**flux, "webhook_url": receiver.url, "webhook_secret": WEBHOOK_SECRET}
        job = http.post(
            f"/v1/images/generations?ref={GATEWAY_TEST_KEY}", json=hooked, headers=ASYNC
        )
        got["async"] = job.status_code
        job_id = job.json()["id"]
        eventually(lambda: receiver.deliveries, timeout=30)
        got["job"] = http.get(f"/v1/jobs/{job_id}?x={GATEWAY_TEST_KEY}").json()["status"]
        got["jobs"] = http.get(f"/v1/jobs?x={GATEWAY_TEST_KEY}&status=succeeded").status_code
        admin = {"X-API-Key": ADMIN_TEST_KEY}
        created = http.post(
            f"/v1/admin/keys?note={ADMIN_TEST_KEY}", json={"name": "n"}, headers=admin
        )
        got["stored_key"] = created.json()["key"]
        stored = {"Authorization": f"Bearer {got['stored_key']}"}
        got["stored"] = http.get(f"/v1/models?ref={got['stored_key']}", headers=stored).status_code
        got["wrong"] = http.get(
            f"/v1/models?x={WRONG_KEY}", headers={"X-API-Key": WRONG_KEY}
        ).status_code
        # Key-like parameter names: refused before anything else, with a valid header key too.
        for name, secret, path in (
            ("api_key", GATEWAY_TEST_KEY, "/v1/models?api_key={}&limit=3"),
            ("token", GATEWAY_TEST_KEY, "/v1/images/generations?token={}"),
            ("key", BFL_TEST_KEY, "/v1/images/generations?key={}"),
            ("access_token", GATEWAY_TEST_KEY, "/v1/jobs?access_token={}"),
            ("admin_key", ADMIN_TEST_KEY, "/v1/admin/keys?admin_key={}"),
        ):
            method = "POST" if "generations" in path else "GET"
            got[name] = http.request(method, path.format(secret), json=flux).status_code
        # Inside the path: `%3F` and `%253F` (a `?` in the path), `;` (a path parameter).
        for i, path in enumerate(
            (
                f"/v1/models%3Fapi_key={GATEWAY_TEST_KEY}",
                f"/v1/models%3Fapi_key%3D{ADMIN_TEST_KEY}",
                f"/v1/models%253Fapi_key%253D{GATEWAY_TEST_KEY}",
                f"/v1/models;api_key={got['stored_key']}",
                f"/v1/models;{OPENAI_TEST_KEY}",
            )
        ):
            got[f"in_path_{i}"] = http.get(path).status_code
    refused = ("api_key", "token", "key", "access_token", "admin_key")
    assert got == {
        **got,
        "models": 200,
        "bare": 200,
        "providers": 200,
        "openai_fails": 502,
        "openai": 200,
        "bfl": 200,
        "async": 202,
        "job": "succeeded",
        "jobs": 200,
        "stored": 200,
        "wrong": 401,
        **dict.fromkeys(refused, 401),
        **{f"in_path_{i}": 404 for i in range(5)},
    }, got
    return got
