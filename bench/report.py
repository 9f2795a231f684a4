"""results.json (everything, raw runs included) and results.md (the tables and the targets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from .targets import EARLIER, evaluate


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _overhead(res: dict[str, Any]) -> list[str]:
    servers = [[m["name"], _num(m["peak_rss_mb"]), _num(m["cpu_s"], 1)] for m in res["servers"]]
    added = {(a["target"], a["concurrency"]): a for a in res["added"]}
    rows = []
    for r in res["rows"]:
        a = added.get((r["target"], r["concurrency"]), {})
        rows.append(
            [
                r["target"],
                str(r["concurrency"]),
                _num(r["rps"], 0),
                _num(r["p50_ms"], 2),
                _num(r["p99_ms"], 2),
                _num(a.get("p50_ms"), 2),
                _num(a.get("p99_ms"), 2),
                _num(r.get("cpu_us_per_req"), 0),
                _num(r["errors"]),
            ]
        )
    head = ["target", "c", "req/s", "p50 ms", "p99 ms", "added p50 ms", "added p99 ms"]
    head += ["server CPU µs/req", "errors"]
    out = [
        "## 1. Overhead",
        "",
        f"Upstream payload `{res['payload']}`; load generator `{res['loadgen']}`; medians of "
        f"{res['rounds']} interleaved rounds of {res['duration_s']:g} s per cell; gateway log "
        f"levels {', '.join(res['log_levels'])} (the first is the plain `gateway` row). "
        "Added latency = (target − direct), paired per round. Server CPU µs/req: CPU time of "
        "the process(es) serving the target (for direct: the upstream) over the requests of "
        "the cell; it hardly moves with other load, unlike req/s.",
        "",
        *_table(head, rows),
        "",
        *_table(["server process", "peak RSS MB", "CPU s"], servers),
    ]
    return out


def _long(res: dict[str, Any]) -> list[str]:
    rows = [
        [
            r.get("target", "gateway"),
            _num(r["concurrent"]),
            f"{r['success_rate'] * 100:.2f} %",
            _num(r["p50_s"], 2),
            _num(r["max_s"], 2),
            _num(r["peak_rss_mb"]),
            _num(r["cpu_s"], 1),
            _num(r["polls_per_job"], 2),
            _num(r["polls_per_job_per_s"], 2),
            _num(r["max_active"]),
        ]
        for r in res["rows"]
    ]
    head = [
        "target",
        "N",
        "success",
        "p50 s",
        "max s",
        "peak RSS MB",
        "CPU s",
        "polls/job",
        "polls/job/s",
        "max active upstream",
    ]
    return [
        "## 2. Long generations",
        "",
        f"BFL emulator, {res['generation_seconds']:g} s per generation, no concurrency limit; "
        f"poll settings: {res['poll_settings']}. One fresh gateway process per N.",
        "",
        *_table(head, rows),
    ]


def _long_jobs(res: dict[str, Any]) -> list[str]:
    rows = [
        [
            r.get("target", "gateway"),
            _num(r["concurrent"]),
            f"{r['success_rate'] * 100:.2f} %",
            _num(r["submit_p50_ms"], 1),
            _num(r["submit_p99_ms"], 1),
            _num(r["done_p50_s"], 2),
            _num(r["done_p99_s"], 2),
            _num(r["peak_rss_mb"]),
            _num(r["cpu_s"], 1),
            _num(r["upstream_polls_per_job"], 2),
            _num(r["max_active"]),
        ]
        for r in res["rows"]
    ]
    head = [
        "target",
        "N",
        "success",
        "submit p50 ms",
        "submit p99 ms",
        "done p50 s",
        "done p99 s",
        "peak RSS MB",
        "CPU s",
        "upstream polls/job",
        "max active upstream",
    ]
    return [
        "## 2b. Long generations as async jobs (SQLite store)",
        "",
        f"As section 2, each request with `Prefer: respond-async` and `WORKER_CONCURRENCY=N`; "
        "the client polls each job with `Prefer: wait=30` after its last answer's Retry-After "
        "(every 2 s without one), or at once as a long poll where the gateway applied the wait. "
        f"Poll settings: {res['poll_settings']}.",
        "",
        *_table(head, rows),
    ]


def _large(res: dict[str, Any]) -> list[str]:
    rows = [
        [
            r["target"],
            _num(r["rps"], 1),
            _num(r["mb_per_s"], 0),
            _num(r["p50_ms"], 1),
            _num(r["p99_ms"], 1),
            _num(r.get("cpu_us_per_req"), 0),
            _num(r["peak_rss_mb"]),
            _num(r["errors"]),
        ]
        for r in res["rows"]
    ]
    head = ["target", "req/s", "MB/s", "p50 ms", "p99 ms", "server CPU µs/req", "peak RSS MB"]
    return [
        "## 3. Large images",
        "",
        f"One {res['image_bytes'] / 1e6:.1f} MB PNG per `b64_json` answer, concurrency 16, "
        f"medians of {res['rounds']} interleaved rounds of {res['duration_s']:g} s.",
        "",
        *_table([*head, "errors"], rows),
    ]


def _variant(res: dict[str, Any]) -> list[str]:
    """`large-url` and `large-edit` (`scenarios/variants.py`), in `_large`'s table."""
    table = _large(res)[4:]
    image = f"{res['image_bytes'] / 1e6:.1f} MB PNG"
    if res["scenario"] == "large-url":
        title = "## 3b. Large images as `url` (the storage path)"
        what = (
            f"One {image} per answer, stored by the gateway and answered as a `url` (the POST "
            "alone is timed; one answer's URL was fetched and served a PNG before the load); "
            "`direct (b64_json)` is the emulator's own base64 answer"
        )
    else:
        title = "## 3c. Large edits (multipart upload)"
        what = (
            f"`POST /v1/images/edits` uploading a {res['upload_bytes'] / 1e6:.1f} MB PNG, "
            f"answered with one {image} as `b64_json`"
        )
    return [
        title,
        "",
        f"{what}; concurrency 16, medians of {res['rounds']} interleaved rounds of "
        f"{res['duration_s']:g} s.",
        "",
        *table,
    ]


