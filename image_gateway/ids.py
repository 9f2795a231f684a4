"""Identifiers that must be unique, not secret: request ids and response ids.

`secrets.token_hex` reads the system's random source on every call (a system call per id on the
hot path); these come from a generator of this process, seeded from that source (again in a
forked child). Anything that grants access (API keys, stored-image names, leases) keeps using
`secrets`.
"""

from __future__ import annotations

import os
import random

REQUEST_ID_PREFIX = "req_"  # a request's id when its client gave none (X-Request-ID)
_generator = random.Random()  # noqa: S311 - unique, not secret (see above)
os.register_at_fork(after_in_child=_generator.seed)


def unique_id(prefix: str) -> str:
    """`prefix` and 24 hex digits (96 random bits)."""
    return f"{prefix}{_generator.getrandbits(96):024x}"
