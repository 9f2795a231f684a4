"""The circuit breaker's state machine, driven by an injected clock."""

from __future__ import annotations

from image_gateway.resilience.breaker import CLOSED, HALF_OPEN, OPEN, Breakers, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, moves: list[tuple[str, str]] | None = None) -> CircuitBreaker:
    def listen(name: str, old: str, new: str) -> None:
        if moves is not None:
            moves.append((old, new))

    return CircuitBreaker("p", threshold=3, cooldown=10, clock=clock, listener=listen)


def test_opens_after_threshold_consecutive_failures_only() -> None:
    clock = Clock()
    b = breaker(clock)
    b.record_failure()
    b.record_failure()
    b.record_success()  # resets the streak
    b.record_failure()
    b.record_failure()
    assert b.state == CLOSED and b.allow() is not None
    b.record_failure()
    assert b.state == OPEN and b.allow() is None
    assert b.retry_after() == 10


def test_after_the_cooldown_exactly_one_probe_goes() -> None:
    clock, moves = Clock(), []
    b = breaker(clock, moves)
    for _ in range(3):
        b.record_failure()
    clock.now += 9.9
    assert b.allow() is None
    clock.now += 0.2
    probe = b.allow()
    assert probe is not None and probe.probe and b.state == HALF_OPEN
    assert b.allow() is None  # a second caller while the probe is out
    b.record_success()
    b.finish(probe)
    assert b.state == CLOSED and b.allow() is not None
    assert moves == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]


def test_a_failed_probe_reopens_for_a_full_cooldown() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 10
    probe = b.allow()
    assert probe is not None
    b.record_failure()
    b.finish(probe)
    assert b.state == OPEN and b.retry_after() == 10 and b.allow() is None


def test_a_probe_without_verdict_frees_the_slot_for_the_next() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 10
    probe = b.allow()
    assert probe is not None and b.allow() is None
    b.finish(probe)  # e.g. the client's own error: says nothing about the provider
    assert b.state == HALF_OPEN
    assert b.allow() is not None


def test_a_stale_permit_cannot_free_a_newer_probe() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 10
    old = b.allow()
    assert old is not None
    b.record_failure()  # the probe failed: open again
    clock.now += 10
    new = b.allow()
    assert new is not None and new.generation != old.generation
    b.finish(old)
    assert b.allow() is None  # the new probe still holds the slot


def test_breakers_are_per_provider() -> None:
    clock = Clock()
    breakers = Breakers(threshold=1, cooldown=5, clock=clock)
    breakers.get("a").record_failure()
    assert breakers.get("a").state == OPEN and breakers.get("b").state == CLOSED
    assert breakers.get("a") is breakers.get("a")
