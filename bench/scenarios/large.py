"""Scenario 3, large images: `b64_json` answers carrying one ~4 MB (incompressible) PNG, at
concurrency 16, directly, through the gateway and through LiteLLM, interleaved."""

from __future__ import annotations

from typing import Any

from .. import litellm
from ..load import Target
from ..procs import Processes, Server
from ..stack import Context, direct_target, gateway_target, start_gateway, start_upstream
from .common import answering, interleaved, medians, server_metrics

CONCURRENCY = 16


def run(ctx: Context) -> dict[str, Any]:
    level = ctx.log_levels[0]
    with Processes(ctx.log_dir) as procs:
        upstream = start_upstream(procs, "large-upstream", "large")
        gw = start_gateway(procs, ctx, "large-gateway", upstream, None, level)
        servers: list[Server] = [upstream, gw]
        targets: list[Target] = [direct_target(upstream), gateway_target(gw, "gateway")]
        if ctx.baseline is not None:
            base = start_gateway(
                procs, ctx, "large-gateway-baseline", upstream, None, level, app_dir=ctx.baseline
            )
            servers.append(base)
            targets.append(gateway_target(base, "gateway (baseline)"))
        if ctx.litellm and litellm.ensure(ctx):
            proxy = litellm.start(procs, ctx, "large-litellm", upstream)
            servers.append(proxy)
            targets.append(litellm.target(proxy))
        checked = answering(ctx, targets, " for large images")
        runs = interleaved(ctx, checked, [CONCURRENCY], ctx.duration)
        metrics = {m["name"]: m for m in server_metrics(servers)}
    names = {t.label: s.name for t, s in zip(targets, servers, strict=True)}
    rows = []
    for target in checked:
        row = medians(runs[target.label][CONCURRENCY])
        server = metrics[names[target.label]]
        rows.append(
            {
                "target": target.label,
                "concurrency": CONCURRENCY,
                **row,
                "peak_rss_mb": server["peak_rss_mb"],
                "cpu_s": server["cpu_s"],
            }
        )
    return {
        "scenario": "large",
        "image_bytes": _image_bytes(),
        "loadgen": ctx.loadgen,
        "rounds": ctx.rounds,
        "duration_s": ctx.duration,
        "rows": rows,
        "servers": list(metrics.values()),
        "raw": runs,
    }


def _image_bytes() -> int:
    from ..upstream import large_image

    return len(large_image().data)
