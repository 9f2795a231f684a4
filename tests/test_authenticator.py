"""`Authenticator`'s order (env keys, admin key, stored keys), its bounded cache with the
documented revocation delay, and what the stored-key lookup is given (a hash, never a key)."""

from __future__ import annotations

import asyncio
import re

import pytest

from image_gateway.access.auth import (
    ADMIN,
    MAX_CACHED_KEYS,
    Authenticator,
    Client,
    Credentials,
    direct_from_loopback,
    hash_key,
    presented_key,
)
from image_gateway.errors import AuthenticationFailed, ServiceUnavailable

STORED = "igw_stored-key-for-unit-tests-000000000000"
ADMIN_KEY = "admin-key-for-unit-tests-0000"


class Lookups:
    """Stands in for the database: which hashes were asked for, and a switch to fail."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.live = {hash_key(STORED): Client("stored", key_id="key_0123456789abcdef")}
        self.down = False

    async def __call__(self, key_hash: str) -> Client | None:
        self.asked.append(key_hash)
        if self.down:
            raise ConnectionRefusedError("database down")
        return self.live.get(key_hash)


def shown(x_api_key: str | None, authorization: str | None, peer: str | None) -> Credentials:
    """What a request with these headers, from `peer` and not through a proxy, shows."""
    return Credentials(
        presented_key(x_api_key, None, authorization), direct_from_loopback(peer, proxied=False)
    )


def _auth(lookups: Lookups, now: list[float], env: list[str] | None = None) -> Authenticator:
    return Authenticator(
        ["env-key-123456"] if env is None else env,
        admin_key=ADMIN_KEY,
        lookup=lookups,
        cache_seconds=5,
        clock=lambda: now[0],
    )


def test_order_and_cache() -> None:
    lookups, now = Lookups(), [0.0]
    auth = _auth(lookups, now)

    async def run() -> None:
        assert (await auth.authenticate(shown("env-key-123456", None, "8.8.8.8"))).name == "key-1"
        assert await auth.authenticate(shown(None, f"Bearer {ADMIN_KEY}", "8.8.8.8")) is ADMIN
        assert lookups.asked == []  # env and admin keys never touch the store
        client = await auth.authenticate(shown(STORED, None, "8.8.8.8"))
        assert client.key_id == "key_0123456789abcdef"
        await auth.authenticate(shown(STORED, None, "8.8.8.8"))
        assert len(lookups.asked) == 1  # cached
        del lookups.live[hash_key(STORED)]  # revoked elsewhere
        now[0] += 4.9
        assert (await auth.authenticate(shown(STORED, None, "8.8.8.8"))).name == "stored"
        now[0] += 0.2  # past KEY_CACHE_SECONDS: the revocation is seen
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate(shown(STORED, None, "8.8.8.8"))
        with pytest.raises(AuthenticationFailed):  # the miss is cached too
            await auth.authenticate(shown(STORED, None, "8.8.8.8"))
        assert len(lookups.asked) == 2
        lookups.live[hash_key(STORED)] = Client("stored", key_id="key_0123456789abcdef")
        auth.forget()  # what the admin API does after a revoke on this instance
        assert (await auth.authenticate(shown(STORED, None, "8.8.8.8"))).name == "stored"

    asyncio.run(run())
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in lookups.asked)


def test_cache_is_bounded() -> None:
    lookups, now = Lookups(), [0.0]
    auth = _auth(lookups, now)

    async def run() -> None:
        for i in range(MAX_CACHED_KEYS + 50):
            with pytest.raises(AuthenticationFailed):
                await auth.authenticate(shown(f"random-{i}", None, "8.8.8.8"))

    asyncio.run(run())
    assert len(auth._cache) <= MAX_CACHED_KEYS


def test_store_down_is_503_not_401() -> None:
    lookups, now = Lookups(), [0.0]
    lookups.down = True
    auth = _auth(lookups, now)

    async def run() -> None:
        with pytest.raises(ServiceUnavailable) as caught:
            await auth.authenticate(shown(STORED, None, "8.8.8.8"))
        assert STORED not in str(caught.value) and "database" not in str(caught.value)
        # Env keys still work while the store is down.
        assert (await auth.authenticate(shown("env-key-123456", None, "8.8.8.8"))).name == "key-1"

    asyncio.run(run())


def test_development_mode_honours_stored_keys_and_refuses_wrong_ones() -> None:
    lookups, now = Lookups(), [0.0]
    auth = _auth(lookups, now, env=[])

    async def run() -> None:
        assert (await auth.authenticate(shown(STORED, None, "127.0.0.1"))).name == "stored"
        assert (await auth.authenticate(shown(STORED, None, "8.8.8.8"))).name == "stored"
        assert (await auth.authenticate(shown(None, None, "::1"))).name == "development"
        assert (await auth.authenticate(shown("", "Bearer", "127.0.0.1"))).name == "development"
        for host in ("127.0.0.1", "::1", "8.8.8.8"):
            for x_api_key, authorization in (("sk-anything", None), (None, "Bearer sk-any")):
                with pytest.raises(AuthenticationFailed):
                    await auth.authenticate(shown(x_api_key, authorization, host))
        for host in ("10.0.0.5", "192.168.1.2", "8.8.8.8", None, "not-an-ip"):
            with pytest.raises(AuthenticationFailed):
                await auth.authenticate(shown(None, None, host))

    asyncio.run(run())
