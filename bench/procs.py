"""Server subprocesses of a benchmark run: start, wait until they answer, measure, always stop.

Every server runs in its own session (process group) so that stopping it also stops anything it
spawned; `Processes` is a context manager that stops whatever is still running on the way out,
whatever happened in between. Peak RSS is `VmHWM` and CPU time `utime + stime`, both read from
/proc for the server's whole process tree.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LOG_KEEP_BYTES = 256 * 1024


class StartupError(RuntimeError):
    """A server exited or did not answer in time; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_answer(
    method: str,
    port: int,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 2.0,
) -> tuple[int | None, bytes]:
    """Status and body of one request to 127.0.0.1:port; (None, b"") when nothing answered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException):
        return None, b""
    finally:
        conn.close()


def http_status(
    method: str,
    port: int,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 2.0,
) -> int | None:
    """Status of one request to 127.0.0.1:port, or None when nothing answered."""
    return http_answer(method, port, path, body, headers, timeout)[0]


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    started_at: float  # time.monotonic() just before the process was spawned
    pids_seen: set[int] = field(default_factory=set)
    poll_port: int | None = None  # the BFL emulator's polling/delivery listener

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, size: int = 2000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-size:].decode("utf-8", "replace")

    def wait_ready(self, path: str, timeout: float, method: str = "GET") -> float:
        """Poll until any HTTP answer below 500 arrives; returns seconds since spawn."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise StartupError(f"{self.name} exited during start-up:\n{self.log_tail()}")
            status = http_status(method, self.port, path, timeout=1.0)
            if status is not None and status < 500:
                return time.monotonic() - self.started_at
            time.sleep(0.02)
        raise StartupError(f"{self.name} did not answer within {timeout:g} s:\n{self.log_tail()}")

    def tree(self) -> list[int]:
        """The server's pid and its living descendants (remembered, so peaks survive them)."""
        pids = [self.pid, *descendants(self.pid)]
        self.pids_seen.update(pids)
        return pids

    def peak_rss_mb(self) -> float:
        return sum(_status_kb(pid, "VmHWM") for pid in self.tree()) / 1024

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(pid) for pid in self.tree())


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is fields[0], so utime (field 14) is fields[11].
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Processes:
    """Starts servers and guarantees they are stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.servers: list[Server] = []

    def start(
        self,
        name: str,
        argv: list[str],
        port: int,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Server:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            started = time.monotonic()
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,
            )
        server = Server(name, port, proc, log_path, started)
        self.servers.append(server)
        return server

    def stop(self, server: Server, timeout: float = 10.0) -> None:
        if server.alive():
            _signal_group(server.pid, signal.SIGTERM)
            try:
                server.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(server.pid, signal.SIGKILL)
                server.proc.wait(5)
        _signal_group(server.pid, signal.SIGKILL)  # stragglers of its own session, if any
        _trim_log(server.log_path)
        if server in self.servers:
            self.servers.remove(server)

    def stop_all(self) -> None:
        for server in list(reversed(self.servers)):
            self.stop(server)

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _trim_log(path: Path) -> None:
    """Keep the end of a server log (access logs of long runs reach hundreds of MB)."""
    try:
        size = path.stat().st_size
        if size > LOG_KEEP_BYTES:
            with path.open("rb") as fh:
                fh.seek(size - LOG_KEEP_BYTES)
                tail = fh.read()
            path.write_bytes(b"[... trimmed ...]\n" + tail)
    except OSError:
        pass


def http_json(port: int, path: str, method: str = "GET", timeout: float = 30.0) -> Any:
    """Parsed JSON answer of one request to 127.0.0.1:port (control endpoints of emulators)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        return orjson.loads(conn.getresponse().read())
    finally:
        conn.close()
