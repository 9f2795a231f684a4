"""Circuit breakers, one per provider: stop calling a provider that keeps failing.

    closed ──(threshold consecutive outages)──▶ open ──(cooldown elapsed)──▶ half-open
      ▲                                           ▲                              │
      └────────────(the probe succeeds)───────────┼──────(the probe fails)───────┘

Only outages count (`ProviderError.outage`: 5xx, timeouts, connection failures, malformed
answers) — never 4xx, rate limits or moderation, which say the provider is up. While open, the
provider is skipped (fallbacks are used) without a call. After the cooldown, exactly one request
is let through as the probe; its verdict closes or re-opens the circuit. A probe that ends
without a verdict (the client's own error, a cancellation) frees the probe slot for the next.

The clock is injected (`clock()` in seconds) so tests drive the state machine directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATE_VALUES = {CLOSED: 0, OPEN: 1, HALF_OPEN: 2}

Listener = Callable[[str, str, str], None]  # (provider, old state, new state)


@dataclass(frozen=True, slots=True)
class Permit:
    probe: bool
    generation: int


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        threshold: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
        listener: Listener | None = None,
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.listener = listener
        self.state = CLOSED
        self.failures = 0  # consecutive outages while closed
        self.opened_at = 0.0
        self._probing = False
        self._generation = 0  # bumped on every transition to half-open

    def allow(self) -> Permit | None:
        """A permit to call the provider now, or None while the circuit is open."""
        if self.state == CLOSED:
            return Permit(False, self._generation)
        if self.state == OPEN:
            if self.clock() - self.opened_at < self.cooldown:
                return None
            self._generation += 1
            self._move(HALF_OPEN)
        if self._probing:
            return None
        self._probing = True
        return Permit(True, self._generation)

    def retry_after(self) -> float:
        """Seconds until the next probe may go (0 unless open)."""
        if self.state != OPEN:
            return 0.0
        return max(0.0, self.cooldown - (self.clock() - self.opened_at))

    def record_success(self) -> None:
        self.failures = 0
        if self.state != CLOSED:
            self._probing = False
            self._move(CLOSED)

    def record_failure(self) -> None:
        if self.state == CLOSED:
            self.failures += 1
            if self.failures < self.threshold:
                return
        elif self.state == OPEN:
            return  # a call admitted before the circuit opened: nothing new to learn
        self._probing = False
        self.failures = 0
        self.opened_at = self.clock()
        self._move(OPEN)

    def finish(self, permit: Permit) -> None:
        """The permitted call is over. Frees the probe slot if it ended without a verdict."""
        if permit.probe and self.state == HALF_OPEN and permit.generation == self._generation:
            self._probing = False

    def _move(self, state: str) -> None:
        old, self.state = self.state, state
        if self.listener is not None and old != state:
            self.listener(self.name, old, state)


class Breakers:
    """The breakers of all providers, created on first use."""

    def __init__(
        self,
        threshold: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
        listener: Listener | None = None,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.listener = listener
        self.by_provider: dict[str, CircuitBreaker] = {}

    def get(self, provider: str) -> CircuitBreaker:
        breaker = self.by_provider.get(provider)
        if breaker is None:
            breaker = CircuitBreaker(
                provider, self.threshold, self.cooldown, self.clock, self.listener
            )
            self.by_provider[provider] = breaker
        return breaker
