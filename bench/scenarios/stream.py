"""Scenario 5, streaming: 64 concurrent `stream: true` generations with 3 partial images of
about 1 MB each (then the final image, ~1 MB too), directly against the OpenAI emulator and
through the gateway's synchronous streaming relay, in interleaved rounds.

The emulator sends every event `PARTIAL_INTERVAL` seconds after the previous one (the first
too), so a partial image the gateway passes on as it arrives reaches the client about one
interval after the request, through the gateway as directly; one the gateway held (until the
next event, or the end) would come an interval or more later. Reported per target: time to the
first whole partial image event (p50, p95, max over the 64 streams; medians over rounds), time
to the stream's end, partial images per stream, and the gateway process's peak RSS (a fresh
process, so the peak is this scenario's).
"""

from __future__ import annotations

from typing import Any

from ..load import LoadError, Target, run_streams
from ..procs import Processes
from ..stack import Context, direct_target, gateway_target, start_gateway, start_upstream
from ..stats import median
from .common import server_metrics

STREAMS = 64
WARMUP_STREAMS = 16
PARTIAL_IMAGES = 3
PARTIAL_INTERVAL = 0.25  # seconds between two events of one upstream stream
BODY = (
    b'{"model":"gpt-image-1","prompt":"a lighthouse","size":"1024x1024",'
    b'"stream":true,"partial_images":3}'
)
FIELDS = (
    "first_partial_p50_ms",
    "first_partial_p95_ms",
    "first_partial_max_ms",
    "stream_p50_ms",
    "stream_p95_ms",
)


def run(ctx: Context) -> dict[str, Any]:
    rounds = ctx.rounds
    with Processes(ctx.log_dir) as procs:
        extra = ["--partial-interval", str(PARTIAL_INTERVAL)]
        upstream = start_upstream(procs, "stream-upstream", "stream", extra)
        gw = start_gateway(procs, ctx, "stream-gateway", upstream, None, ctx.log_levels[0])
        direct = direct_target(upstream)
        targets = [
            Target(direct.label, direct.url, BODY, direct.headers),
            gateway_target(gw, "gateway", BODY),
        ]
        servers = {direct.label: "stream-upstream", "gateway": "stream-gateway"}
        gateways = [gw]
        if ctx.baseline is not None:  # `--baseline`: the other tree's gateway, its own process
            name = "stream-gateway-baseline"
            base = start_gateway(
                procs, ctx, name, upstream, None, ctx.log_levels[0], app_dir=ctx.baseline
            )
            targets.append(gateway_target(base, "gateway (baseline)", BODY))
            servers["gateway (baseline)"] = name
            gateways.append(base)
        idle_rss = server_metrics([gw])[0]["peak_rss_mb"]
        runs: dict[str, list[dict[str, Any]]] = {t.label: [] for t in targets}
        for target in targets:  # warm-up (imports, connection pools), not reported
            try:
                run_streams(target, WARMUP_STREAMS, timeout=60.0)
            except LoadError as exc:
                ctx.note(f"stream {target.label}: warm-up failed: {exc}")
        for round_no in range(rounds):
            shift = round_no % len(targets)
            for target in targets[shift:] + targets[:shift]:
                try:
                    result = run_streams(target, STREAMS, timeout=60.0)
                except LoadError as exc:
                    ctx.note(f"stream {target.label}: load client failed: {exc}")
                    continue
                runs[target.label].append(result)
                print(
                    f"    round {round_no + 1}/{rounds} {target.label:<10} ok "
                    f"{result['ok']}/{STREAMS} {result['outcomes']}  first partial p50 "
                    f"{result['first_partial_p50_ms']} ms p95 "
                    f"{result['first_partial_p95_ms']} ms  stream p50 "
                    f"{result['stream_p50_ms']:.0f} ms",
                    flush=True,
                )
        for label, mine in runs.items():
            failed = {k: v for r in mine for k, v in r["outcomes"].items() if k != "ok"}
            if failed:
                ctx.note(f"stream {label}: streams that did not complete: {failed}")
        metrics = {m["name"]: m for m in server_metrics([upstream, *gateways])}
    rows = []
    for target in targets:
        mine = runs[target.label]
        row: dict[str, Any] = {f: median(r[f] for r in mine) for f in FIELDS}
        partials: dict[str, int] = {}
        for r in mine:
            for k, v in r["partials_per_stream"].items():
                partials[k] = partials.get(k, 0) + v
        server = metrics[servers[target.label]]
        row.update(
            outcomes=[r["outcomes"] for r in mine],
            target=target.label,
            streams=STREAMS * len(mine),
            ok=sum(r["ok"] for r in mine),
            partials_per_stream=partials,
            mb_received=round(sum(r["bytes"] for r in mine) / 1e6, 1),
            peak_rss_mb=server["peak_rss_mb"],
        )
        rows.append(row)
    for row in rows:
        if row["target"].startswith("gateway") and rows[0]["first_partial_p50_ms"] is not None:
            for f in ("first_partial_p50_ms", "first_partial_p95_ms"):
                mine, theirs = row[f], rows[0][f]
                row["added_" + f] = None if mine is None else mine - theirs
    return {
        "scenario": "stream",
        "streams": STREAMS,
        "partial_images": PARTIAL_IMAGES,
        "partial_interval_s": PARTIAL_INTERVAL,
        "image_bytes": _image_bytes(),
        "rounds": rounds,
        "gateway_idle_rss_mb": idle_rss,
        "rows": rows,
        "servers": list(metrics.values()),
        "raw": runs,
    }


def _image_bytes() -> int:
    from ..upstream import STREAM_SIDE, large_image

    return len(large_image(STREAM_SIDE).data)
