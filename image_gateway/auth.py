"""Client authentication: gateway keys from `GATEWAY_API_KEYS`, or development mode.

Keys arrive as `X-API-Key: <key>` or `Authorization: Bearer <key>`. Each presented key is
hashed and compared in constant time with every configured key's hash, so neither timing nor
length leaks anything. With no keys configured the gateway is in development mode: loopback
clients are served without a key and every other client is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from .errors import AuthenticationFailed

MAX_KEY_CHARS = 256


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """What a key may do. None means unrestricted."""

    allowed_providers: frozenset[str] | None = None
    allowed_models: frozenset[str] | None = None  # "provider/model" ids
    requests_per_minute: int | None = None
    max_concurrent: int | None = None
    monthly_budget_usd: float | None = None

    def allows(self, provider: str, model: str) -> bool:
        if self.allowed_providers is not None and provider not in self.allowed_providers:
            return False
        return self.allowed_models is None or f"{provider}/{model}" in self.allowed_models


UNRESTRICTED = KeyPolicy()


@dataclass(frozen=True, slots=True)
class Client:
    name: str  # never the key: "key-1", "key-2", ... in configuration order, or "development"
    key_id: str | None = None  # the stored key's id; None for GATEWAY_API_KEYS and development
    policy: KeyPolicy = UNRESTRICTED


class KeyChecker:
    def __init__(self, keys: list[str]) -> None:
        self._hashes = [(f"key-{i + 1}", _digest(key)) for i, key in enumerate(keys)]

    @property
    def development_mode(self) -> bool:
        return not self._hashes

    def authenticate(
        self, x_api_key: str | None, authorization: str | None, client_host: str | None
    ) -> Client:
        presented = x_api_key
        if presented is None and authorization is not None:
            scheme, _, value = authorization.partition(" ")
            presented = value.strip() if scheme.lower() == "bearer" else None
        if self.development_mode:
            if _is_loopback(client_host):
                return Client("development")
            raise AuthenticationFailed(
                "this gateway runs in development mode (no GATEWAY_API_KEYS) and only serves "
                "loopback clients"
            )
        if not presented or len(presented) > MAX_KEY_CHARS:
            raise _invalid()
        digest = _digest(presented)
        match = None
        for name, expected in self._hashes:
            if hmac.compare_digest(digest, expected) and match is None:
                match = name
        if match is None:
            raise _invalid()
        return Client(match)


def _invalid() -> AuthenticationFailed:
    return AuthenticationFailed(
        "missing or invalid API key: send it as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'"
    )


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
