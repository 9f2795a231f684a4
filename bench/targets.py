"""The issue's targets, checked against a run's results (only those the run measured)."""

from __future__ import annotations

from typing import Any


def _row(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items())), None)


def _check(target: str, measured: str, met: bool) -> dict[str, Any]:
    return {"target": target, "measured": measured, "met": met}


def _overhead(res: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    added = _row(res["added"], target="gateway", concurrency=1)
    if added and added["p50_ms"] is not None and added["p99_ms"] is not None:
        out.append(
            _check(
                "added latency c=1: p50 < 0.5 ms",
                f"{added['p50_ms']:.2f} ms",
                added["p50_ms"] < 0.5,
            )
        )
        out.append(
            _check(
                "added latency c=1: p99 < 2 ms", f"{added['p99_ms']:.2f} ms", added["p99_ms"] < 2.0
            )
        )
    direct = _row(res["rows"], target="direct", concurrency=64)
    proxy = _row(res["rows"], target="litellm", concurrency=64)
    workers = dict.fromkeys(r["target"] for r in res["rows"] if r["target"].endswith("workers)"))
    for label in ("gateway", *workers):
        out += _throughput(label, _row(res["rows"], target=label, concurrency=64), direct, proxy)
    return out


def _throughput(
    label: str, gw: dict[str, Any] | None, direct: dict[str, Any] | None, proxy: Any
) -> list[dict[str, Any]]:
    """The c=64 targets for one gateway row (`label` is named unless it is the plain one)."""
    out = []
    who = "" if label == "gateway" else f" [{label}]"
    if gw and direct and direct["rps"]:
        ratio = gw["rps"] / direct["rps"]
        out.append(
            _check(
                f"c=64: ≥ 0.5 × direct req/s{who}",
                f"{gw['rps']:,.0f} / {direct['rps']:,.0f} = {ratio:.2f} ×",
                ratio >= 0.5,
            )
        )
    if gw and proxy and proxy["rps"]:
        ratio = gw["rps"] / proxy["rps"]
        out.append(
            _check(
                f"c=64: ≥ 10 × LiteLLM req/s{who}",
                f"{gw['rps']:,.0f} / {proxy['rps']:,.0f} = {ratio:.1f} ×",
                ratio >= 10,
            )
        )
    if gw and gw["p99_ms"] is not None:
        out.append(_check(f"c=64: p99 < 100 ms{who}", f"{gw['p99_ms']:.1f} ms", gw["p99_ms"] < 100))
    return out


def _long(res: dict[str, Any]) -> list[dict[str, Any]]:
    row = max(res["rows"], key=lambda r: r["concurrent"], default=None)
    if row is None:
        return []
    n = f"{row['concurrent']:,}"
    per_s = row["polls_per_job_per_s"]
    return [
        _check(
            f"{n} long generations: all succeed",
            f"{row['ok']:,}/{row['concurrent']:,}",
            row["ok"] == row["concurrent"],
        ),
        _check(
            f"{n} long generations: peak RSS < 300 MB",
            f"{row['peak_rss_mb']:.0f} MB",
            row["peak_rss_mb"] < 300,
        ),
        _check(
            f"{n} long generations: ≤ ~1 poll/s per job",
            f"{per_s:.2f} polls/s ({row['polls_per_job']:.1f} per job)" if per_s else "–",
            per_s is not None and per_s <= 1.05,
        ),
    ]


def _cold(res: dict[str, Any]) -> list[dict[str, Any]]:
    row = _row(res["rows"], server="gateway")
    if row is None or row["start_to_first_answer_s"] is None:
        return []
    seconds = row["start_to_first_answer_s"]
    return [_check("cold start to first response < 1 s", f"{seconds:.2f} s", seconds < 1.0)]


CHECKS = {"overhead": _overhead, "long": _long, "cold": _cold}


def evaluate(scenarios: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, check in CHECKS.items():
        res = scenarios.get(name)
        if res and "error" not in res:
            out += check(res)
    return out
