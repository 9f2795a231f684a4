"""Shared test harness: real servers on loopback ports, driven over sockets.

`gateway` starts the real app (create_app + uvicorn) with the given settings; the emulator
fixtures start the provider emulators once per session and reset them before each test.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulators.kit.server import BackgroundServer, bind_socket, url_of
from image_gateway.app import create_app
from image_gateway.server import protocol_class
from image_gateway.settings import Settings
from tests.image_host import Listener

OPENAI_TEST_KEY = "sk-test-canary-openai-7f3a9c2e1b"
BFL_TEST_KEY = "bfl_test-canary-bfl-4d8e2a6c0f"
GATEWAY_TEST_KEY = "igw-test-canary-client-5b1f9d3e7a"
CANARIES = (OPENAI_TEST_KEY, BFL_TEST_KEY, GATEWAY_TEST_KEY)


# The suite runs in parallel workers (pytest-xdist, `-n` in pyproject.toml): it mostly waits on
# sockets, so four workers on two cores take a third of the time. A file's tests stay on one
# worker (its module fixtures start once), and so does the whole fault suite: its last file,
# `resilience/test_zz_secret_scan.py`, scans the output the folder's other files collected in
# that process.
_ONE_WORKER_FOLDERS = ("resilience",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        relative = item.path.relative_to(tests)
        group = relative.parts[0] if relative.parts[0] in _ONE_WORKER_FOLDERS else str(relative)
        item.add_marker(pytest.mark.xdist_group(group))


@dataclass
class RunningGateway:
    url: str
    settings: Settings
    server: BackgroundServer

    def client(self, key: str | None = GATEWAY_TEST_KEY, **kwargs: Any) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


def emulator_settings(openai_emu: Any, bfl: Any) -> dict[str, Any]:
    """Settings that wire a gateway to both emulators: their keys, base URLs and BFL's polling
    origin (a listener of its own, which BFL_TRUSTED_HOSTS must name)."""
    return {
        "openai_api_key": OPENAI_TEST_KEY,
        "openai_base_url": openai_emu.base_url,
        "bfl_api_key": BFL_TEST_KEY,
        "bfl_base_url": bfl.base_url,
        "bfl_trusted_hosts": bfl.poll_base_url,
    }


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "gateway_api_keys": [GATEWAY_TEST_KEY],
        "image_store_dir": tmp_path / "images",
        # Each test's own SQLite file (keys, budgets, usage ledger); never the repo's data/.
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/gateway.db",
        "ledger_flush_seconds": 0.05,
        "bfl_poll_initial_seconds": 0.05,
        "bfl_poll_max_interval_seconds": 0.1,
        "log_level": "INFO",
        # Adapter tests see each injected fault exactly once; tests/resilience sets its own.
        "retry_max_attempts": 1,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Callable[..., RunningGateway]]:
    """Start the real gateway app on an ephemeral loopback port; stopped after the test."""
    running: list[RunningGateway] = []

    def start(**overrides: Any) -> RunningGateway:
        settings = make_settings(tmp_path, **overrides)
        sock = bind_socket()
        # Served as `make run` and the Dockerfile serve it: with the header timeout.
        http = protocol_class(settings.client_header_timeout_seconds)
        server = BackgroundServer(create_app(settings), [sock], http=http)
        server.start()
        gw = RunningGateway(url_of(sock), settings, server)
        running.append(gw)
        return gw

    yield start
    for gw in running:
        gw.server.stop()


@pytest.fixture
def gateway(start_gateway: Callable[..., RunningGateway]) -> RunningGateway:
    """A gateway with only the local provider configured."""
    return start_gateway()


class LogCapture(logging.Handler):
    """Collects every formatted record of the gateway's loggers (for secret scans)."""

    def __init__(self) -> None:
        super().__init__()
        from image_gateway.observability.logs import JsonFormatter

        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def gateway_logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    logger = logging.getLogger("image_gateway")
    logger.addHandler(capture)
    yield capture
    logger.removeHandler(capture)


def service_available(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip a test that needs a real server (PostgreSQL, Redis) when it is absent — unless
    IMAGE_GATEWAY_REQUIRE_SERVICES is set (as .ci/run does), where the absence is a failure."""
    if service_available(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if os.environ.get("IMAGE_GATEWAY_REQUIRE_SERVICES"):
        pytest.fail(message + " and IMAGE_GATEWAY_REQUIRE_SERVICES is set")
    pytest.skip(message)


@pytest.fixture(scope="session")
def bfl_emulator() -> Iterator[Any]:
    from emulators.bfl import BFLEmulator

    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=0.15) as emulator:
        yield emulator


@pytest.fixture
def bfl(bfl_emulator: Any) -> Any:
    """The session's BFL emulator, reset (tasks, counters, faults) for this test."""
    bfl_emulator.reset()
    return bfl_emulator


class Canary(Listener):
    """A listener on 127.0.0.1 (an ephemeral port) that only counts connections: nothing
    should ever reach it."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1")


@pytest.fixture
def canary() -> Iterator[Canary]:
    c = Canary()
    yield c
    c.close()


class OpenAIEmulatorHandle:
    """The session's OpenAI emulator, driven through its HTTP control surface."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.base_url: str = emulator.base_url
        self.control = httpx.Client(base_url=emulator.base_url.removesuffix("/v1"), timeout=10)

    def reset(self) -> None:
        self.control.post("/_emulator/reset").raise_for_status()

    def add_faults(self, faults: list[dict[str, Any]]) -> None:
        self.control.post("/_emulator/faults", json={"faults": faults}).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return dict(self.control.get("/_emulator/stats").json())


@pytest.fixture(scope="session")
def openai_emulator() -> Iterator[OpenAIEmulatorHandle]:
    from emulators.openai_images import OpenAIEmulator

    with OpenAIEmulator(api_key=OPENAI_TEST_KEY) as emulator:
        handle = OpenAIEmulatorHandle(emulator)
        yield handle
        handle.control.close()


@pytest.fixture
def openai_emu(openai_emulator: OpenAIEmulatorHandle) -> OpenAIEmulatorHandle:
    openai_emulator.reset()
    return openai_emulator


@pytest.fixture
def image_host() -> Iterator[Any]:
    """A scripted image server on loopback (tests/image_host.py) for the input-image fetcher."""
    from tests.image_host import ImageHost

    host = ImageHost()
    yield host
    host.close()


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`socket.getaddrinfo` answering `*.test` names as scripted (hostile DNS, rebinding)."""
    from tests.image_host import FakeDNS

    dns = FakeDNS(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", dns.getaddrinfo)
    return dns
