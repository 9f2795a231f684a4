"""Scenario 4, cold start: process spawn to the first answered image generation, and the import
time of the app module, for the gateway (and `--baseline`'s), Portkey's gateway and LiteLLM
(what serverless pays per cold start).

"Answered" means a 200 carrying an image (`common.image_problem`) to the same generation request
the other scenarios send, polled every 10 ms from the moment the process is spawned. The gateway
and the baseline start in turns (which goes first alternates), after one untimed import of each
(the first start after a while reads its files from disk). Each also starts as often again to
answer `LOCAL_BODY`, a generation on the built-in `local` provider (issue 16's figure: the
gateway's own start, without the upstream client's first call). Import time is measured in a
fresh interpreter (Node has no counterpart: Portkey's row shows a bare `node -e ''` only).

Each tree's bytecode is compiled first (`compileall`), as the Dockerfile does at build: the
gateway runs with PYTHONDONTWRITEBYTECODE, so a tree never imported otherwise would compile
every module at every start, and two trees would differ by whether a `__pycache__` was left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .. import litellm, portkey
from ..load import Target
from ..procs import Processes, Server
from ..stack import (
    OPENAI_BODY,
    ROOT,
    Context,
    gateway_env,
    gateway_target,
    start_gateway,
    start_upstream,
)
from ..stats import median
from .common import PEERS, answer, image_problem

LOCAL_BODY = b'{"model":"local-art","prompt":"x","size":"1024x1024"}'
IMPORT_SNIPPET = (
    "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
)


def first_answer(server: Server, target: Target, timeout: float) -> float | None:
    """Seconds from spawn to the first 200, None when none came in time. A 200 that is not an
    image raises RuntimeError: the server answers, but not what the figure claims."""
    deadline = server.started_at + timeout
    while time.monotonic() < deadline and server.alive():
        status, body = answer(target, timeout=10.0)
        if status == 200:
            seconds = time.monotonic() - server.started_at
            problem = image_problem(status, body)
            if problem is not None:
                raise RuntimeError(f"{target.label}: its first answer {problem}")
            return seconds
        time.sleep(0.01)
    return None


def peer_first_answer(ctx: Context, server: Server, target: Target, timeout: float) -> float | None:
    try:
        return first_answer(server, target, timeout)
    except RuntimeError as exc:
        ctx.note(f"{PEERS[target.label]} cold start not counted: {exc}")
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


def interpreter_seconds(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=False, timeout=60)
    return time.perf_counter() - started


def _gateways(ctx: Context, procs: Processes, upstream: Server, home: Path) -> list[dict[str, Any]]:
    trees = [("gateway", "cold-gateway", ROOT)]
    if ctx.baseline is not None:
        trees.append(("gateway (baseline)", "cold-gateway-baseline", ctx.baseline))
    envs = {
        tree: {**os.environ, **gateway_env(ctx, upstream), "PYTHONPATH": str(tree)}
        for *_, tree in trees
    }
    for *_, tree in trees:  # untimed: the first start after a while reads files from disk
        compiled = [sys.executable, "-m", "compileall", "-q", "main.py", "image_gateway"]
        subprocess.run(compiled, cwd=tree, check=True, capture_output=True, timeout=300)
        import_seconds(sys.executable, "main", envs[tree], str(home))
    starts: dict[str, list[float | None]] = {label: [] for label, _, _ in trees}
    local: dict[str, list[float | None]] = {label: [] for label, _, _ in trees}
    for i in range(ctx.cold_runs):
        for label, name, tree in trees if i % 2 == 0 else trees[::-1]:
            for body, seconds in ((OPENAI_BODY, starts), (LOCAL_BODY, local)):
                which = "local" if body is LOCAL_BODY else "openai"
                gw = start_gateway(
                    procs, ctx, f"{name}-{which}-{i}", upstream, None, wait=False, app_dir=tree
                )
                seconds[label].append(first_answer(gw, gateway_target(gw, label, body), 60.0))
                procs.stop(gw)
    rows = []
    for label, _, tree in trees:
        runs = range(ctx.cold_runs)
        imports = [import_seconds(sys.executable, "main", envs[tree], str(home)) for _ in runs]
        rows.append(
            {
                "server": label,
                "start_to_first_answer_s": median(starts[label]),
                "runs": starts[label],
                "start_to_first_local_answer_s": median(local[label]),
                "local_runs": local[label],
                "import_s": median(imports),
                "import_module": "main (image_gateway.app + create_app)",
                "interpreter_s": interpreter_seconds([sys.executable, "-c", "pass"]),
            }
        )
    return rows


def run(ctx: Context) -> dict[str, Any]:
    runs = ctx.cold_runs
    with Processes(ctx.log_dir) as procs:
        upstream = start_upstream(procs, "cold-upstream", "tiny")
        home = ctx.out_dir / "tmp" / "cold-import"
        home.mkdir(parents=True, exist_ok=True)
        rows = _gateways(ctx, procs, upstream, home)
        if ctx.portkey and portkey.ensure(ctx):
            node_bin = shutil.which("node") or "node"
            starts: list[float | None] = []
            for i in range(runs):
                node = portkey.start(procs, ctx, f"cold-portkey-{i}", wait=False)
                target = portkey.target(node, upstream)
                starts.append(peer_first_answer(ctx, node, target, 60.0))
                procs.stop(node)
            rows.append(
                {
                    "server": "portkey",
                    "start_to_first_answer_s": median(starts),
                    "runs": starts,
                    "import_s": None,
                    "import_module": None,
                    "interpreter_s": interpreter_seconds([node_bin, "-e", ""]),
                }
            )
        if ctx.litellm and litellm.ensure(ctx):
            starts = []
            for i in range(runs):
                proxy = litellm.start(procs, ctx, f"cold-litellm-{i}", upstream, wait=False)
                starts.append(peer_first_answer(ctx, proxy, litellm.target(proxy), 180.0))
                procs.stop(proxy)
            python = str(litellm.VENV / "bin" / "python")
            module = "litellm.proxy.proxy_server"
            env = {**os.environ, **litellm.ENV}
            imports = [import_seconds(python, module, env, str(home)) for _ in range(runs)]
            rows.append(
                {
                    "server": "litellm",
                    "start_to_first_answer_s": median(starts),
                    "runs": starts,
                    "import_s": median(imports),
                    "import_module": module,
                    "interpreter_s": interpreter_seconds([python, "-c", "pass"]),
                }
            )
    return {"scenario": "cold", "runs": runs, "rows": rows}
