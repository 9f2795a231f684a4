"""Rate limits, concurrency limits and credits, for any provider; each answers how long to wait,
and the provider renders the 429 (or 402) with its own retry hint (`Retry-After`,
`retry-after-ms`, ...) and error shape. Thread-safe.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable


class ConcurrencyPool:
    """Active tasks of one pool, as a heap of the times they stop being active (no timers)."""

    def __init__(self, limit: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit  # None: unlimited
        self.clock = clock
        self._heap: list[tuple[float, int]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()

    def active(self) -> int:
        with self._lock:
            return self._active(self.clock())

    def _active(self, now: float) -> int:
        while self._heap and self._heap[0][0] <= now:
            heapq.heappop(self._heap)
        return len(self._heap)

    def acquire(self, until: float) -> int | None:
        """Take a slot until `until` (monotonic; inf: for good). None when taken, else the
        seconds to wait before retrying (5 when the soonest slot never frees)."""
        with self._lock:
            now = self.clock()
            if self.limit is not None and self._active(now) >= self.limit:
                soonest = self._heap[0][0]
                return 5 if math.isinf(soonest) else max(1, math.ceil(soonest - now))
            if until > now:
                heapq.heappush(self._heap, (until, next(self._seq)))
            return None

    def clear(self) -> None:
        with self._lock:
            self._heap.clear()


class RateLimit:
    """At most `limit` requests in any `window` seconds (a sliding window)."""

    def __init__(
        self, limit: int | None, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit  # None: unlimited
        self.window = window
        self.clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self) -> float | None:
        """None when the request may go on, else the seconds until it may."""
        if self.limit is None:
            return None
        with self._lock:
            now = self.clock()
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return max(0.001, self._times[0] + self.window - now)
            self._times.append(now)
            return None

    def clear(self) -> None:
        with self._lock:
            self._times.clear()


class Credits:
    """A prepaid balance (BFL's credits; any provider's quota)."""

    def __init__(self, initial: float) -> None:
        self.initial = initial
        self.balance = initial
        self._lock = threading.Lock()

    def charge(self, cost: float) -> bool:
        """Take `cost`; False (nothing taken) when the balance does not cover it."""
        with self._lock:
            if cost > self.balance:
                return False
            self.balance -= cost
            return True

    def reset(self) -> None:
        with self._lock:
            self.balance = self.initial
