"""What the emulators' command lines accept: argparse type functions that refuse a bad value
with argparse's own one-line usage error (exit 2) instead of a traceback later, and the check
that no two listeners are asked for the same port.

    --port 99999       error: argument --port: 99999 is not a port: expected 0-65535 (0 = any)
    --api-key ''       error: argument --api-key: the key is empty: no request could match it
    --latency -1       error: argument --latency: -1 is negative: expected 0 or more
    --log-level loud   error: argument --log-level: invalid choice: 'loud' (choose from ...)
"""

from __future__ import annotations

import argparse
import math

from uvicorn.config import LOG_LEVELS as _UVICORN_LOG_LEVELS

LOG_LEVELS = tuple(_UVICORN_LOG_LEVELS)  # uvicorn's names: critical ... trace


def port(text: str) -> int:
    """A TCP port, 0-65535 (0: the OS picks a free one)."""
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port: expected 0-65535 (0 = any)")
    return value


def api_key(text: str) -> str:
    """The one key an emulator accepts: not empty, and sendable in an HTTP header (visible
    ASCII, no spaces), since a key that no client can send would make every request a 401."""
    if not text:
        raise argparse.ArgumentTypeError("the key is empty: no request could match it")
    if not all("!" <= char <= "~" for char in text):
        raise argparse.ArgumentTypeError(
            "the key has spaces, control or non-ASCII characters: no HTTP header carries it"
        )
    return text


def count(text: str) -> int:
    """A whole number, 0 or more (limits where 0 means unlimited)."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative: expected 0 or more")
    return value


def amount(text: str) -> float:
    """A finite number, 0 or more (seconds, credits)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative: expected 0 or more")
    return value


def same_port_twice(ports: dict[str, int]) -> str | None:
    """A message when two listeners (option name -> port) ask for the same port, else None;
    port 0 (any) may repeat, since each listener then gets a port of its own."""
    seen: dict[int, str] = {}
    for option, number in ports.items():
        if number and number in seen:
            return (
                f"{seen[number]} and {option} are both {number}: each listener needs a port "
                "of its own (or 0 for any)"
            )
        seen.setdefault(number, option)
    return None


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
