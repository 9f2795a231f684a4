"""How each server of the benchmark starts: upstream emulators, the gateway, the pass-through
(the peers have modules of their own: `litellm.py`, `portkey.py`).

The gateway runs the way an operator would run it in production: one uvicorn process with
uvloop and httptools, uvicorn's own access log off (the gateway writes its own JSON access log at
`LOG_LEVEL=INFO`), real client keys (`GATEWAY_API_KEYS`), stderr to a file. Each gateway process
works in its own folder under the run's output (its SQLite database and stored images live
there, never shared between processes), so a developer's `.env` never leaks into the figures.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from .load import Target
from .procs import Processes, Server, free_port

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_KEY = "igw-bench-client-key-6c1d"
OPENAI_KEY = "sk-emulator"
BFL_KEY = "bfl-emulator"
OPENAI_BODY = b'{"model":"gpt-image-1","prompt":"x","size":"1024x1024"}'
BFL_BODY = b'{"model":"bfl-flux/flux-pro-1.1","prompt":"a lighthouse at dusk"}'
START_TIMEOUT = 60.0


@dataclass
class Context:
    """Options of one run, shared by every scenario."""

    out_dir: Path
    quick: bool = False
    loadgen: str = "wrk"
    litellm: bool = True
    litellm_install: bool = True
    portkey: bool = True
    portkey_install: bool = True
    duration: float = 5.0
    rounds: int = 3
    concurrency: list[int] = field(default_factory=lambda: [1, 16, 64])
    long_counts: list[int] = field(default_factory=lambda: [1000, 10_000])
    generation_seconds: float = 10.0
    log_levels: list[str] = field(default_factory=lambda: ["INFO"])
    payload: str = "tiny"
    gateway_env: dict[str, str] = field(default_factory=dict)
    cold_runs: int = 3
    reference: bool = True  # run the 20-line pass-through (passthrough.py) as well
    baseline: Path | None = None  # another source tree, run side by side as "gateway (baseline)"
    workers: int = 2  # overhead: also a gateway with this many uvicorn worker processes (1: none)
    notes: list[str] = field(default_factory=list)

    @property
    def log_dir(self) -> Path:
        return self.out_dir / "logs"

    def note(self, text: str) -> None:
        print(f"  note: {text}", flush=True)
        self.notes.append(text)


def start_upstream(
    procs: Processes, name: str, images: str, extra: list[str] | None = None
) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "bench.upstream", "--port", str(port), "--images", images]
    argv += extra or []
    server = procs.start(name, argv, port, cwd=ROOT)
    server.wait_ready("/_emulator/stats", START_TIMEOUT)
    return server


def start_bfl(procs: Processes, name: str, generation_seconds: float) -> Server:
    port, poll_port = free_port(), free_port()
    argv = [sys.executable, "-m", "emulators", "bfl", "--port", str(port)]
    argv += ["--poll-port", str(poll_port), "--generation-seconds", str(generation_seconds)]
    argv += ["--concurrency-limit", "0"]
    server = procs.start(name, argv, port, cwd=ROOT)
    server.poll_port = poll_port
    server.wait_ready("/_emulator/stats", START_TIMEOUT)
    return server


def gateway_argv(port: int, app_dir: Path = ROOT, workers: int = 1) -> list[str]:
    extra = ["--workers", str(workers)] if workers > 1 else []
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "main:app",
        "--app-dir",
        str(app_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "image_gateway.server:HttpToolsProtocol",
        "--no-access-log",
        "--ws",  # no WebSocket routes: uvicorn's default loads the websockets library (~40 ms)
        "none",
        "--log-level",
        "warning",
        "--backlog",
        "4096",
        *extra,
    ]


def gateway_env(
    ctx: Context,
    openai: Server | None = None,
    bfl: Server | None = None,
    log_level: str = "INFO",
) -> dict[str, str]:
    env = {
        "GATEWAY_API_KEYS": GATEWAY_KEY,
        "LOG_LEVEL": log_level,
        "IMAGE_STORE_DIR": "images",  # relative to the process's own working directory
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if openai is not None:
        env |= {"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": f"{url(openai)}/v1"}
    if bfl is not None:
        bfl_env = {
            "API_KEY": BFL_KEY,
            "BASE_URL": url(bfl),
            # Its polling and delivery listener: another port, so trusted explicitly.
            "TRUSTED_HOSTS": f"http://127.0.0.1:{bfl.poll_port}",
        }
        # The canonical BFL_FLUX_* names, which the gateway reads first, so one exported in
        # the shell cannot point the run at the real BFL; and the BFL_* aliases to the same
        # values, which are all a --baseline tree from before the provider kit reads.
        for prefix in ("BFL_FLUX", "BFL"):
            env |= {f"{prefix}_{name}": value for name, value in bfl_env.items()}
    return env | ctx.gateway_env


def start_gateway(
    procs: Processes,
    ctx: Context,
    name: str,
    openai: Server | None = None,
    bfl: Server | None = None,
    log_level: str = "INFO",
    wait: bool = True,
    extra_env: dict[str, str] | None = None,
    app_dir: Path = ROOT,
    workers: int = 1,
) -> Server:
    port = free_port()
    cwd = ctx.out_dir / "tmp" / name  # its own folder: database file, stored images
    cwd.mkdir(parents=True, exist_ok=True)
    env = gateway_env(ctx, openai, bfl, log_level) | (extra_env or {})
    server = procs.start(name, gateway_argv(port, app_dir, workers), port, env=env, cwd=cwd)
    if wait:
        server.wait_ready("/healthz", START_TIMEOUT)
    return server


def start_passthrough(procs: Processes, name: str, upstream: Server, wait: bool = True) -> Server:
    port = free_port()
    argv = gateway_argv(port)
    argv[3:6] = ["bench.passthrough:app", "--app-dir", str(ROOT)]
    env = {"BENCH_UPSTREAM": f"{url(upstream)}/v1"}
    server = procs.start(name, argv, port, env=env, cwd=ROOT)
    if wait:
        server.wait_ready("/docs", START_TIMEOUT)
    return server


def url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}"


def direct_target(upstream: Server, label: str = "direct") -> Target:
    headers = {"Authorization": f"Bearer {OPENAI_KEY}"}
    return Target(label, f"{url(upstream)}/v1/images/generations", OPENAI_BODY, headers)


def gateway_target(gateway: Server, label: str, body: bytes = OPENAI_BODY) -> Target:
    headers = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    return Target(label, f"{url(gateway)}/v1/images/generations", body, headers)
