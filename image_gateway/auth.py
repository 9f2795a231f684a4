"""Client authentication: `GATEWAY_API_KEYS`, the admin key, stored keys, development mode.

Keys arrive as `X-API-Key: <key>` or `Authorization: Bearer <key>` (`X-API-Key` wins when both
carry one; an empty value carries none). `Authenticator` checks a presented key in this order,
hashing it once (SHA-256):

1. `GATEWAY_API_KEYS` — compared in constant time with every configured key's hash; these are
   unrestricted clients named `key-1`, `key-2`, ... No database is touched.
2. `ADMIN_API_KEY` — the admin (manages keys, sees all usage, cannot generate).
3. stored keys — looked up by hash (bound parameter, unique index; the row's hash is compared
   again in constant time). Answers, including "no such key", are cached in memory for
   `KEY_CACHE_SECONDS`, so a key revoked on another instance keeps working here for at most
   that long; revoking through this instance's admin API clears the cache at once.

A presented key that matches none of them is a 401 in every mode, as is a credential of
another `Authorization` scheme. With no `GATEWAY_API_KEYS` the gateway is in development mode:
a request that presents no key at all is served as `development` when it comes from a loopback
address, and refused (401) from anywhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .errors import AuthenticationFailed, GatewayError, ServiceUnavailable

MAX_KEY_CHARS = 256
SCOPES = ("generate", "edit", "usage")
ALL_SCOPES = frozenset(SCOPES)
MAX_CACHED_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """What a key may do. None means unrestricted."""

    allowed_providers: frozenset[str] | None = None
    allowed_models: frozenset[str] | None = None  # "provider/model" ids
    requests_per_minute: int | None = None
    max_concurrent: int | None = None
    monthly_budget_usd: float | None = None
    scopes: frozenset[str] = field(default=ALL_SCOPES)

    def allows(self, provider: str, model: str) -> bool:
        if self.allowed_providers is not None and provider not in self.allowed_providers:
            return False
        return self.allowed_models is None or f"{provider}/{model}" in self.allowed_models

    @property
    def limited(self) -> bool:
        """Whether admitting a request needs any counting (rate, concurrency, budget)."""
        return (
            self.requests_per_minute is not None
            or self.max_concurrent is not None
            or self.monthly_budget_usd is not None
        )


UNRESTRICTED = KeyPolicy()


@dataclass(frozen=True, slots=True)
class Client:
    name: str  # never the key: "key-1", "key-2", ... in configuration order, or "development"
    key_id: str | None = None  # the stored key's id; None for GATEWAY_API_KEYS and development
    policy: KeyPolicy = UNRESTRICTED
    admin: bool = False


ADMIN = Client("admin", policy=KeyPolicy(scopes=frozenset({"usage"})), admin=True)
DEVELOPMENT = Client("development")

# Looks a key up by the hex SHA-256 of its text: the client, or None when no live key has it.
StoredKeyLookup = Callable[[str], Awaitable[Client | None]]


def presented_key(x_api_key: str | None, authorization: str | None) -> str | None:
    """The key a request presents: `X-API-Key`, else the token of `Authorization: Bearer`.

    None when it presents none (both headers absent or empty, or `Bearer` without a token);
    "" for a credential that cannot be a gateway key (another `Authorization` scheme), which
    matches nothing and so is a 401 like a wrong key."""
    if x_api_key is not None and x_api_key.strip():
        return x_api_key
    if authorization is None or not authorization.strip():
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return value.strip() or None


class Authenticator:
    """Env keys, then the admin key, then stored keys (cached); development mode only for a
    request that presents no key."""

    def __init__(
        self,
        env_keys: list[str],
        *,
        admin_key: str | None = None,
        lookup: StoredKeyLookup | None = None,
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._env = [(Client(f"key-{i + 1}"), _digest(key)) for i, key in enumerate(env_keys)]
        self._admin = _digest(admin_key) if admin_key else None
        self._lookup = lookup
        self._cache_seconds = cache_seconds
        self._cache: dict[bytes, tuple[float, Client | None]] = {}
        self._clock = clock

    @property
    def development_mode(self) -> bool:
        """No `GATEWAY_API_KEYS`: loopback requests without a key are served."""
        return not self._env

    @property
    def admin_configured(self) -> bool:
        return self._admin is not None

    async def authenticate(
        self, x_api_key: str | None, authorization: str | None, client_host: str | None
    ) -> Client:
        """The client a request's key identifies (`client_host`: the peer's IP address).

        AuthenticationFailed (401) for a key that matches nothing, in every mode, and for no
        key unless in development mode from loopback; ServiceUnavailable (503) when a stored
        key cannot be looked up."""
        presented = presented_key(x_api_key, authorization)
        if presented is None:
            if not self.development_mode:
                raise invalid_key()
            if _is_loopback(client_host):
                return DEVELOPMENT
            raise _development_refusal()
        client = None
        if presented and len(presented) <= MAX_KEY_CHARS:
            client = await self._identify(_digest(presented))
        if client is None:
            raise invalid_key()
        return client

    def _match_env(self, digest: bytes) -> Client | None:
        # Every configured hash is compared, so the time taken does not tell which one matched.
        found = None
        for client, expected in self._env:
            if hmac.compare_digest(digest, expected) and found is None:
                found = client
        return found

    def forget(self) -> None:
        """Drop every cached stored-key answer (after a revocation on this instance)."""
        self._cache.clear()

    async def _identify(self, digest: bytes) -> Client | None:
        client = self._match_env(digest)
        if client is not None:
            return client
        if self._admin is not None and hmac.compare_digest(digest, self._admin):
            return ADMIN
        if self._lookup is None:
            return None
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            client = await self._lookup(digest.hex())
        except GatewayError:
            raise
        except Exception:
            raise ServiceUnavailable(
                "the key store is unavailable; try again shortly", code="key_store_unavailable"
            ) from None
        if self._cache_seconds > 0:
            self._remember(digest, client, now)
        return client

    def _remember(self, digest: bytes, client: Client | None, now: float) -> None:
        if len(self._cache) >= MAX_CACHED_KEYS:
            # Bounded: a flood of random keys must not grow memory. Drop what has expired,
            # and everything if that is not enough.
            for stale in [d for d, (expires, _) in self._cache.items() if expires <= now]:
                del self._cache[stale]
            if len(self._cache) >= MAX_CACHED_KEYS:
                self._cache.clear()
        self._cache[digest] = (now + self._cache_seconds, client)


def invalid_key() -> AuthenticationFailed:
    return AuthenticationFailed(
        "missing or invalid API key: send it as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'"
    )


def _development_refusal() -> AuthenticationFailed:
    return AuthenticationFailed(
        "this gateway runs in development mode (no GATEWAY_API_KEYS) and only serves "
        "loopback clients"
    )


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return _digest(key).hex()


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
