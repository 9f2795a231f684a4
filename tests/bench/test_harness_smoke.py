"""The benchmark harness runs end to end: quick overhead scenario, async load client, no wrk,
no LiteLLM, no Portkey (both need a package registry on first use; `test_portkey.py` runs
Portkey where it is installed). It checks the harness, not the figures (those are
bench/RESULTS.md's business)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_overhead_run_reports_direct_and_gateway(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "bench", "--quick", "--scenarios", "overhead"]
    argv += ["--loadgen", "python", "--no-litellm", "--no-portkey", "--no-reference"]
    argv += ["--concurrency", "1,4", "--duration", "0.5", "--out", str(tmp_path)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    results = json.loads((tmp_path / "results.json").read_text())
    overhead = results["scenarios"]["overhead"]
    for target in ("direct", "gateway"):
        for concurrency in (1, 4):
            row = next(
                r
                for r in overhead["rows"]
                if r["target"] == target and r["concurrency"] == concurrency
            )
            assert row["requests"] > 0 and row["rps"] > 0, row
            assert row["errors"] == 0, row
            assert 0 < row["p50_ms"] <= row["p99_ms"], row
    added = {a["concurrency"]: a for a in overhead["added"] if a["target"] == "gateway"}
    assert added[1]["p50_ms"] is not None
    assert {s["name"] for s in overhead["servers"]} >= {
        "overhead-upstream",
        "overhead-gateway-info",
    }
    assert all(s["peak_rss_mb"] > 0 for s in overhead["servers"])
    report = (tmp_path / "results.md").read_text()
    assert "| gateway | 1 |" in report and "| direct | 4 |" in report
    # Issue 11's targets are evaluated from the same figures and printed with them.
    checks = {c["target"]: c for c in results["targets"] if c["issue"] == "issue 11"}
    c1 = checks["added latency c=1: p50 < 1 ms"]
    assert c1["measured"] == f"{added[1]['p50_ms']:.2f} ms"
    assert c1["met"] == (added[1]["p50_ms"] < 1.0)
    assert "## Targets (issue 11)" in report and "added latency c=1: p50 < 1 ms" in report
