"""Shared pieces of the scenarios: sanity checks, interleaved rounds, medians, server metrics."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any
from urllib.parse import urlsplit

import orjson

from ..load import LoadError, Target, run_closed
from ..procs import Server, http_answer
from ..stack import Context
from ..stats import median

ROW_FIELDS = ("rps", "p50_ms", "p90_ms", "p99_ms", "mean_ms", "mb_per_s", "cpu_us_per_req")
# Peers, by target label: one that does not answer with an image is left out with a note; any
# other target that does not stops the scenario.
PEERS = {"litellm": "LiteLLM", "portkey": "Portkey"}
# The first bytes of the image formats an OpenAI-style answer carries.
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF")


def answer(target: Target, timeout: float = 60.0) -> tuple[int | None, bytes]:
    """Status and body of one request to the target (None: nothing answered)."""
    parts = urlsplit(target.url)
    headers = {"Content-Type": "application/json", **target.headers}
    return http_answer("POST", parts.port or 80, parts.path, target.body, headers, timeout)


def answers_ok(target: Target, timeout: float = 60.0) -> int | None:
    """Status of one request to the target (200 expected before any load is sent)."""
    return answer(target, timeout)[0]


def image_problem(status: int | None, body: bytes) -> str | None:
    """What keeps an answer from being a generated image, or None when it is one: a 200 whose
    JSON `data[0]` has a `b64_json` decoding to a PNG, JPEG or WebP, or a `url`. A proxy that
    wraps an upstream error in a 200 (or answers for an unknown provider) fails here."""
    excerpt = body[:300].decode("utf-8", "replace")
    if status != 200:
        return f"answered {status}, not 200: {excerpt}"
    try:
        first = orjson.loads(body)["data"][0]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return f"answered 200 without data[0]: {excerpt}"
    if not isinstance(first, dict):
        return f"answered 200 with data[0] not an object: {excerpt}"
    if isinstance(first.get("url"), str) and first["url"]:
        return None
    encoded = first.get("b64_json")
    if not isinstance(encoded, str):
        return f"answered 200 with neither b64_json nor url in data[0]: {excerpt}"
    try:
        image = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return "answered 200 with data[0].b64_json that is not base64"
    if not image.startswith(IMAGE_SIGNATURES):
        return "answered 200 with data[0].b64_json that is not a PNG, JPEG or WebP image"
    return None


def answering(ctx: Context, targets: list[Target], where: str = "") -> list[Target]:
    """The targets whose answer to a test request is a generated image (`image_problem`). A peer
    (`PEERS`) may fail to: it is skipped, with a note; any other target stops the run."""
    checked = []
    for target in targets:
        problem = image_problem(*answer(target))
        if problem is None:
            checked.append(target)
        elif target.label in PEERS:
            ctx.note(f"{PEERS[target.label]} skipped{where}: a test request {problem}")
        else:
            raise RuntimeError(f"{target.label}: a test request {problem}")
    return checked


def interleaved(
    ctx: Context,
    targets: list[Target],
    concurrencies: list[int],
    duration: float,
    servers: dict[str, Server] | None = None,
) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """Every (target, concurrency) cell once per round; the target order rotates each round so
    that no target always runs first (right after another one heated the machine).

    With `servers` (target label -> the process that serves it), each cell also records that
    process's CPU time per request (`cpu_us_per_req`): unlike req/s, it hardly moves when
    something else loads the machine, so it compares versions of the gateway reliably."""
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {
        t.label: {c: [] for c in concurrencies} for t in targets
    }
    warmup = min(2.0, max(0.5, duration))
    for target in targets:
        _run(ctx, target, min(16, max(concurrencies)), warmup)
    for round_no in range(ctx.rounds):
        for concurrency in concurrencies:
            shift = round_no % len(targets)
            for target in targets[shift:] + targets[:shift]:
                server = (servers or {}).get(target.label)
                cpu_before = server.cpu_seconds() if server is not None else 0.0
                result = _run(ctx, target, concurrency, duration)
                if server is not None and result.get("requests"):
                    spent = server.cpu_seconds() - cpu_before
                    result["cpu_us_per_req"] = spent * 1e6 / result["requests"]
                result["round"] = round_no
                runs[target.label][concurrency].append(result)
                print(
                    f"    round {round_no + 1}/{ctx.rounds} c={concurrency:<3} "
                    f"{target.label:<28} {result['rps']:9.1f} req/s  p50 {result['p50_ms']:8.2f} "
                    f"ms  p99 {result['p99_ms']:8.2f} ms  errors {result['errors']}",
                    flush=True,
                )
    for label, cells in runs.items():
        failed = sum(max(0, r.get("errors", 0)) for rs in cells.values() for r in rs)
        if failed:
            total = sum(r.get("requests", 0) for rs in cells.values() for r in rs)
            ctx.note(f"{label}: {failed:,} of {total:,} requests failed (see bench/out/logs)")
    return runs


def _run(ctx: Context, target: Target, concurrency: int, duration: float) -> dict[str, Any]:
    try:
        result = run_closed(ctx.loadgen, target, concurrency, duration)
    except LoadError as exc:
        ctx.note(f"{target.label} c={concurrency}: load run failed: {exc}")
        result = {"rps": 0.0, "p50_ms": None, "p99_ms": None, "errors": -1, "requests": 0}
    seconds = result.get("duration_s") or duration
    result["mb_per_s"] = result.get("bytes", 0) / seconds / 1e6
    time.sleep(0.2)  # let sockets of the previous run close before the next one
    return result


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {f: median(r.get(f) for r in runs) for f in ROW_FIELDS}
    row["errors"] = sum(max(0, r.get("errors", 0)) for r in runs)
    row["requests"] = sum(r.get("requests", 0) for r in runs)
    row["runs"] = len(runs)
    return row


def added_latency(
    runs: dict[str, dict[int, list[dict[str, Any]]]], label: str, base: str = "direct"
) -> dict[int, dict[str, float | None]]:
    """Median over rounds of (label minus base) for p50 and p99, paired round by round."""
    out: dict[int, dict[str, float | None]] = {}
    for concurrency, mine in runs[label].items():
        theirs = {r["round"]: r for r in runs[base][concurrency]}
        diffs: dict[str, list[float | None]] = {"p50_ms": [], "p99_ms": []}
        for run in mine:
            other = theirs.get(run["round"])
            for f in diffs:
                if other and run.get(f) is not None and other.get(f) is not None:
                    diffs[f].append(run[f] - other[f])
        out[concurrency] = {f: median(v) for f, v in diffs.items()}
    return out


def server_metrics(servers: list[Server]) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "pid": s.pid,
            "peak_rss_mb": round(s.peak_rss_mb(), 1),
            "cpu_s": round(s.cpu_seconds(), 2),
        }
        for s in servers
    ]
