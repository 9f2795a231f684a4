"""The harness's judgements: what counts as an image answer (`scenarios.common.image_problem`),
how a run's figures become issue 11's targets, met or missed (`targets.evaluate`), and what a
request that got no answer is counted as (`client.failure`)."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import orjson
import pytest

from bench.client import failure
from bench.scenarios.common import image_problem
from bench.targets import evaluate
from bench.upstream import tiny_image


def _answer(first: dict[str, Any]) -> bytes:
    return orjson.dumps({"created": 1, "data": [first]})


def test_an_image_answer_passes() -> None:
    assert image_problem(200, _answer({"b64_json": tiny_image().b64})) is None
    assert image_problem(200, _answer({"url": "http://127.0.0.1:1/v1/images/a.png"})) is None


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (401, b'{"error":{"message":"Incorrect API key"}}', "answered 401, not 200"),
        (None, b"", "answered None, not 200"),
        (200, b'{"error":{"message":"upstream failed"}}', "without data[0]"),
        (200, b"<html>bad gateway</html>", "without data[0]"),
        (200, orjson.dumps({"data": []}), "without data[0]"),
        (200, orjson.dumps({"data": ["x"]}), "data[0] not an object"),
        (200, _answer({"revised_prompt": "x"}), "neither b64_json nor url"),
        (200, _answer({"b64_json": "not base64!"}), "not base64"),
        (200, _answer({"b64_json": base64.b64encode(b"plain text").decode()}), "not a PNG"),
    ],
)
def test_anything_else_is_named(status: int | None, body: bytes, says: str) -> None:
    problem = image_problem(status, body)
    assert problem is not None and says in problem


def _overhead(cells: dict[tuple[str, int], dict[str, Any]], added_p50: float) -> dict[str, Any]:
    rows = [
        {"target": t, "concurrency": c, "p99_ms": 10.0, "cpu_us_per_req": None, **v}
        for (t, c), v in cells.items()
    ]
    added = [{"target": "gateway", "concurrency": 1, "p50_ms": added_p50, "p99_ms": 1.0}]
    return {"rows": rows, "added": added}


def _issue_11(scenarios: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["target"]: c for c in evaluate(scenarios) if c["issue"] == "issue 11"}


def test_overhead_targets_of_issue_11() -> None:
    cells = {
        ("direct", 64): {"rps": 9000.0},
        ("gateway", 1): {"rps": 500.0, "cpu_us_per_req": 600.0},
        ("gateway", 64): {"rps": 3000.0, "p99_ms": 149.0, "cpu_us_per_req": 450.0},
        ("gateway (2 workers)", 64): {"rps": 2900.0, "p99_ms": 151.0},
        ("reference pass-through", 1): {"rps": 600.0, "cpu_us_per_req": 400.0},
        ("reference pass-through", 64): {"rps": 2000.0, "cpu_us_per_req": 301.0},
        ("portkey", 64): {"rps": 2000.0},
        ("litellm", 64): {"rps": 201.0},
    }
    checks = _issue_11({"overhead": _overhead(cells, added_p50=0.99)})
    expected = {
        "c=64: ≥ 1.5 × Portkey req/s": ("3,000 / 2,000 = 1.5 ×", True),
        "c=64: ≥ 15 × LiteLLM req/s": ("3,000 / 201 = 14.9 ×", False),
        "c=64: p99 < 150 ms": ("149.0 ms", True),
        "c=64: ≥ 1.5 × Portkey req/s [gateway (2 workers)]": ("2,900 / 2,000 = 1.4 ×", False),
        "c=64: ≥ 15 × LiteLLM req/s [gateway (2 workers)]": ("2,900 / 201 = 14.4 ×", False),
        "c=64: p99 < 150 ms [gateway (2 workers)]": ("151.0 ms", False),
        "c=1: CPU per request ≤ 1.5 × the 20-line pass-through's": ("600 / 400 µs = 1.50 ×", True),
        "c=64: CPU per request ≤ 1.5 × the 20-line pass-through's": ("450 / 301 µs = 1.50 ×", True),
        "added latency c=1: p50 < 1 ms": ("0.99 ms", True),
    }
    assert {k: (c["measured"], c["met"]) for k, c in checks.items()} == expected


def test_a_missing_peer_or_reference_makes_no_check() -> None:
    cells = {("direct", 64): {"rps": 9000.0}, ("gateway", 64): {"rps": 3000.0}}
    checks = _issue_11({"overhead": _overhead(cells, added_p50=1.0)})
    assert set(checks) == {"c=64: p99 < 150 ms", "added latency c=1: p50 < 1 ms"}
    assert checks["added latency c=1: p50 < 1 ms"]["met"] is False


def test_baseline_targets_allow_ten_percent_worse() -> None:
    long = {
        "rows": [
            {"target": t, "concurrent": n, "p50_s": p50, "peak_rss_mb": rss, "cpu_s": cpu}
            | {"ok": n, "polls_per_job": 7.0, "polls_per_job_per_s": 0.7}
            for t, n, p50, rss, cpu in [
                ("gateway", 1000, 10.0, 500.0, 1.0),  # a smaller N is not compared
                ("gateway (baseline)", 1000, 10.0, 100.0, 1.0),
                ("gateway", 5000, 10.9, 220.0, 5.6),
                ("gateway (baseline)", 5000, 10.0, 200.0, 5.0),
            ]
        ]
    }
    large = {
        "rows": [
            {"target": "gateway", "rps": 27.0, "cpu_us_per_req": 44_000.0, "peak_rss_mb": 180.0},
            {"target": "gateway (baseline)", "rps": 30.0, "cpu_us_per_req": 40_000.0}
            | {"peak_rss_mb": 200.0},
        ]
    }
    cold = {
        "rows": [
            {"server": "gateway", "start_to_first_answer_s": 1.2, "import_s": 0.5},
            {"server": "gateway (baseline)", "start_to_first_answer_s": 1.0, "import_s": 0.5},
            {"server": "portkey", "start_to_first_answer_s": 0.1, "import_s": None},
        ]
    }
    checks = _issue_11({"long": long, "large": large, "cold": cold})
    worse = ": ≤ 10 % worse than the baseline"
    expected = {
        "5,000 long generations: job p50": ("10.90 vs 10.00 s (+9.0 %)", True),
        "5,000 long generations: peak RSS": ("220 vs 200 MB (+10.0 %)", True),
        "5,000 long generations: CPU seconds": ("5.60 vs 5.00 s (+12.0 %)", False),
        "large images: req/s": ("27.0 vs 30.0 req/s (-10.0 %)", True),
        "large images: CPU per request": ("44,000 vs 40,000 µs (+10.0 %)", True),
        "large images: peak RSS": ("180 vs 200 MB (-10.0 %)", True),
        "cold start to first answer": ("1.20 vs 1.00 s (+20.0 %)", False),
        "import of the app module": ("0.50 vs 0.50 s (+0.0 %)", True),
    }
    assert {k: (c["measured"], c["met"]) for k, c in checks.items()} == {
        k + worse: v for k, v in expected.items()
    }


def test_without_a_baseline_there_is_no_comparison() -> None:
    cold = {"rows": [{"server": "gateway", "start_to_first_answer_s": 1.2, "import_s": 0.5}]}
    large = {"rows": [{"target": "gateway", "rps": 27.0, "peak_rss_mb": 180.0}]}
    assert _issue_11({"cold": cold, "large": large}) == {}
    earlier = [c for c in evaluate({"cold": cold}) if c["issue"] == "earlier issue"]
    assert [(c["target"], c["met"]) for c in earlier] == [
        ("cold start to first response < 1 s", False)
    ]


def test_issue_16_cold_start_targets() -> None:
    row = {"server": "gateway", "start_to_first_answer_s": 0.9, "import_s": 0.26}
    cold = {"rows": [row | {"start_to_first_local_answer_s": 0.4}]}
    issue_16 = [c for c in evaluate({"cold": cold}) if c["issue"] == "issue 16"]
    assert [(c["target"], c["measured"], c["met"]) for c in issue_16] == [
        ("cold start to first `local` answer ≤ 0.4 s", "0.400 s", True),
        ("import of main ≤ 0.25 s", "0.260 s", False),
    ]
    # A baseline tree's row, from before the `local` figure, is not judged on it.
    earlier_run = [c for c in evaluate({"cold": {"rows": [row]}}) if c["issue"] == "issue 16"]
    assert [c["target"] for c in earlier_run] == ["import of main ≤ 0.25 s"]


def _stream_result(gateway: dict[str, Any]) -> dict[str, Any]:
    direct = {"target": "direct", "streams": 64, "ok": 64, "first_partial_p50_ms": 300.0}
    row = {"target": "gateway", "streams": 64, **gateway}
    return {
        "stream": {
            "streams": 64,
            "partial_images": 3,
            "partial_interval_s": 0.25,
            "rows": [{**direct, "partials_per_stream": {"3": 64}}, row],
        }
    }


def test_streaming_targets_of_issue_15() -> None:
    passed = _stream_result(
        {"ok": 64, "partials_per_stream": {"3": 64}, "first_partial_p50_ms": 340.0}
        | {"added_first_partial_p50_ms": 40.0}
    )
    checks = [c for c in evaluate(passed) if c["issue"] == "issue 15"]
    assert [(c["target"], c["met"]) for c in checks] == [
        ("64 streams: all complete with 3 partial images", True),
        ("first partial p50 ≤ direct + 125 ms (not held)", True),
    ]
    assert checks[1]["measured"] == "340 ms, direct + 40 ms"
    # A partial held until the next upstream event (250 ms later), or streams that lost one.
    held = _stream_result(
        {"ok": 64, "partials_per_stream": {"2": 1, "3": 63}, "first_partial_p50_ms": 560.0}
        | {"added_first_partial_p50_ms": 260.0}
    )
    assert [c["met"] for c in evaluate(held) if c["issue"] == "issue 15"] == [False, False]
    # A gateway that refused every stream: no figure to compare, the completion check fails.
    refused = _stream_result(
        {"ok": 0, "partials_per_stream": {"0": 64}, "first_partial_p50_ms": None}
        | {"added_first_partial_p50_ms": None}
    )
    assert [c["met"] for c in evaluate(refused) if c["issue"] == "issue 15"] == [False]


def test_a_failed_request_is_counted_with_its_reason() -> None:
    """Two kinds of reset are told apart in a run's statuses; a bare timeout stays its type."""
    reset = aiohttp.ClientOSError(104, "Connection reset by peer")
    assert failure(reset) == "ClientOSError: [Errno 104] Connection reset by peer"
    assert failure(TimeoutError()) == "TimeoutError"
    assert len(failure(aiohttp.ClientPayloadError("x" * 500))) == 100
