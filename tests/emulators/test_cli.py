"""`python -m emulators` as a person runs it (`make emulators`, `make demo`): ports are chosen
on the command line, Ctrl+C ends it quietly with status 0, a busy port is a one-line error,
and the demo serves generations through a gateway wired to the emulators with the key it
prints."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


class Cli:
    """`python -m emulators ...` in a subprocess, its stdout read line by line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulators", *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []

    def read_until(self, marker: str, timeout: float = 60) -> str:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if marker in line:
                return "".join(self.lines)
        raise AssertionError(f"no {marker!r} in: {''.join(self.lines)}{self.stderr()}")

    def stderr(self) -> str:
        if self.process.poll() is None:
            return ""
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def interrupt(self) -> tuple[int, str]:
        """Ctrl+C: SIGINT, then the exit status and what was written to stderr."""
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=60)
        return self.process.returncode, err


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_both_emulators_run_on_chosen_ports_and_stop_quietly_on_ctrl_c() -> None:
    openai_port, bfl_port, poll_port = _free_port(), _free_port(), _free_port()
    cli = Cli("all", "--openai-port", str(openai_port), "--bfl-port", str(bfl_port),
              "--bfl-poll-port", str(poll_port))  # fmt: skip
    out = cli.read_until("Ctrl+C")
    assert f"http://127.0.0.1:{openai_port}/v1" in out
    assert f"http://127.0.0.1:{bfl_port}, polling http://127.0.0.1:{poll_port}" in out
    for port in (openai_port, bfl_port, poll_port):
        assert httpx.get(f"http://127.0.0.1:{port}/_emulator/stats").status_code == 200
    status, err = cli.interrupt()
    assert (status, err) == (0, "")


@pytest.mark.parametrize(
    "args",
    [
        ("openai", "--port", "{busy}"),
        ("bfl", "--port", "{busy}", "--poll-port", "0"),
        ("bfl", "--port", "0", "--poll-port", "{busy}"),
        ("all", "--openai-port", "0", "--bfl-port", "0", "--bfl-poll-port", "{busy}"),
        ("demo", "--port", "{busy}", "--openai-port", "0", "--bfl-port", "0",
         "--bfl-poll-port", "0"),
    ],
)  # fmt: skip
def test_a_busy_port_is_a_one_line_error(busy_port: int, args: tuple[str, ...]) -> None:
    cli = Cli(*(arg.format(busy=busy_port) for arg in args))
    _, err = cli.process.communicate(timeout=60)
    assert cli.process.returncode == 1
    assert err == f"error: cannot listen on 127.0.0.1:{busy_port}: Address already in use\n"


def test_one_emulator_stops_quietly_on_ctrl_c() -> None:
    cli = Cli("openai", "--port", "0")
    cli.read_until("OpenAI Images emulator")
    assert cli.interrupt() == (0, "")


def test_the_demo_serves_generations_through_the_emulators_with_the_key_it_prints() -> None:
    port = _free_port()
    cli = Cli("demo", "--port", str(port), "--openai-port", "0", "--bfl-port", "0",
              "--bfl-poll-port", "0")  # fmt: skip
    out = cli.read_until("Ctrl+C stops")
    key = re.search(r"export KEY=(\S+)", out)
    assert key, out
    assert f"docs http://127.0.0.1:{port}/docs" in out
    assert "OPENAI_API_KEY=sk-emulator" in out and "BFL_API_KEY=bfl-emulator" in out
    assert "BFL_TRUSTED_HOSTS=http://127.0.0.1:" in out  # the polling port, trusted explicitly
    headers = {"X-API-Key": key.group(1)}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
        assert http.get("/v1/images/generations").status_code == 405
        for model in ("bfl-flux/flux-pro-1.1", "gpt-image-1"):
            answer = http.post("/v1/images/generations", json={"model": model, "prompt": "p"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["model"] == model.split("/")[-1]
        assert http.get("/v1/models", headers={"X-API-Key": "wrong"}).status_code == 401
    status, err = cli.interrupt()
    assert status == 0
    assert "Traceback" not in err
    assert "does not bound the time" not in err  # served with the header timeout
