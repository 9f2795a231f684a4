"""Small statistics helpers shared by the load generators and the report."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an already sorted sequence; 0 when empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summarize(latencies: Iterable[float], elapsed: float) -> dict[str, Any]:
    """Request count, rate and latency distribution (milliseconds) of one load run."""
    values = sorted(latencies)
    return {
        "requests": len(values),
        "duration_s": round(elapsed, 3),
        "rps": len(values) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(values, 50) * 1000,
        "p90_ms": percentile(values, 90) * 1000,
        "p99_ms": percentile(values, 99) * 1000,
        "mean_ms": statistics.fmean(values) * 1000 if values else 0.0,
        "max_ms": values[-1] * 1000 if values else 0.0,
    }


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None
