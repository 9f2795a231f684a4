"""`python -m bench` (or `make bench`): run the scenarios, write bench/out/results.{json,md}.

    python -m bench                         # everything, full length (about 15 minutes)
    python -m bench --quick                 # every scenario, shortened (about 2 minutes)
    python -m bench --scenarios overhead,cold --no-litellm --no-portkey --loadgen python

All servers run on 127.0.0.1; every load run is bounded in time and count; every process the
harness starts is stopped when it ends, also on errors and Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import litellm, portkey
from .load import LoadError, choose
from .report import write
from .scenarios import cold, large, long, overhead, stream, variants
from .stack import Context

SCENARIOS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "overhead": overhead.run,
    "long": long.run,
    "long-jobs": long.run_jobs_scenario,
    "large": large.run,
    "large-url": variants.run_url,
    "large-edit": variants.run_edit,
    "cold": cold.run,
    "stream": stream.run,
}
DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="comma-separated subset of: " + ", ".join(SCENARIOS),
    )
    p.add_argument("--quick", action="store_true", help="short runs (a smoke check, not figures)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (bench/out)")
    p.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="wrk when installed (auto), or the async Python client",
    )
    p.add_argument("--duration", type=float, help="seconds per load cell (5; quick 1)")
    p.add_argument("--rounds", type=int, help="interleaved rounds (3; quick 1)")
    p.add_argument("--concurrency", type=_ints, default=[1, 16, 64], help="overhead levels")
    p.add_argument("--long-counts", type=_ints, help="concurrent generations (1000,10000)")
    p.add_argument("--generation-seconds", type=float, help="BFL generation time (10; quick 2)")
    p.add_argument(
        "--payload",
        choices=("tiny", "default"),
        default="tiny",
        help="overhead upstream image: 1x1 PNG (tiny) or the emulator's own",
    )
    p.add_argument("--log-levels", help="gateway LOG_LEVELs compared (INFO,WARNING; quick INFO)")
    p.add_argument("--cold-runs", type=int, help="cold starts per server (3; quick 1)")
    p.add_argument("--no-litellm", action="store_true", help="leave LiteLLM out")
    p.add_argument("--no-reference", action="store_true", help="leave the 20-line pass-through out")
    p.add_argument(
        "--no-litellm-install",
        action="store_true",
        help="use bench/.venv-litellm only if it is already there",
    )
    p.add_argument("--no-portkey", action="store_true", help="leave Portkey's gateway out")
    p.add_argument(
        "--no-portkey-install",
        action="store_true",
        help=f"use bench/.portkey only if {portkey.PACKAGE}@{portkey.VERSION} is already there",
    )
    p.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra gateway setting, e.g. UPSTREAM_MAX_CONNECTIONS=1024",
    )
    p.add_argument(
        "--workers",
        type=int,
        help="overhead: also run a gateway with this many uvicorn worker processes "
        "(`uvicorn --workers N`, one per core; 2; quick 1 = leave it out)",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="another source tree (main.py + image_gateway/) to run side by side as "
        "'gateway (baseline)' in every scenario (issue 11's not-10%%-worse targets need it)",
    )
    return p.parse_args(argv)


def context(args: argparse.Namespace) -> Context:
    quick = args.quick
    levels = args.log_levels or ("INFO" if quick else "INFO,WARNING")
    env = dict(item.split("=", 1) for item in args.gateway_env)
    return Context(
        out_dir=args.out.resolve(),
        quick=quick,
        loadgen=choose(args.loadgen),
        litellm=not args.no_litellm,
        reference=not args.no_reference,
        litellm_install=not args.no_litellm_install,
        portkey=not args.no_portkey,
        portkey_install=not args.no_portkey_install,
        duration=args.duration or (1.0 if quick else 5.0),
        rounds=args.rounds or (1 if quick else 3),
        concurrency=args.concurrency,
        long_counts=args.long_counts or ([200] if quick else [1000, 10_000]),
        generation_seconds=args.generation_seconds or (2.0 if quick else 10.0),
        log_levels=[x.strip().upper() for x in levels.split(",") if x.strip()],
        payload=args.payload,
        gateway_env=env,
        cold_runs=args.cold_runs or (1 if quick else 3),
        baseline=args.baseline.resolve() if args.baseline else None,
        workers=args.workers or (1 if quick else 2),
    )


def machine(ctx: Context) -> dict[str, Any]:
    cpu = "unknown"
    mem_kb = 0
    try:
        cpu = next(
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        )
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, StopIteration, ValueError):
        pass
    wrk = None
    if ctx.loadgen == "wrk":
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
        wrk = (out.stdout or out.stderr).split("[")[0].strip() + " (1 thread)"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "mem_gib": mem_kb / 1024 / 1024,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": wrk,
    }


def peers(ctx: Context) -> dict[str, Any]:
    """The peers' versions, once the scenarios have installed them."""
    return {
        "litellm": litellm.version() if ctx.litellm and litellm.MARKER.exists() else None,
        "portkey": portkey.version() if ctx.portkey else None,
        "node": portkey.node_version() if ctx.portkey else None,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        ctx = context(args)
    except LoadError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"bench: unknown scenario(s) {unknown}; known: {list(SCENARIOS)}", file=sys.stderr)
        return 2
    started = time.time()
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    results: dict[str, Any] = {
        "command": command,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "options": {k: str(v) for k, v in vars(ctx).items() if k != "notes"},
        "machine": machine(ctx),
        "scenarios": {},
        "notes": ctx.notes,
    }
    failed = False
    for name in names:
        print(f"== {name}", flush=True)
        t0 = time.monotonic()
        try:
            results["scenarios"][name] = SCENARIOS[name](ctx)
        except Exception as exc:  # a failed scenario is reported; the others still run
            failed = True
            traceback.print_exc()
            results["scenarios"][name] = {"scenario": name, "error": f"{type(exc).__name__}: {exc}"}
        print(f"   {name} took {time.monotonic() - t0:.0f} s", flush=True)
    results["machine"] |= peers(ctx)
    results["elapsed_s"] = time.time() - started
    json_path, md_path = write(results, ctx.out_dir)
    print(md_path.read_text())
    print(f"wrote {json_path} and {md_path}")
    return 1 if failed else 0
