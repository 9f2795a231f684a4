"""What a person opening the gateway meets: `/` leads to the docs, `/docs` and `/redoc` load
every asset from the gateway itself (they work without internet access), and the start-up log
says where the API and the docs are."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from image_gateway.observability.announce import bound_base_url
from tests.conftest import RunningGateway
from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")
EXPECTED_TYPES = {
    ".js": ("application/javascript", "text/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".json": ("application/json",),
}


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png", "openapi.json"}),
        ("/redoc", {"redoc.standalone.js", "favicon.png", "openapi.json"}),
    ],
)
def test_docs_pages_load_every_asset_from_the_gateway_itself(
    gateway: RunningGateway, page: str, assets: set[str]
) -> None:
    with gateway.client(key=None) as http:
        response = http.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        # Nothing in the page points off this origin: no CDN, no web fonts.
        assert "://" not in html.replace("http://www.w3.org/2000/svg", ""), html
        references = {a or b for a, b in REFERENCE.findall(html)}
        assert {Path(urlsplit(ref).path).name for ref in references} == assets
        for ref in references:
            url = urljoin(gateway.url + page, ref)
            assert urlsplit(url).netloc == urlsplit(gateway.url).netloc, ref
            asset = http.get(url)
            assert asset.status_code == 200, ref
            kinds = EXPECTED_TYPES[Path(urlsplit(ref).path).suffix]
            assert asset.headers["content-type"].split(";")[0] in kinds, ref
            assert len(asset.content) > 1000, ref


def test_the_front_door_leads_to_the_docs(gateway: RunningGateway) -> None:
    with gateway.client(key=None) as http:
        first = http.get("/", follow_redirects=False)
        assert first.status_code == 307
        assert first.headers["location"] == "/docs"
        assert http.get("/", follow_redirects=True).url.path == "/docs"
        # The docs point to the playground (the API's description, shown atop /docs).
        description = http.get("/openapi.json").json()["info"]["description"]
        assert "(/playground)" in description
        assert http.head("/docs/assets/swagger-ui.css").status_code == 200
        missing = http.get("/docs/assets/nope.js")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/docs", "/redoc"])
def test_probes_and_the_front_door_answer_head(gateway: RunningGateway, path: str) -> None:
    """Uptime monitors, load balancers and link checkers ask with HEAD: GET's status and
    headers, no body (never 405)."""
    with gateway.client(key=None) as http:
        got = http.get(path, follow_redirects=False)
        head = http.head(path, follow_redirects=False)
    assert head.status_code == got.status_code < 400, path
    assert head.content == b""
    for name in ("content-type", "content-length", "location", "content-security-policy"):
        assert head.headers.get(name) == got.headers.get(name), (path, name)


def _ready_lines(stderr: list[str]) -> list[dict[str, object]]:
    found = []
    for line in stderr:
        if line.startswith("{") and "image-gateway ready" in line:
            found.append(json.loads(line))
    return found


def test_start_up_log_says_where_the_api_and_the_docs_are(tmp_path: Path) -> None:
    """`uvicorn main:app` (the README's manual path, Docker's command): one line with the URLs
    once the socket is bound, and one with PUBLIC_BASE_URL's when that is set."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path}/gateway.db",
        "IMAGE_STORE_DIR": str(tmp_path / "images"),
        "PUBLIC_BASE_URL": "https://images.example.com",
        "GATEWAY_API_KEYS": "",
    }
    command = [sys.executable, "-m", "uvicorn", "main:app", "--app-dir", str(ROOT)]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert server.stderr is not None
        deadline = time.monotonic() + 30
        while len(_ready_lines(lines)) < 2 and time.monotonic() < deadline:
            line = server.stderr.readline()
            if not line:
                break
            lines.append(line)
    finally:
        server.send_signal(signal.SIGINT)
        rest = server.communicate(timeout=30)[1]
    ready = _ready_lines(lines)
    assert len(ready) == 2, "".join(lines) + rest
    public, bound = ready
    assert public["docs"] == "https://images.example.com/docs"
    assert bound["api_base"] == f"http://127.0.0.1:{port}/v1"
    assert bound["docs"] == f"http://127.0.0.1:{port}/docs"
    assert bound["redoc"] == f"http://127.0.0.1:{port}/redoc"
    assert bound["playground"] == f"http://127.0.0.1:{port}/playground"
    assert f"docs http://127.0.0.1:{port}/docs" in str(bound["msg"])
    assert f"playground http://127.0.0.1:{port}/playground" in str(bound["msg"])
    assert server.returncode == 0
    assert "Traceback" not in rest


def test_no_second_ready_line_when_the_public_url_is_the_bound_one(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path}/gateway.db",
        "IMAGE_STORE_DIR": str(tmp_path / "images"),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}/",
        "GATEWAY_API_KEYS": "",
    }
    command = [sys.executable, "-m", "uvicorn", "main:app", "--app-dir", str(ROOT)]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert server.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until uvicorn says where it listens
            line = server.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "Uvicorn running on" in line:
                break
    finally:
        server.send_signal(signal.SIGINT)
        rest = server.communicate(timeout=30)[1]
    assert any("Uvicorn running on" in line for line in lines), "".join(lines) + rest
    ready = _ready_lines(lines + rest.splitlines(keepends=True))
    assert len(ready) == 1, "".join(lines) + rest
    assert ready[0]["api_base"] == f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("http", "127.0.0.1", 8000), ("http://127.0.0.1:8000", False)),
        (("http", "0.0.0.0", 8000), ("http://127.0.0.1:8000", True)),
        (("https", "::", 8443), ("https://[::1]:8443", True)),
        (("http", "::1", 8000), ("http://[::1]:8000", False)),
        ((("127.0.0.1", 9000),), ("http://127.0.0.1:9000", False)),  # --fd
        (("/tmp/gw.sock",), None),  # a unix socket has no URL
    ],
)
def test_the_bound_address_becomes_a_url_a_browser_reaches(
    args: tuple[object, ...], expected: tuple[str, bool] | None
) -> None:
    message = (
        "Uvicorn running on %s (Press CTRL+C to quit)"
        if len(args) == 1
        else "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)"
    )
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, message, args, None)
    assert bound_base_url(record) == expected


def test_other_uvicorn_records_are_not_read() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started %s", ("x",), None)
    assert bound_base_url(record) is None


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models;api_key=igw-test-canary-client-5b1f9d3e7a",
        "/v1/models%3Fapi_key=igw-test-canary-client-5b1f9d3e7a",
        "/igw-test-canary-client-5b1f9d3e7a",
        "/docs/assets/igw-test-canary-client-5b1f9d3e7a",
    ],
)
def test_an_unknown_path_is_not_echoed_back(gateway: RunningGateway, path: str) -> None:
    """A key pasted into a path never comes back in the answer (client logs, APMs and proxies
    record bodies)."""
    with gateway.client() as http:
        response = http.get(path)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "not_found"
    assert "canary" not in response.text
    assert response.headers["x-should-retry"] == "false"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/images/generations", "POST"),
        ("DELETE", "/v1/jobs/job_x", "GET"),
    ],
)
def test_a_wrong_method_says_which_are_allowed(
    gateway: RunningGateway, method: str, path: str, allowed: str
) -> None:
    """RFC 9110 §15.5.6: a 405 carries Allow; the JSON error names the allowed methods too."""
    with gateway.client() as http:
        response = http.request(method, path)
    assert response.status_code == 405
    assert allowed in response.headers["allow"].split(", ")
    error = response.json()["error"]
    assert error["code"] == "http_error" and allowed in error["message"]
    assert response.headers["x-should-retry"] == "false"
