"""Scenario 1, overhead: the OpenAI emulator (zero think time) called directly, through the
gateway (one process per compared LOG_LEVEL, plus an optional baseline source tree), through a
20-line reference pass-through (`passthrough.py`), through Portkey's gateway and through the
LiteLLM proxy, interleaved."""

from __future__ import annotations

from typing import Any

from .. import litellm, portkey
from ..load import Target
from ..procs import Processes, Server
from ..stack import (
    Context,
    direct_target,
    gateway_target,
    start_gateway,
    start_passthrough,
    start_upstream,
)
from .common import added_latency, answering, interleaved, medians, server_metrics


def start_gateways(procs: Processes, ctx: Context, upstream: Server) -> list[tuple[Target, Server]]:
    """`gateway` at the first log level, `gateway (LOG_LEVEL=X)` for the others,
    `gateway (N workers)` (`--workers`) and `gateway (baseline)` from `--baseline`, both at the
    first log level."""
    first = ctx.log_levels[0]
    out = []
    for level in ctx.log_levels:
        label = "gateway" if level == first else f"gateway (LOG_LEVEL={level})"
        gw = start_gateway(procs, ctx, f"overhead-gateway-{level.lower()}", upstream, None, level)
        out.append((gateway_target(gw, label), gw))
    if ctx.workers > 1:
        name = f"overhead-gateway-{ctx.workers}-workers"
        gw = start_gateway(procs, ctx, name, upstream, None, first, workers=ctx.workers)
        out.append((gateway_target(gw, f"gateway ({ctx.workers} workers)"), gw))
    if ctx.baseline is not None:
        name = "overhead-gateway-baseline"
        gw = start_gateway(procs, ctx, name, upstream, None, first, app_dir=ctx.baseline)
        out.append((gateway_target(gw, "gateway (baseline)"), gw))
    return out


def run(ctx: Context) -> dict[str, Any]:
    with Processes(ctx.log_dir) as procs:
        upstream = start_upstream(procs, "overhead-upstream", ctx.payload)
        pairs = [(direct_target(upstream), upstream), *start_gateways(procs, ctx, upstream)]
        if ctx.reference:
            ref = start_passthrough(procs, "overhead-passthrough", upstream)
            pairs.append((gateway_target(ref, "reference pass-through"), ref))
        if ctx.portkey and portkey.ensure(ctx):
            node = portkey.start(procs, ctx, "overhead-portkey")
            pairs.append((portkey.target(node, upstream), node))
        if ctx.litellm and litellm.ensure(ctx):
            proxy = litellm.start(procs, ctx, "overhead-litellm", upstream)
            pairs.append((litellm.target(proxy), proxy))
        checked = answering(ctx, [target for target, _ in pairs])
        servers = {target.label: server for target, server in pairs}
        runs = interleaved(ctx, checked, ctx.concurrency, ctx.duration, servers)
        metrics = server_metrics([server for _, server in pairs])
    rows = []
    for target in checked:
        for concurrency in ctx.concurrency:
            row = medians(runs[target.label][concurrency])
            rows.append({"target": target.label, "concurrency": concurrency, **row})
    added = []
    for target in checked:
        if target.label != "direct":
            for concurrency, diff in added_latency(runs, target.label).items():
                added.append({"target": target.label, "concurrency": concurrency, **diff})
    return {
        "scenario": "overhead",
        "payload": ctx.payload,
        "loadgen": ctx.loadgen,
        "rounds": ctx.rounds,
        "duration_s": ctx.duration,
        "log_levels": ctx.log_levels,
        "baseline": str(ctx.baseline) if ctx.baseline else None,
        "rows": rows,
        "added": added,
        "servers": metrics,
        "raw": runs,
    }
