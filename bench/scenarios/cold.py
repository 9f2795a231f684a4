"""Scenario 4, cold start: process spawn to the first answered image generation, and the import
time of the app module, for the gateway (and `--baseline`'s), the 20-line FastAPI pass-through
(the floor of the libraries the gateway is built on), Portkey's gateway and LiteLLM (what
serverless pays per cold start).

"Answered" means a 200 carrying an image (`common.image_problem`) to the same generation request
the other scenarios send, polled every 10 ms from the moment the process is spawned. The gateway,
the baseline and the pass-through start in turns (which goes first alternates), each start
followed by a timed import of the same tree, after one untimed import of each (the first start
after a while reads its files from disk). Each also starts as often again to
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
    start_passthrough,
    start_upstream,
)
from ..stats import median
from .common import PEERS, answer, image_problem

LOCAL_BODY = b'{"model":"local-art","prompt":"x","size":"1024x1024"}'
# The floor: the 20-line FastAPI + aiohttp pass-through (`bench/passthrough.py`), the libraries
# the gateway is built on doing nothing but forwarding the same request to the same emulator.
REFERENCE = "reference pass-through"
PASSTHROUGH_MODULE = "bench.passthrough"
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
    """The gateway's rows (and the baseline's), then the pass-through's: every round starts
    each of them in turn (the order alternates) and times each one's import, so a change of load
    during the run falls on all of them alike."""
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
    labels = [label for label, _, _ in trees]
    if ctx.reference:
        labels.append(REFERENCE)
        import_seconds(sys.executable, PASSTHROUGH_MODULE, os.environ.copy(), str(ROOT))
    starts: dict[str, list[float | None]] = {label: [] for label in labels}
    local: dict[str, list[float | None]] = {label: [] for label in labels}
    imports: dict[str, list[float | None]] = {label: [] for label in labels}
    for i in range(ctx.cold_runs):
        for label in labels if i % 2 == 0 else labels[::-1]:
            if label == REFERENCE:
                ref = start_passthrough(procs, f"cold-passthrough-{i}", upstream, wait=False)
                starts[label].append(first_answer(ref, gateway_target(ref, label), 60.0))
                procs.stop(ref)
                env = os.environ.copy()
                imports[label].append(
                    import_seconds(sys.executable, PASSTHROUGH_MODULE, env, str(ROOT))
                )
                continue
            name, tree = next((n, t) for lb, n, t in trees if lb == label)
            for body, seconds in ((OPENAI_BODY, starts), (LOCAL_BODY, local)):
                which = "local" if body is LOCAL_BODY else "openai"
                gw = start_gateway(
                    procs, ctx, f"{name}-{which}-{i}", upstream, None, wait=False, app_dir=tree
                )
                seconds[label].append(first_answer(gw, gateway_target(gw, label, body), 60.0))
                procs.stop(gw)
            imports[label].append(import_seconds(sys.executable, "main", envs[tree], str(home)))
    interpreter = interpreter_seconds([sys.executable, "-c", "pass"])
    return [
        {
            "server": label,
            "start_to_first_answer_s": median(starts[label]),
            "runs": starts[label],
            "start_to_first_local_answer_s": median(local[label]) if local[label] else None,
            "local_runs": local[label],
            "import_s": median(imports[label]),
            "import_module": PASSTHROUGH_MODULE
            if label == REFERENCE
            else "main (image_gateway.app + create_app)",
            "interpreter_s": interpreter,
        }
        for label in labels
    ]


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
