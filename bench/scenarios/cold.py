"""Scenario 4, cold start: process spawn to the first answered image generation, and the import
time of the app module, for the gateway and for LiteLLM (what serverless pays per cold start).

"Answered" means a 200 to the same generation request the other scenarios send, polled every
10 ms from the moment the process is spawned. Import time is measured in a fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from .. import litellm
from ..load import Target
from ..procs import Processes, Server
from ..stack import ROOT, Context, gateway_env, gateway_target, start_gateway, start_upstream
from ..stats import median
from .common import answers_ok

IMPORT_SNIPPET = (
    "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
)


def first_answer(server: Server, target: Target, timeout: float) -> float | None:
    deadline = server.started_at + timeout
    while time.monotonic() < deadline and server.alive():
        if answers_ok(target, timeout=10.0) == 200:
            return time.monotonic() - server.started_at
        time.sleep(0.01)
    return None


def import_seconds(python: str, module: str, env: dict[str, str], cwd: str) -> float | None:
    code = IMPORT_SNIPPET.format(module=module)
    try:
        proc = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd=cwd
        )
        return float(proc.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def interpreter_seconds(python: str) -> float:
    started = time.perf_counter()
    subprocess.run([python, "-c", "pass"], check=False, timeout=60)
    return time.perf_counter() - started


def run(ctx: Context) -> dict[str, Any]:
    rows = []
    runs = ctx.cold_runs
    with Processes(ctx.log_dir) as procs:
        upstream = start_upstream(procs, "cold-upstream", "tiny")
        starts: list[float | None] = []
        for i in range(runs):
            gw = start_gateway(procs, ctx, f"cold-gateway-{i}", upstream, None, wait=False)
            starts.append(first_answer(gw, gateway_target(gw, "gateway"), 60.0))
            procs.stop(gw)
        env = {**os.environ, **gateway_env(ctx, upstream)}
        home = ctx.out_dir / "tmp" / "cold-import"
        home.mkdir(parents=True, exist_ok=True)
        cwd = str(home)
        env["PYTHONPATH"] = str(ROOT)
        imports = [import_seconds(sys.executable, "main", env, cwd) for _ in range(runs)]
        rows.append(
            {
                "server": "gateway",
                "start_to_first_answer_s": median(starts),
                "runs": starts,
                "import_s": median(imports),
                "import_module": "main (image_gateway.app + create_app)",
                "interpreter_s": interpreter_seconds(sys.executable),
            }
        )
        if ctx.litellm and litellm.ensure(ctx):
            starts = []
            for i in range(runs):
                proxy = litellm.start(procs, ctx, f"cold-litellm-{i}", upstream, wait=False)
                starts.append(first_answer(proxy, litellm.target(proxy), 180.0))
                procs.stop(proxy)
            python = str(litellm.VENV / "bin" / "python")
            module = "litellm.proxy.proxy_server"
            env = {**os.environ, **litellm.ENV}
            imports = [import_seconds(python, module, env, cwd) for _ in range(runs)]
            rows.append(
                {
                    "server": "litellm",
                    "start_to_first_answer_s": median(starts),
                    "runs": starts,
                    "import_s": median(imports),
                    "import_module": module,
                    "interpreter_s": interpreter_seconds(python),
                }
            )
    return {"scenario": "cold", "runs": runs, "rows": rows}
