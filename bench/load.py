"""Load generation from a separate process: wrk (preferred) or the async client (`client.py`).

Both give the same result shape: requests, duration_s, rps, p50/p90/p99/mean/max in ms, ok,
errors. wrk is driven by a generated Lua script that sets the POST body and headers and prints
its summary as JSON; its latency percentiles come from its own HDR histogram.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

MARKER = "BENCH_JSON "

LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"mean_us":%.1f,"max_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
"""


@dataclass
class Target:
    """One HTTP endpoint under load: POST `body` to `url` with `headers`."""

    label: str
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class LoadError(RuntimeError):
    pass


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def choose(loadgen: str) -> str:
    """'wrk' or 'python' for a requested 'auto' | 'wrk' | 'python'."""
    if loadgen == "auto":
        return "wrk" if wrk_available() else "python"
    if loadgen == "wrk" and not wrk_available():
        raise LoadError("wrk is not installed (apt-get install wrk), use --loadgen python")
    return loadgen


def _lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def wrk_script(target: Target) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(target.body.decode())}"]
    headers = {"Content-Type": "application/json", **target.headers}
    for name, value in headers.items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    return "\n".join(lines) + "\n" + LUA_DONE


def run_wrk(target: Target, concurrency: int, duration: float, timeout: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(wrk_script(target))
        script = fh.name
    argv = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={max(1, round(timeout))}s",
        "-s",
        script,
        target.url,
    ]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    finally:
        Path(script).unlink(missing_ok=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)), None)
    if proc.returncode != 0 or line is None:
        raise LoadError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout}")
    raw = orjson.loads(line[len(MARKER) :])
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "duration_s": round(seconds, 3),
        "rps": raw["requests"] / seconds if seconds else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "mean_ms": raw["mean_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "ok": raw["requests"] - raw["status"],
        "errors": errors,
        "error_kinds": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
        "bytes": raw["bytes"],
    }


def _client(mode: str, target: Target, args: list[str], wall: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as fh:
        fh.write(target.body)
        body_file = fh.name
    argv = [sys.executable, "-m", "bench.client", mode, "--url", target.url]
    argv += ["--body-file", body_file, *args]
    for name, value in target.headers.items():
        argv += ["--header", f"{name}: {value}"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=wall)
    finally:
        Path(body_file).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise LoadError(f"load client failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    result: dict[str, Any] = orjson.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _is_text(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def run_closed(
    loadgen: str, target: Target, concurrency: int, duration: float, timeout: float = 30.0
) -> dict[str, Any]:
    """A closed-loop run at `concurrency` for `duration` seconds with wrk or the async client
    (always the client for a body that is not UTF-8 text, such as a multipart upload: wrk's
    script carries the body as a Lua string)."""
    if loadgen == "wrk" and _is_text(target.body):
        return run_wrk(target, concurrency, duration, timeout)
    args = ["--concurrency", str(concurrency), "--duration", str(duration)]
    return _client("closed", target, args, wall=duration + timeout + 60)


def run_burst(target: Target, count: int, ramp: float, timeout: float) -> dict[str, Any]:
    """`count` concurrent requests held open to the end (async client; wrk cannot do this)."""
    args = ["--count", str(count), "--ramp", str(ramp), "--timeout", str(timeout)]
    return _client("burst", target, args, wall=timeout + ramp + 120)


def run_streams(target: Target, count: int, timeout: float) -> dict[str, Any]:
    """`count` concurrent `stream: true` requests, read event by event (async client)."""
    args = ["--count", str(count), "--timeout", str(timeout)]
    return _client("stream", target, args, wall=timeout + 120)


def run_jobs(
    target: Target,
    count: int,
    ramp: float,
    timeout: float,
    poll: float,
    concurrency: int,
    wait: int = 0,
) -> dict[str, Any]:
    """`count` async jobs (`Prefer: respond-async`) submitted over `ramp` seconds, each polled
    every `poll` seconds (at most `concurrency` polls in flight) until it ended (async client);
    `wait`: each poll's `Prefer: wait=N` (long polls where the gateway applies it)."""
    args = ["--count", str(count), "--ramp", str(ramp), "--timeout", str(timeout)]
    args += ["--poll", str(poll), "--concurrency", str(concurrency), "--wait", str(wait)]
    return _client("jobs", target, args, wall=timeout + ramp + 180)