def _cold(res: dict[str, Any]) -> list[str]:
    rows = [
        [
            r["server"],
            _num(r["start_to_first_answer_s"], 3),
            _num(r.get("start_to_first_local_answer_s"), 3),
            _num(r["import_s"], 3),
            _num(r["interpreter_s"], 3),
            f"`{r['import_module']}`" if r["import_module"] else "–",
        ]
        for r in res["rows"]
    ]
    head = [
        "server",
        "start → first answer s",
        "start → first `local` answer s",
        "import s",
        "bare interpreter s",
        "module",
    ]
    return [
        "## 4. Cold start",
        "",
        f"Medians of {res['runs']} runs. The `local` answer is a generation on the gateway's "
        "built-in `local` provider (no upstream call). The reference pass-through "
        "(`bench/passthrough.py`: FastAPI, uvicorn and aiohttp forwarding the request, 20 lines) "
        "is the floor of the libraries the gateway is built on. Portkey (Node) has no import "
        "figure; its bare interpreter is `node -e ''`.",
        "",
        *_table(head, rows),
    ]


def _stream(res: dict[str, Any]) -> list[str]:
    rows = [
        [
            r["target"],
            f"{r['ok']:,}/{r['streams']:,}",
            ", ".join(f"{k}: {v}" for k, v in r["partials_per_stream"].items()),
            _num(r["first_partial_p50_ms"], 0),
            _num(r["first_partial_p95_ms"], 0),
            _num(r.get("added_first_partial_p50_ms"), 0),
            _num(r["stream_p50_ms"], 0),
            _num(r["stream_p95_ms"], 0),
            _num(r["mb_received"], 0),
            _num(r["peak_rss_mb"]),
        ]
        for r in res["rows"]
    ]
    head = ["target", "complete", "partials per stream", "first partial p50 ms", "p95 ms"]
    head += ["added p50 ms", "stream p50 ms", "p95 ms", "MB received", "peak RSS MB"]
    return [
        "## 5. Streaming",
        "",
        f"{res['streams']} concurrent `stream: true` generations, {res['partial_images']} partial "
        f"images of {res['image_bytes'] / 1e6:.1f} MB each (and the final image), upstream "
        f"events {res['partial_interval_s'] * 1000:.0f} ms apart; medians of {res['rounds']} "
        "interleaved rounds of the streams' p50/p95. Peak RSS: the serving process (direct: the "
        f"emulator); the gateway's was {res['gateway_idle_rss_mb']:.0f} MB before the load.",
        "",
        *_table(head, rows),
    ]


SECTIONS = {
    "overhead": _overhead,
    "long": _long,
    "long-jobs": _long_jobs,
    "large": _large,
    "large-url": _variant,
    "large-edit": _variant,
    "cold": _cold,
    "stream": _stream,
}


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# image-gateway benchmark",
        "",
        f"- machine: {m['nproc']} cores, {m['cpu_model']}, {m['mem_gib']:.0f} GiB, "
        f"{m['kernel']}; Python {m['python']}",
        f"- load generator: {m['wrk'] or 'python async client'}; LiteLLM {m['litellm'] or '–'}; "
        f"Portkey {m.get('portkey') or '–'} (Node {m.get('node') or '–'})",
        f"- command: `{results['command']}`",
        f"- started {results['started']}, took {results['elapsed_s']:.0f} s",
        "",
    ]
    for name, res in results["scenarios"].items():
        if "error" in res:
            lines += [f"## {name}", "", f"**failed**: {res['error']}", ""]
            continue
        lines += [*SECTIONS[name](res), ""]
    checks = evaluate(results["scenarios"])
    for issue in dict.fromkeys(c["issue"] for c in checks):
        mine = [c for c in checks if c["issue"] == issue]
        lines += [f"## Targets ({issue})", ""]
        if issue == EARLIER:
            lines += ["Where issue 11 restates a figure, issue 11's is the one in force.", ""]
        lines += _table(
            ["target", "measured", "met"],
            [[c["target"], c["measured"], "yes" if c["met"] else "**no**"] for c in mine],
        )
        lines.append("")
    if results["notes"]:
        lines += ["## Notes", "", *[f"- {n}" for n in results["notes"]], ""]
    return "\n".join(lines)


def write(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    results["targets"] = evaluate(results["scenarios"])
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
    json_path.write_bytes(orjson.dumps(results, option=options))
    md_path.write_text(markdown(results))
    return json_path, md_path
