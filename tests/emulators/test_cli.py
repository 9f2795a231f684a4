"""`python -m emulators` as a person runs it (`make emulators`, `make demo`): ports are chosen
on the command line, a bad value is argparse's one-line usage error before anything binds,
Ctrl+C ends it quietly with status 0, a busy port is a one-line error, `all` starts every
registered emulator, and the demo serves generations through a gateway wired to the emulators
(under the canonical variables, whatever the shell exports) with the key it prints."""

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
from typing import ClassVar

import httpx
import pytest

from emulators.fleet import registered
from image_gateway.providers.registry import DEFINITIONS
from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


class Cli:
    """`python -m emulators ...` in a subprocess, its stdout read line by line; waits allow 180 s
    (an interpreter importing the emulators took over 60 s at load average 38). Every one
    started is killed and its pipes closed after the test (`_cleanup`), passed or failed: an
    unread pipe left open surfaced as another test's ResourceWarning, a live one as a stray
    emulator holding its ports."""

    started: ClassVar[list[Cli]] = []

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        Cli.started.append(self)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulators", *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []

    def read_until(self, marker: str, timeout: float = 180) -> str:
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
        _, err = self.process.communicate(timeout=180)
        return self.process.returncode, err

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()  # reaps it and closes both pipes


@pytest.fixture(autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    while Cli.started:
        Cli.started.pop().close()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def test_both_emulators_run_on_chosen_ports_and_stop_quietly_on_ctrl_c() -> None:
    openai_port, bfl_port, poll_port = free_port(), free_port(), free_port()
    # Every other emulator on a free port: a default one may be taken (`make emulators`).
    cli = Cli("all", *_any_ports(), "--openai-port", str(openai_port), "--bfl-port",
              str(bfl_port), "--bfl-poll-port", str(poll_port))  # fmt: skip
    out = cli.read_until("Ctrl+C")
    assert f"http://127.0.0.1:{openai_port}/v1" in out
    assert f"http://127.0.0.1:{bfl_port}, polling http://127.0.0.1:{poll_port}" in out
    for port in (openai_port, bfl_port, poll_port):
        assert httpx.get(f"http://127.0.0.1:{port}/_emulator/stats").status_code == 200
    status, err = cli.interrupt()
    assert (status, err) == (0, "")


def test_all_starts_every_registered_emulator_with_host_strict_and_keys() -> None:
    cli = Cli("all", "--host", "127.0.0.1", "--strict", "--openai-api-key", "sk-own",
              "--bfl-api-key", "bfl-own", *_any_ports())  # fmt: skip
    out = cli.read_until("Ctrl+C")
    for cls in registered():
        assert f"{cls.TITLE}: http://127.0.0.1:" in out
    openai, bfl = _wiring(out, "OPENAI"), _wiring(out, "BFL_FLUX")
    assert openai["OPENAI_API_KEY"] == "sk-own" and bfl["BFL_FLUX_API_KEY"] == "bfl-own"
    base = bfl["BFL_FLUX_BASE_URL"]
    # --strict: BFL ignores unknown fields, the strict emulator refuses them (after the key).
    misnamed = {"prompt": "x", "guidance_scale": 3}
    answer = httpx.post(f"{base}/v1/flux-dev", json=misnamed, headers={"x-key": "bfl-own"})
    assert answer.status_code == 422, answer.text
    assert httpx.post(f"{base}/v1/flux-dev", json=misnamed, headers={"x-key": "bfl-emulator"}
                      ).status_code == 401  # fmt: skip
    generate = f"{openai['OPENAI_BASE_URL']}/images/generations"
    body = {"model": "gpt-image-1", "prompt": "x"}
    assert httpx.post(generate, json=body, headers={"authorization": "Bearer sk-own"},
                      timeout=30).status_code == 200  # fmt: skip
    # --bfl-port 0 alone: the polling port is any free one too, not the default 9202.
    poll = bfl["BFL_FLUX_TRUSTED_HOSTS"]
    assert poll.startswith("http://127.0.0.1:") and not poll.endswith(":9202")
    assert httpx.get(f"{poll}/_emulator/stats").status_code == 200
    assert cli.interrupt() == (0, "")


def test_bfl_by_its_provider_name_on_port_0_binds_both_listeners_anywhere_and_prints_them() -> None:
    cli = Cli("bfl-flux", "--port", "0")
    out = cli.read_until("gateway:")
    urls = re.search(r"BFL emulator: (http://\S+), polling (http://\S+)\n", out)
    assert urls, out
    base, poll = urls.groups()
    assert not poll.endswith(":9202") and poll != base
    wiring = _wiring(out, "BFL_FLUX")
    assert wiring == {
        "BFL_FLUX_BASE_URL": base,
        "BFL_FLUX_API_KEY": "bfl-emulator",
        "BFL_FLUX_TRUSTED_HOSTS": poll,  # what a gateway needs to trust the polling URLs
    }
    for url in (base, poll):
        assert httpx.get(f"{url}/_emulator/stats").status_code == 200
    assert cli.interrupt() == (0, "")


# Each is refused by argparse before anything binds: exit 2, the usage, then one error line.
USAGE_ERRORS = {
    ("openai", "--port", "99999"): "argument --port: 99999 is not a port: expected 0-65535",
    ("openai", "--port", "-1"): "argument --port: -1 is not a port",
    ("all", "--openai-port", "70000"): "argument --openai-port: 70000 is not a port",
    ("openai", "--log-level", "nonsense"): "argument --log-level: invalid choice: 'nonsense'",
    ("bfl", "--port", "19401", "--poll-port", "19401"):
        "--port and --poll-port are both 19401: each listener needs a port of its own",
    ("bfl", "--port", "9202"): "--port and --poll-port are both 9202",  # the default poll port
    ("all", "--openai-port", "19402", "--bfl-port", "19402"):
        "--openai-port and --bfl-port are both 19402",
    ("demo", "--port", "19403", "--bfl-poll-port", "19403"):
        "--port and --bfl-poll-port are both 19403",
    ("openai", "--api-key", ""): "argument --api-key: the key is empty",
    ("bfl-flux", "--api-key", "two words"): "argument --api-key: the key has spaces",
    ("all", "--bfl-api-key", ""): "argument --bfl-api-key: the key is empty",
    ("demo", "--gateway-key", ""): "argument --gateway-key: the key is empty",
    ("openai", "--latency", "-1"): "argument --latency: -1 is negative: expected 0 or more",
    ("openai", "--rate-limit", "-5"): "argument --rate-limit: -5 is negative",
    ("openai", "--url-ttl", "-0.5"): "argument --url-ttl: -0.5 is negative",
    ("bfl", "--generation-seconds", "-1"): "argument --generation-seconds: -1 is negative",
    ("bfl", "--credits", "-10"): "argument --credits: -10 is negative",
    ("bfl", "--credits", "nan"): "argument --credits: nan is not a finite number",
    ("bfl", "--sample-ttl", "soon"): "argument --sample-ttl: 'soon' is not a number",
}  # fmt: skip


@pytest.fixture(scope="module")
def refused() -> Iterator[dict[tuple[str, ...], tuple[int, str]]]:
    """Every USAGE_ERRORS command run at once (each a process of its own): exit status and
    stderr by arguments. A command that is not refused would serve: it is killed."""
    running = {args: Cli(*args) for args in USAGE_ERRORS}
    results: dict[tuple[str, ...], tuple[int, str]] = {}
    # One deadline for all: 21 interpreters importing at once on a loaded 2-core machine can
    # take tens of seconds before the first one parses its arguments (at load 38, two had
    # printed their usage error and were still exiting at 120 s).
    deadline = time.monotonic() + 300
    try:
        for args, cli in running.items():
            try:
                _, err = cli.process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                cli.process.kill()
                _, err = cli.process.communicate()
            results[args] = (cli.process.returncode, err)
        yield results
    finally:
        for cli in running.values():
            if cli.process.poll() is None:
                cli.process.kill()
                cli.process.wait()


@pytest.mark.parametrize("args", list(USAGE_ERRORS), ids=" ".join)
def test_a_bad_value_is_a_one_line_usage_error(
    refused: dict[tuple[str, ...], tuple[int, str]], args: tuple[str, ...]
) -> None:
    status, err = refused[args]
    assert status == 2, err
    assert err.startswith("usage: python -m emulators") and "Traceback" not in err
    *_, last = err.rstrip("\n").split("\n")
    command = {cls.provider(): cls.NAME for cls in registered()}.get(args[0], args[0])
    assert last.startswith(f"python -m emulators {command}: error: {USAGE_ERRORS[args]}"), err


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
    command, *rest = (arg.format(busy=busy_port) for arg in args)
    # `all` and `demo`: the emulators not named on a free port (a default one may be taken).
    others = _any_ports() if command in ("all", "demo") else []
    cli = Cli(command, *others, *rest)
    _, err = cli.process.communicate(timeout=180)
    assert cli.process.returncode == 1
    assert err == f"error: cannot listen on 127.0.0.1:{busy_port}: Address already in use\n"


def test_one_emulator_stops_quietly_on_ctrl_c() -> None:
    cli = Cli("openai", "--port", "0")
    cli.read_until("OpenAI Images emulator")
    assert cli.interrupt() == (0, "")


def test_the_demo_serves_generations_through_the_emulators_with_the_key_it_prints() -> None:
    port = free_port()
    # What a user may have exported for the real BFL: none of it reaches the demo's gateway.
    shell = {
        "BFL_FLUX_BASE_URL": "http://127.0.0.1:9",
        "BFL_BASE_URL": "http://127.0.0.1:9",
        "BFL_API_KEY": "bfl_real-key",
        "BFL_TRUSTED_HOSTS": "http://127.0.0.1:9",
    }
    cli = Cli("demo", "--port", str(port), *_any_ports(), env=shell)
    out = cli.read_until("Ctrl+C stops")
    key = re.search(r"export KEY=(\S+)", out)
    assert key, out
    assert f"docs http://127.0.0.1:{port}/docs" in out
    assert f"playground               http://127.0.0.1:{port}/playground" in out
    assert "OPENAI_API_KEY=sk-emulator" in out and "BFL_FLUX_API_KEY=bfl-emulator" in out
    assert "BFL_FLUX_TRUSTED_HOSTS=http://127.0.0.1:" in out  # the polling port, trusted
    assert "BFL_BASE_URL" not in out and "BFL_API_KEY" not in out
    headers = {"X-API-Key": key.group(1)}
    # The printed examples name each provider, meaning its default model.
    examples = re.findall(r'"model": "([^"]+)"', out)
    assert examples == [cls.provider() for cls in registered()]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
        assert http.get("/v1/images/generations").status_code == 405
        for model in ("bfl-flux/flux-pro-1.1", "gpt-image-1", *examples):
            answer = http.post("/v1/images/generations", json={"model": model, "prompt": "p"})
            assert answer.status_code == 200, answer.text
            if "/" in model or model == "gpt-image-1":
                assert answer.json()["model"] == model.split("/")[-1]
        assert http.get("/v1/models", headers={"X-API-Key": "wrong"}).status_code == 401
    status, err = cli.interrupt()
    assert status == 0
    assert "Traceback" not in err
    assert "does not bound the time" not in err  # served with the header timeout


def test_the_demos_variable_names_are_the_gateways() -> None:
    """The emulators do not import the gateway; its names for the providers and its alias
    prefixes (which the demo clears) must still agree with what each emulator declares."""
    for cls in registered():
        definition = DEFINITIONS[cls.provider()]
        assert cls.variable("BASE_URL") == f"{definition.prefix}_BASE_URL".upper()
        assert cls.PROVIDER_ENV_ALIASES == definition.env_aliases


def _any_ports() -> list[str]:
    """`--<name>-port 0` for every registered emulator (their second listeners follow)."""
    return [arg for cls in registered() for arg in (f"--{cls.NAME}-port", "0")]


def _wiring(out: str, prefix: str) -> dict[str, str]:
    """The `NAME=value` pairs of the printed gateway variables starting with `prefix`_."""
    return dict(re.findall(rf"\b({prefix}_[A-Z_]+)=(\S+)", out))
