"""Gateways and workers as real OS processes (so a test can `kill -9` one), for the crash and
scale-out tests.

Each process gets only the settings the test gives it: variables of the parent's environment
that name a setting are dropped, and it runs in the test's folder so no `.env` is read.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulators.bfl import BFLEmulator
from image_gateway.settings import Settings
from tests.conftest import BFL_TEST_KEY, GATEWAY_TEST_KEY
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0  # a loaded 2-core CI machine starts Python slowly


def environment(settings: dict[str, Any]) -> dict[str, str]:
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env["PYTHONPATH"] = str(REPO)
    env.update({name.upper(): str(value) for name, value in settings.items()})
    return env


class Process:
    """One gateway (`uvicorn main:app`) or worker (`image-gateway worker`) process."""

    def __init__(self, name: str, argv: list[str], settings: dict[str, Any], folder: Path) -> None:
        self.name = name
        self.out = folder / f"{name}.out"
        self.err = folder / f"{name}.err"
        with self.out.open("ab") as out, self.err.open("ab") as err:
            self.popen = subprocess.Popen(
                argv, cwd=folder, env=environment(settings), stdout=out, stderr=err
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def logs(self) -> str:
        tail = self.err.read_text(errors="replace")[-4000:]
        return f"--- {self.name} stdout ---\n{self.out.read_text()}\n--- stderr ---\n{tail}"

    def wait_for(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.popen.returncode})\n{self.logs()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {what} after {timeout}s\n{self.logs()}")
            time.sleep(0.05)

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 30.0) -> int:
        self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit on {sig}\n{self.logs()}") from None

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


class Gateway(Process):
    def __init__(
        self, name: str, settings: dict[str, Any], folder: Path, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "uvicorn", "main:app", "--app-dir", str(REPO)]
        argv += ["--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
        argv += ["--http", "image_gateway.server:HttpProtocol"]  # as `make run` serves it
        super().__init__(name, argv, settings, folder)

    def ready(self) -> Gateway:
        self.wait_for(self._healthy, "/healthz answer", START_TIMEOUT)
        return self

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def client(self) -> httpx.Client:
        headers = {"X-API-Key": GATEWAY_TEST_KEY}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


class Worker(Process):
    """`image-gateway worker`; `worker_name` is the name it takes leases under."""

    def __init__(self, name: str, settings: dict[str, Any], folder: Path) -> None:
        argv = [sys.executable, "-m", "image_gateway", "worker"]
        super().__init__(name, argv, settings, folder)
        self.worker_name = ""

    def ready(self) -> Worker:
        self.wait_for(lambda: "running" in self.out.read_text(), "start-up line", START_TIMEOUT)
        self.worker_name = self.out.read_text().split()[2]
        return self


class Processes:
    """Starts gateways and workers in the test's folder; `ready()` waits for all of them (they
    start in parallel); every one still running is stopped after the test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[Gateway | Worker] = []

    def gateway(self, name: str, settings: dict[str, Any], port: int | None = None) -> Gateway:
        self.started.append(proc := Gateway(name, settings, self.folder, port))
        return proc

    def worker(self, name: str, settings: dict[str, Any]) -> Worker:
        self.started.append(proc := Worker(name, settings, self.folder))
        return proc

    def ready(self) -> None:
        for proc in self.started:
            if proc.popen.returncode is None:
                proc.ready()

    def logs(self) -> str:
        return "\n".join(proc.logs() for proc in self.started)

    def stop(self) -> None:
        for proc in self.started:
            proc.stop()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    yield procs
    procs.stop()


@pytest.fixture
def slow_bfl() -> Iterator[BFLEmulator]:
    """A BFL emulator of this test's own whose tasks take 3 s: long enough to kill mid-job."""
    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=3.0) as emulator:
        yield emulator


def task_ids(journal: dict[str, Any]) -> list[str]:
    """The BFL task ids a job's journal recorded (each one a paid submission)."""
    return [call["task_id"] for call in journal.get("calls", {}).values() if "task_id" in call]


def wait_until(check: Callable[[], Any], what: str, timeout: float, logs: Callable[[], str]) -> Any:
    """Poll `check` until it returns something truthy; fail with the processes' logs."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs()}")
        time.sleep(0.1)
