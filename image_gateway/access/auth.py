"""Client authentication: `GATEWAY_API_KEYS`, the admin key, stored keys, development mode.

Keys arrive in headers only: `X-API-Key: <key>`, `api-key: <key>` (what the AzureOpenAI SDK
sends, `openai/lib/azure.py`) or `Authorization: Bearer <key>`, the first of them that carries
one winning in that order (an empty value carries none). A request whose URL has a key-like
query parameter (`api_key`, `key`, `token`, `access_token`, ...: `key_parameter()`) is refused
(401 `api_key_in_url`) in every mode, whatever its headers: a key in a URL has been written to
proxy and browser histories on its way here. `Authenticator` checks a presented key in this
order, hashing it once (SHA-256):

1. `GATEWAY_API_KEYS` — compared in constant time with every configured key's hash; these are
   unrestricted clients named `key-1`, `key-2`, ... No database is touched.
2. `ADMIN_API_KEY` — the admin (manages keys, sees all usage, cannot generate).
3. stored keys — looked up by hash (bound parameter, unique index; the row's hash is compared
   again in constant time). Answers, including "no such key", are cached in memory for
   `KEY_CACHE_SECONDS`, so a key revoked on another instance keeps working here for at most
   that long; revoking through this instance's admin API clears the cache at once.

A presented key that matches none of them is a 401 in every mode, as is a credential of
another `Authorization` scheme. With no `GATEWAY_API_KEYS` the gateway is in development mode:
a request that presents no key at all is served as `development` when it comes straight from
this host (`direct_from_loopback()`: a loopback peer and no forwarding header, so not through a
proxy on this host), and refused (401) otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from image_gateway.errors import AuthenticationFailed, GatewayError, ServiceUnavailable

MAX_KEY_CHARS = 256
SCOPES = ("generate", "edit", "usage")
ALL_SCOPES = frozenset(SCOPES)
MAX_CACHED_KEYS = 10_000

# Headers a proxy adds to say whom it forwards for (RFC 7239, the de-facto X-Forwarded-*, and
# those of nginx, Apache, CDNs and load balancers); any `x-forwarded-*` counts too. Their
# presence, whatever their value, means the loopback peer may be a proxy for someone else.
FORWARDING_HEADERS = frozenset(
    {
        b"forwarded",
        b"via",
        b"x-real-ip",
        b"x-client-ip",
        b"client-ip",
        b"x-cluster-client-ip",
        b"cf-connecting-ip",
        b"true-client-ip",
        b"fastly-client-ip",
        b"akamai-client-ip",
        b"x-original-forwarded-for",
        b"x-originating-ip",
        b"x-remote-ip",
        b"x-remote-addr",
        b"x-proxyuser-ip",
        b"x-envoy-external-address",
        b"x-appengine-user-ip",
        b"forwarded-for",
    }
)
# A query parameter is key-like when its name, lower case without `-_.` and brackets, is one of
# these or ends with one of the suffixes (`api_key`, `x-api-key`, `access_token`, `apiKey`...);
# `key_id` (GET /v1/usage) and `sig` (signed image URLs) are not.
KEY_PARAMETER_NAMES = frozenset({"auth", "authorization", "bearer", "credential", "credentials"})
KEY_PARAMETER_SUFFIXES = ("key", "token", "secret", "password", "passwd")
_NAME_NOISE = re.compile(r"[-_.\[\]\s]")
_SHOWN_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,32}")


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


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request shows the authenticator (`credentials()` reads it from the request)."""

    key: str | None  # `presented_key()`
    direct_from_loopback: bool  # `direct_from_loopback()`: may have development access
    key_parameter: str | None = None  # a key-like query parameter (`key_parameter()`)


