"""A free TCP port for a process a test starts on a port it names.

A port the kernel chose for `bind(0)` and that was then closed lies in the ephemeral range
(`/proc/sys/net/ipv4/ip_local_port_range`), which the kernel hands out again to any `bind(0)`
or outgoing connection on the machine: under the parallel suite, another listener took one
between its choice and the subprocess's bind ("Address already in use", seen in CI). A port
below that range is never handed out by the kernel, so only another chooser could take it."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000  # below: well-known and registered services' defaults (5432, 6379, 9201...)


def _ephemeral_low() -> int:
    try:
        return int(_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now, outside the ephemeral range."""
    high = _ephemeral_low()
    for _ in range(200):
        port = random.randrange(_LOWEST, high) if high > _LOWEST else 0
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free port in {_LOWEST}-{high - 1} after 200 tries")
