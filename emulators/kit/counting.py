"""An emulator app with named counters and a submission rate limit: what `JobApp` (async
emulators, `job_app.py`) and `ResultHostApp` (synchronous ones, `results.py`) share.

`stats()` shows each of `COUNTERS` (0 until counted; `count` is thread-safe); `reset()` clears
them and `rate` (a `RateLimit` of `rate_limit` requests per minute, None: unlimited), whose
use (which requests it takes, how its 429 reads) is the provider's.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any, ClassVar

from .app import EmulatorApp
from .faults import FaultRules
from .limits import RateLimit
from .scenarios import ScenarioTable


class CountingApp(EmulatorApp):
    """`EmulatorApp` with `COUNTERS` and `rate` (module docstring)."""

    COUNTERS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        api_key: str,
        rules: FaultRules,
        paid: Collection[str],
        scenarios: ScenarioTable,
        strict: bool,
        rate_limit: int | None = None,
    ) -> None:
        super().__init__(api_key, rules, paid, scenarios, strict)
        self.rate = RateLimit(rate_limit)
        self.counts: dict[str, int] = {}
        self._counts_lock = threading.Lock()

    def provider_stats(self) -> dict[str, Any]:
        with self._counts_lock:
            return {key: self.counts.get(key, 0) for key in self.COUNTERS}

    def provider_reset(self) -> None:
        with self._counts_lock:
            self.counts.clear()
        self.rate.clear()

    def count(self, key: str, amount: int = 1) -> None:
        with self._counts_lock:
            self.counts[key] = self.counts.get(key, 0) + amount
