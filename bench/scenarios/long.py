"""Scenario 2, long generations: N concurrent BFL generations (10 s each by default) held open
through one gateway process, with the gateway's default polling settings.

The gateway is configured like an operator whose BFL account allows N active tasks
(`PROVIDER_CONCURRENCY=bfl-flux=N`; the default, 24, is BFL's standard account limit and would
queue the rest), and the emulator runs without a limit.

A fresh gateway per N makes its peak RSS and CPU seconds that N's alone. Polls per job come from
the BFL emulator's counters (`polls` / `submits`), reset before each N. With `--baseline`, the
baseline's gateway runs the same N right after (a row of its own, `gateway (baseline)`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..load import LoadError, run_burst, run_jobs
from ..procs import Processes, Server, http_json
from ..stack import BFL_BODY, ROOT, Context, gateway_target, start_bfl, start_gateway
from .common import answer, image_problem, server_metrics


def ramp_seconds(count: int) -> float:
    """Open the N connections over a short ramp (a SYN flood of 5,000 at once overflows the
    listen backlog and adds 1 s/3 s retransmits that measure the kernel, not the gateway)."""
    return min(2.0, count / 2500)


def poll_settings(ctx: Context) -> str:
    from image_gateway.settings import Settings

    names = ("bfl_flux_poll_initial_seconds", "bfl_flux_poll_max_interval_seconds")
    values = []
    for name in names:
        env = name.upper()
        alias = env.replace("BFL_FLUX_", "BFL_")  # read too, after the canonical name
        value = ctx.gateway_env.get(env, ctx.gateway_env.get(alias))
        if value is None:
            value = Settings.model_fields[name].default
        values.append(f"{env}={value}")
    return ", ".join(values)


def run(ctx: Context) -> dict[str, Any]:
    return _scenario(ctx, "long", _one)


def run_jobs_scenario(ctx: Context) -> dict[str, Any]:
    """`long-jobs`: the same N generations as async jobs (`Prefer: respond-async`) on the
    default SQLite job store, with `WORKER_CONCURRENCY=N` (an operator running N at once)."""
    return _scenario(ctx, "long-jobs", _one_jobs)


def _scenario(ctx: Context, scenario: str, one: Any) -> dict[str, Any]:
    trees = [("gateway", f"{scenario}-gateway", ROOT)]
    if ctx.baseline is not None:
        trees.append(("gateway (baseline)", f"{scenario}-gateway-baseline", ctx.baseline))
    rows = []
    with Processes(ctx.log_dir) as procs:
        bfl = start_bfl(procs, f"{scenario}-upstream-bfl", ctx.generation_seconds)
        for count in ctx.long_counts:
            for label, name, tree in trees:
                print(
                    f"    {label}: {count} concurrent generations of {ctx.generation_seconds:g} s",
                    flush=True,
                )
                row = one(ctx, procs, bfl, count, label, f"{name}-{count}", tree)
                if row is not None:
                    rows.append(row)
    return {
        "scenario": scenario,
        "generation_seconds": ctx.generation_seconds,
        "poll_settings": poll_settings(ctx),
        "rows": rows,
    }


def _one(
    ctx: Context, procs: Processes, bfl: Server, count: int, label: str, name: str, tree: Path
) -> dict[str, Any] | None:
    """One burst of `count` generations through a fresh gateway from `tree`; None when the load
    client failed (noted)."""
    env = {"PROVIDER_CONCURRENCY": f"bfl-flux={count}"} | ctx.gateway_env
    gw = start_gateway(procs, ctx, name, None, bfl, extra_env=env, app_dir=tree)
    target = gateway_target(gw, label, BFL_BODY)
    problem = image_problem(*answer(target, timeout=ctx.generation_seconds * 3 + 30))
    if problem is not None:
        raise RuntimeError(f"{label}: a test generation {problem}")
    http_json(bfl.port, "/_emulator/reset", method="POST")
    cpu_before, bfl_cpu_before = gw.cpu_seconds(), bfl.cpu_seconds()
    ramp = ramp_seconds(count)
    try:
        result = run_burst(target, count, ramp, timeout=ctx.generation_seconds * 3 + 60)
    except LoadError as exc:
        ctx.note(f"long generations {label} N={count}: load client failed: {exc}")
        procs.stop(gw)
        return None
    stats = http_json(bfl.port, "/_emulator/stats")
    metrics = server_metrics([gw])[0]
    submits = stats.get("submits") or 0
    polls = stats.get("polls") or 0
    mean_s = (result.get("mean_ms") or 0) / 1000
    per_job = polls / submits if submits else None
    row = {
        "target": label,
        "concurrent": count,
        "ok": result["ok"],
        "success_rate": result["ok"] / count,
        "statuses": result["statuses"],
        "ramp_s": ramp,
        "wall_s": result["duration_s"],
        "p50_s": result["p50_ms"] / 1000,
        "p99_s": result["p99_ms"] / 1000,
        "max_s": result["max_ms"] / 1000,
        "peak_rss_mb": metrics["peak_rss_mb"],
        "cpu_s": round(gw.cpu_seconds() - cpu_before, 2),
        "upstream_cpu_s": round(bfl.cpu_seconds() - bfl_cpu_before, 2),
        "submits": submits,
        "polls": polls,
        "polls_per_job": per_job,
        "polls_per_job_per_s": per_job / mean_s if per_job and mean_s else None,
        "max_active": stats.get("max_active"),
    }
    print(
        f"    ok {result['ok']}/{count}  peak RSS {metrics['peak_rss_mb']} MB  "
        f"cpu {row['cpu_s']} s  polls/job {per_job}",
        flush=True,
    )
    procs.stop(gw)
    return row


JOB_POLL_SECONDS = 2.0  # the load client's poll of each job without a Retry-After
JOB_POLL_CONCURRENCY = 64  # polls in flight at once, at most
# Each poll's `Prefer: wait=N`: a gateway that applies it answers when the job ends (then its
# polls are long polls, one per job); one that does not is polled as before.
JOB_POLL_WAIT_SECONDS = 30


def _one_jobs(
    ctx: Context, procs: Processes, bfl: Server, count: int, label: str, name: str, tree: Path
) -> dict[str, Any] | None:
    """`count` async jobs through a fresh gateway from `tree` (its SQLite store in its own
    folder); None when the load client failed (noted)."""
    env = {"PROVIDER_CONCURRENCY": f"bfl-flux={count}", "WORKER_CONCURRENCY": str(count)}
    gw = start_gateway(procs, ctx, name, None, bfl, extra_env=env | ctx.gateway_env, app_dir=tree)
    target = gateway_target(gw, label, BFL_BODY)
    problem = image_problem(*answer(target, timeout=ctx.generation_seconds * 3 + 30))
    if problem is not None:
        raise RuntimeError(f"{label}: a test generation {problem}")
    http_json(bfl.port, "/_emulator/reset", method="POST")
    cpu_before, bfl_cpu_before = gw.cpu_seconds(), bfl.cpu_seconds()
    ramp = ramp_seconds(count)
    timeout = ctx.generation_seconds * 3 + 60
    try:
        result = run_jobs(
            target,
            count,
            ramp,
            timeout,
            JOB_POLL_SECONDS,
            JOB_POLL_CONCURRENCY,
            JOB_POLL_WAIT_SECONDS,
        )
    except LoadError as exc:
        ctx.note(f"long-jobs {label} N={count}: load client failed: {exc}")
        procs.stop(gw)
        return None
    stats = http_json(bfl.port, "/_emulator/stats")
    metrics = server_metrics([gw])[0]
    submits = stats.get("submits") or 0
    polls = stats.get("polls") or 0
    row = {
        "target": label,
        "concurrent": count,
        "ok": result["ok"],
        "success_rate": result["ok"] / count,
        "statuses": result["statuses"],
        "ends": result["ends"],
        "ramp_s": ramp,
        "wall_s": result["duration_s"],
        "submit_p50_ms": result["submit_p50_ms"],
        "submit_p99_ms": result["submit_p99_ms"],
        "done_p50_s": result["done_p50_s"],
        "done_p99_s": result["done_p99_s"],
        "done_max_s": result["done_max_s"],
        "peak_rss_mb": metrics["peak_rss_mb"],
        "cpu_s": round(gw.cpu_seconds() - cpu_before, 2),
        "upstream_cpu_s": round(bfl.cpu_seconds() - bfl_cpu_before, 2),
        "client_polls": result["polls"],
        "submits": submits,
        "upstream_polls_per_job": polls / submits if submits else None,
        "max_active": stats.get("max_active"),
    }
    print(
        f"    ok {result['ok']}/{count} {result['ends']}  peak RSS {metrics['peak_rss_mb']} MB  "
        f"cpu {row['cpu_s']} s  submit p50/p99 {result['submit_p50_ms']:.0f}/"
        f"{result['submit_p99_ms']:.0f} ms  done p50/p99 {result['done_p50_s']}/"
        f"{result['done_p99_s']} s",
        flush=True,
    )
    procs.stop(gw)
    return row
