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


def test_quick_stream_run_reads_every_partial_image_as_it_comes(tmp_path: Path) -> None:
    """64 streams of 3 partial images of ~1 MB, read event by event: directly, each stream
    has its 3 partials and its completed event; the gateway's row is there whatever it
    answered (its figures are the run's, not this test's)."""
    argv = [sys.executable, "-m", "bench", "--quick", "--scenarios", "stream"]
    argv += ["--no-litellm", "--no-portkey", "--out", str(tmp_path)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stream = json.loads((tmp_path / "results.json").read_text())["scenarios"]["stream"]
    rows = {row["target"]: row for row in stream["rows"]}
    direct = rows["direct"]
    assert direct["ok"] == direct["streams"] == 64 and direct["partials_per_stream"] == {"3": 64}
    # The first whole partial comes after the emulator's first interval, before the end.
    interval_ms = stream["partial_interval_s"] * 1000
    assert interval_ms <= direct["first_partial_p50_ms"] < direct["stream_p50_ms"]
    assert direct["mb_received"] > 64 * 4 * 1.0  # 3 partials and the final image, ~1.3 MB each
    assert rows["gateway"]["peak_rss_mb"] > 0
    assert "## 5. Streaming" in (tmp_path / "results.md").read_text()


def test_quick_url_and_edit_variants_report_every_target(tmp_path: Path) -> None:
    """Issue 16's variants of the large scenario: the `url` answer (its link checked to serve a
    PNG before the load) and the 4 MB multipart edit, each row with requests, no errors, its
    server's CPU per request and peak RSS, and both sections in the report."""
    argv = [sys.executable, "-m", "bench", "--quick", "--scenarios", "large-url,large-edit"]
    argv += ["--no-litellm", "--no-portkey", "--duration", "0.5", "--out", str(tmp_path)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    scenarios = json.loads((tmp_path / "results.json").read_text())["scenarios"]
    expected = {"large-url": {"direct (b64_json)", "gateway"}, "large-edit": {"direct", "gateway"}}
    for name, targets in expected.items():
        rows = {row["target"]: row for row in scenarios[name]["rows"]}
        assert set(rows) == targets, rows
        for row in rows.values():
            assert row["requests"] > 0 and row["errors"] == 0, row
            assert row["cpu_us_per_req"] > 0 and row["peak_rss_mb"] > 0, row
    assert scenarios["large-edit"]["upload_bytes"] > 4_000_000
    # A url answer carries a link, not the image: far fewer bytes than the base64 one.
    url_rows = {row["target"]: row for row in scenarios["large-url"]["rows"]}
    assert url_rows["gateway"]["mb_per_s"] < url_rows["direct (b64_json)"]["mb_per_s"] / 100
    report = (tmp_path / "results.md").read_text()
    assert "## 3b. Large images as `url`" in report and "## 3c. Large edits" in report