def credentials(scope: Mapping[str, Any]) -> Credentials:
    """A request's credentials from its ASGI scope, in one pass over its headers (the first of
    a repeated key header counts, as everywhere)."""
    found: dict[bytes, str] = {}
    proxied = False
    for name, value in scope["headers"]:
        if name in _KEY_HEADERS:
            if name not in found:
                found[name] = value.decode("latin-1")
        elif name in FORWARDING_HEADERS or name.startswith(b"x-forwarded"):
            proxied = True
    peer = scope.get("client")
    query = scope.get("query_string", b"")
    return Credentials(
        presented_key(found.get(b"x-api-key"), found.get(b"api-key"), found.get(b"authorization")),
        direct_from_loopback(peer[0] if peer else None, proxied=proxied),
        key_parameter(query.decode("latin-1")) if query else None,
    )


_KEY_HEADERS = frozenset({b"x-api-key", b"api-key", b"authorization"})


def direct_from_loopback(peer: str | None, *, proxied: bool) -> bool:
    """May a request without a key have development access: its peer (the connection's
    address, `peer`) is a loopback address and it carries no forwarding header (`proxied`:
    any of `FORWARDING_HEADERS` or `X-Forwarded-*`), so no proxy on this host relays it for a
    remote client. Such a proxy (nginx setting only `X-Real-IP`, a tunnel, a sidecar) makes every
    client look local; a request that names a forwarded client is therefore never local,
    whatever address it names."""
    return not proxied and _is_loopback(peer)


def key_parameter(query: str) -> str | None:
    """The name of the first key-like parameter in a URL query string (`a=1&api_key=x`),
    else None; see `KEY_PARAMETER_NAMES` and `KEY_PARAMETER_SUFFIXES`."""
    for name, _ in parse_qsl(query, keep_blank_values=True):
        bare = _NAME_NOISE.sub("", name).lower()
        if bare in KEY_PARAMETER_NAMES or bare.endswith(KEY_PARAMETER_SUFFIXES):
            return name
    return None


def presented_key(
    x_api_key: str | None, api_key: str | None, authorization: str | None
) -> str | None:
    """The key a request presents: `X-API-Key`, else `api-key`, else the token of
    `Authorization: Bearer`.

    None when it presents none (the headers absent or empty, or `Bearer` without a token);
    "" for a credential that cannot be a gateway key (another `Authorization` scheme), which
    matches nothing and so is a 401 like a wrong key."""
    for header_key in (x_api_key, api_key):
        if header_key is not None and header_key.strip():
            return header_key
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

    async def authenticate(self, shown: Credentials) -> Client:
        """The client a request's credentials identify.

        AuthenticationFailed (401): `api_key_in_url` for a key-like query parameter, in every
        mode; `invalid_api_key` for a key that matches nothing, in every mode, and for no key
        unless in development mode straight from loopback. ServiceUnavailable (503) when a
        stored key cannot be looked up."""
        if shown.key_parameter is not None:
            raise key_in_url(shown.key_parameter)
        presented = shown.key
        if presented is None:
            if not self.development_mode:
                raise invalid_key()
            if shown.direct_from_loopback:
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


def key_in_url(name: str) -> AuthenticationFailed:
    """The refusal of a request with a key-like query parameter `name` (named in the answer
    only when it looks like a parameter name, not like a pasted secret)."""
    shown = repr(name) if _SHOWN_NAME.fullmatch(name) and len(name) <= 32 else "one"
    return AuthenticationFailed(
        f"keys are read from headers only, never from the URL (query parameter {shown} looks "
        "like a key): send the key as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'. A "
        "key that was put in a URL may have been logged on its way; replace it",
        code="api_key_in_url",
        param=name if shown != "one" else None,
    )


def _development_refusal() -> AuthenticationFailed:
    return AuthenticationFailed(
        "this gateway runs in development mode (no GATEWAY_API_KEYS) and only serves clients "
        "on this host that connect directly, without a key (not through a proxy, which sends "
        "forwarding headers such as X-Forwarded-For or X-Real-IP)"
    )


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return _digest(key).hex()


# Remembered per peer address (a bounded number of them): parsing an address is most of the
# work of reading a request's credentials, and a gateway sees the same few peers again and again.
@lru_cache(maxsize=1024)
def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
