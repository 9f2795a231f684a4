"""Provider text made safe to show and log: keys (whole or in pieces), key-like tokens and
whatever follows a credential's name are removed.

A token is key-like when it starts as some registered provider's keys do
(`ProviderDefinition.key_prefixes`: `sk-`, `bfl_`) or follows `Bearer`.
"""

from __future__ import annotations

import re

from image_gateway.providers.registry import DEFINITIONS

_PREFIXES = sorted({p for d in DEFINITIONS.values() for p in d.key_prefixes}, key=len, reverse=True)
_KEYLIKE = re.compile(
    "(" + "|".join([*map(re.escape, _PREFIXES), r"Bearer\s+"]) + r")[A-Za-z0-9_\-\.]{3,}",
    re.IGNORECASE,
)
# `x-key: ...`, `api_key=...`, `"authorization": "..."`: whatever follows a credential's name.
_NAMED_SECRET = re.compile(
    r"((?:x-key|api[_-]?key|authorization|token|secret|password)[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"',;}]{3,}",
    re.IGNORECASE,
)
_MAX_MESSAGE = 300
_FRAGMENT = 8  # no run of this many characters of a secret may survive


def provider_message(text: object, secrets: list[str]) -> str:
    """A provider's error text made safe to show: secrets (whole, or any 8-character piece of
    one, e.g. a provider echoing a truncated key) and key-like tokens removed, then trimmed."""
    message = str(text) if text is not None else ""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    message = _KEYLIKE.sub(r"\1[redacted]", message)
    message = _NAMED_SECRET.sub(r"\1[redacted]", message)
    for secret in secrets:
        if secret:
            message = _scrub_fragments(message, secret)
    message = " ".join(message.split())  # no CR/LF: one log line, one header-safe string
    return message[:_MAX_MESSAGE]


def rejected(provider: str, status: int, message: str) -> str:
    """The message of a provider's refusal (a 400), with its own (safe) text when it gave one;
    an answer that is no error JSON (an HTML page from a proxy, say) still says what happened."""
    if message:
        return f"{provider} rejected the request: {message}"
    return f"{provider} rejected the request (HTTP {status}) without saying why"


def _scrub_fragments(message: str, secret: str) -> str:
    if len(secret) < _FRAGMENT or len(message) < _FRAGMENT:
        return message
    pieces = {secret[i : i + _FRAGMENT] for i in range(len(secret) - _FRAGMENT + 1)}
    if not any(piece in message for piece in pieces):
        return message
    for piece in sorted(pieces, key=len, reverse=True):
        message = message.replace(piece, "[redacted]")
    return message
