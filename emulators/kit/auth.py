"""Reading a provider key from a request: `Authorization: Bearer <key>` (OpenAI and most
OpenAI-compatible APIs) or a header of the provider's own (`x-key` at BFL, `x-api-key`, ...).

Each returns what was presented (`""` when nothing was) and whether it is the configured key,
compared in constant time; the provider renders the refusal in its own error shape.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from .asgi import Scope


@dataclass(frozen=True)
class Presented:
    key: str  # "" when the request carried none
    ok: bool


def matches(presented: str, expected: str) -> bool:
    return bool(presented) and hmac.compare_digest(presented.encode(), expected.encode())


def header(scope: Scope, name: str) -> str | None:
    wanted = name.lower().encode("latin-1")
    for key, value in scope["headers"]:
        if key == wanted:
            return str(value.decode("latin-1"))
    return None


def bearer(scope: Scope, expected: str) -> Presented:
    """`Authorization: Bearer <key>` (the scheme case-insensitive, as RFC 6750 allows)."""
    scheme, _, key = (header(scope, "authorization") or "").partition(" ")
    key = key.strip() if scheme.lower() == "bearer" else ""
    return Presented(key, matches(key, expected))


def header_key(scope: Scope, name: str, expected: str) -> Presented:
    """A key carried in a header of the provider's own, such as BFL's `x-key`."""
    key = header(scope, name) or ""
    return Presented(key, matches(key, expected))
