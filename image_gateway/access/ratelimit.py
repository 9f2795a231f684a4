"""Per-key request rate (sliding 60 s window) and concurrent-generation limits.

`LocalLimiter` keeps both in this process. `RedisLimiter` keeps them in Redis, shared by every
instance, each decision one atomic Lua script using Redis' own clock (instances' clocks may
differ): the window is a sorted set of admission times; concurrency is a sorted set of leases
scored by their expiry, so slots held by a crashed instance free themselves.

A limiter answers `hit()` with None (admitted) or the seconds until a request would be, and
`acquire()` with whether a concurrency slot was taken; `renew()` keeps a slot taken earlier (a
queued job's) for another `ttl` from now, and takes it back if it expired, whatever the count.
When Redis cannot be reached the request is admitted and a warning logged (fail open): the
monthly budget, which guards money, lives in the database and does not fail open.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("image_gateway.ratelimit")
WINDOW_SECONDS = 60.0


class Limiter(Protocol):
    async def hit(self, key: str, limit: int) -> float | None: ...

    async def acquire(self, key: str, limit: int, lease: str, ttl: float) -> bool: ...

    async def release(self, key: str, lease: str) -> None: ...

    async def renew(self, key: str, lease: str, ttl: float) -> None: ...

    async def close(self) -> None: ...


class LocalLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, deque[float]] = {}
        self._leases: dict[str, dict[str, float]] = {}

    async def hit(self, key: str, limit: int) -> float | None:
        now = self._clock()
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = deque()
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        if len(window) >= limit:
            return window[0] + WINDOW_SECONDS - now
        window.append(now)
        return None

    async def acquire(self, key: str, limit: int, lease: str, ttl: float) -> bool:
        now = self._clock()
        leases = self._leases.setdefault(key, {})
        for stale in [lid for lid, expires in leases.items() if expires <= now]:
            del leases[stale]
        if len(leases) >= limit:
            return False
        leases[lease] = now + ttl
        return True

    async def renew(self, key: str, lease: str, ttl: float) -> None:
        self._leases.setdefault(key, {})[lease] = self._clock() + ttl

    async def release(self, key: str, lease: str) -> None:
        leases = self._leases.get(key)
        if leases is not None:
            leases.pop(lease, None)
            if not leases:
                del self._leases[key]

    async def close(self) -> None:
        return None


# KEYS[1] window set; ARGV: limit, window ms, member. Returns 0 (admitted) or ms to wait.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""

# KEYS[1] lease set; ARGV: limit, ttl ms, lease. Returns 1 (slot taken) or 0.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 1
end
return 0
"""

# KEYS[1] lease set; ARGV: ttl ms, lease. Sets the lease's expiry to now + ttl (adding it if gone).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""


class RedisLimiter:
    def __init__(self, url: str, *, prefix: str, timeout_seconds: float) -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            health_check_interval=30,
        )
        self._prefix = prefix
        self._hit = self._redis.register_script(_HIT)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._renew = self._redis.register_script(_RENEW)
        self._instance = secrets.token_hex(6)
        self._seq = 0
        self._last_warning = 0.0

    def _member(self) -> str:
        # Unique per admission across instances: a random per-process part plus a counter.
        self._seq += 1
        return f"{self._instance}.{self._seq}"

    async def hit(self, key: str, limit: int) -> float | None:
        try:
            wait_ms = await self._hit(
                keys=[f"{self._prefix}rpm:{key}"],
                args=[limit, int(WINDOW_SECONDS * 1000), self._member()],
            )
        except Exception as exc:
            self._warn(exc)
            return None
        return None if int(wait_ms) == 0 else int(wait_ms) / 1000

    async def acquire(self, key: str, limit: int, lease: str, ttl: float) -> bool:
        try:
            taken = await self._acquire(
                keys=[f"{self._prefix}conc:{key}"], args=[limit, int(ttl * 1000), lease]
            )
        except Exception as exc:
            self._warn(exc)
            return True
        return bool(int(taken))

    async def renew(self, key: str, lease: str, ttl: float) -> None:
        try:
            await self._renew(keys=[f"{self._prefix}conc:{key}"], args=[int(ttl * 1000), lease])
        except Exception as exc:
            self._warn(exc)

    async def release(self, key: str, lease: str) -> None:
        try:
            await self._redis.zrem(f"{self._prefix}conc:{key}", lease)
        except Exception as exc:
            self._warn(exc)

    async def close(self) -> None:
        await self._redis.aclose()

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning > 10:
            self._last_warning = now
            log.warning(
                "redis unavailable; rate and concurrency limits are not enforced",
                extra={"fields": {"error": type(exc).__name__}},
            )


def retry_after(seconds: float) -> str:
    """A `Retry-After` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
