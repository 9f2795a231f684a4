"""Harness for the fault suite: gateways wired to both emulators, and the pass gate.

Every gateway made by `fault_gateway` is checked when its test ends (RELIABILITY §4 pass
gate): the upstream pool has no connection in use, the gateway's event loop is back to its
baseline task count, and no response or log line of the test holds any 8-character piece of
a canary key. Everything the fault tests produce is also kept for one final scan of the whole
suite (`test_zz_secret_scan.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import (
    BFL_TEST_KEY,
    CANARIES,
    GATEWAY_TEST_KEY,
    OPENAI_TEST_KEY,
    LogCapture,
    OpenAIEmulatorHandle,
    RunningGateway,
)

SUITE_OUTPUT: list[str] = []  # every response and log line of the fault suite


def fragments(secret: str, length: int = 8) -> set[str]:
    return {secret[i : i + length] for i in range(len(secret) - length + 1)}


def leaks(texts: list[str]) -> list[str]:
    """The texts holding any 8-character piece of a canary key."""
    pieces = set().union(*(fragments(c) for c in CANARIES))
    return [t for t in texts if any(p in t for p in pieces)]


class FaultGateway:
    """A running gateway plus handles on its insides that tests may observe (never replace,
    except the injectable sleep)."""

    def __init__(self, running: RunningGateway, output: list[str]) -> None:
        self.running = running
        self.url = running.url
        self.output = output
        self.app: Any = running.server.server.config.app
        self.loop: asyncio.AbstractEventLoop = running.server.server.servers[0].get_loop()
        self.baseline_tasks = self.task_count()

    @property
    def resilience(self) -> Any:
        return self.app.state.dispatcher.resilience

    def post(self, body: dict[str, Any], path: str = "/v1/images/generations") -> httpx.Response:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            resp = http.post(path, json=body, headers={"X-API-Key": GATEWAY_TEST_KEY})
        self.keep(resp)
        return resp

    def keep(self, resp: httpx.Response) -> None:
        self.output.append(f"{resp.status_code} {dict(resp.headers)} {resp.text}")

    def get(self, path: str, **headers: str) -> httpx.Response:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            resp = http.get(path, headers={"X-API-Key": GATEWAY_TEST_KEY, **headers})
        self.keep(resp)
        return resp

    def record_sleeps(self) -> list[float]:
        """Replace the runner's sleep with one that records the wait and returns at once."""
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            await asyncio.sleep(0)

        self.resilience.sleep = sleep
        return waits

    def on_loop(self, fn: Callable[[], Any]) -> Any:
        async def call() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(5)

    def task_count(self) -> int:
        return int(self.on_loop(lambda: len(asyncio.all_tasks()) - 1))

    def pool(self) -> dict[str, float]:
        return dict(self.on_loop(self.app.state.http.pool_stats))

    def assert_quiet(self, timeout: float = 5.0) -> None:
        """The pass gate: pool idle and no task left behind (allowing in-flight cleanup)."""
        deadline = time.monotonic() + timeout
        while True:
            pool, tasks = self.pool(), self.task_count()
            if pool["in_use"] == 0 and tasks <= self.baseline_tasks:
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"gateway not quiet: pool {pool}, tasks {tasks} > baseline "
                    f"{self.baseline_tasks}"
                )
            time.sleep(0.05)


@pytest.fixture
def fault_gateway(
    start_gateway: Callable[..., RunningGateway],
    openai_emu: OpenAIEmulatorHandle,
    bfl: Any,
    gateway_logs: LogCapture,
) -> Iterator[Callable[..., FaultGateway]]:
    """Start a gateway wired to both emulators (small backoff so retries are quick)."""
    made: list[FaultGateway] = []
    output: list[str] = []

    def start(**overrides: Any) -> FaultGateway:
        settings: dict[str, Any] = {
            "openai_api_key": OPENAI_TEST_KEY,
            "openai_base_url": openai_emu.base_url,
            "bfl_api_key": BFL_TEST_KEY,
            "bfl_base_url": bfl.base_url,
            "bfl_trusted_hosts": bfl.poll_base_url,
            "retry_max_attempts": 3,
            "retry_base_seconds": 0.01,
            "retry_max_backoff_seconds": 0.05,
        }
        settings.update(overrides)
        gateway = FaultGateway(start_gateway(**settings), output)
        made.append(gateway)
        return gateway

    yield start
    for gateway in made:
        gateway.assert_quiet()
    output.extend(gateway_logs.lines)
    SUITE_OUTPUT.extend(output)
    leaked = leaks(output)
    assert not leaked, leaked[:3]
