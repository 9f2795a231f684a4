"""Scenario 3, large images: `b64_json` answers carrying one ~4 MB (incompressible) PNG, at
concurrency 16, directly, through the gateway (and `--baseline`'s), through Portkey's gateway
and through LiteLLM, interleaved."""

from __future__ import annotations

from typing import Any

from .. import litellm, portkey
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
        pairs: list[tuple[Target, Server]] = [
            (direct_target(upstream), upstream),
            (gateway_target(gw, "gateway"), gw),
        ]
        if ctx.baseline is not None:
            base = start_gateway(
                procs, ctx, "large-gateway-baseline", upstream, None, level, app_dir=ctx.baseline
            )
            pairs.append((gateway_target(base, "gateway (baseline)"), base))
        if ctx.portkey and portkey.ensure(ctx):
            node = portkey.start(procs, ctx, "large-portkey")
            pairs.append((portkey.target(node, upstream), node))
        if ctx.litellm and litellm.ensure(ctx):
            proxy = litellm.start(procs, ctx, "large-litellm", upstream)
            pairs.append((litellm.target(proxy), proxy))
        checked = answering(ctx, [target for target, _ in pairs], " for large images")
        return measure(ctx, "large", checked, pairs)


def measure(
    ctx: Context, name: str, checked: list[Target], pairs: list[tuple[Target, Server]]
) -> dict[str, Any]:
    """Scenario `name`'s result: `checked` targets (those that answered) loaded at
    `CONCURRENCY` in interleaved rounds, each row with its server's peak RSS and CPU (`pairs`:
    each target's server). Shared with the `large-url` and `large-edit` variants."""
    servers = {target.label: server for target, server in pairs}
    runs = interleaved(ctx, checked, [CONCURRENCY], ctx.duration, servers)
    metrics = {m["name"]: m for m in server_metrics(list(servers.values()))}
    rows = []
    for target in checked:
        server = metrics[servers[target.label].name]
        rows.append(
            {
                "target": target.label,
                "concurrency": CONCURRENCY,
                **medians(runs[target.label][CONCURRENCY]),
                "peak_rss_mb": server["peak_rss_mb"],
                "cpu_s": server["cpu_s"],
            }
        )
    return {
        "scenario": name,
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
