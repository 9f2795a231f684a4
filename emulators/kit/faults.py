"""The fault object every emulator accepts on `POST /_emulator/faults`, validated in one place,
and the queue that hands faults to requests.

A fault (every key optional; the README's "Faults" section is the reference):

    {"match": <kind> | "submit" | "any",   # which requests it applies to (default "any")
     "status": 200-599, "headers": {..}, "body": object | string,
     "delay": seconds, "times": n >= 1,
     "stall": bool, "reset": bool, "accept_then_reset": bool,
     "marker": <one of the emulator's prompt markers>,
     "image": <a FAKE_IMAGES name>, <the emulator's own switches>: bool,
     <the emulator's own numbers>: 0-3600}

`match` names one of the emulator's request kinds (OpenAI: `generate`, `edit`, `variation`,
`file`; BFL: `submit`, `poll`, `sample`, `credits`), or `submit` for every paid submission, or
`any` for every request but the control surface. `marker` makes the matched submission behave
as if its prompt carried that marker (a moderation refusal in the provider's own form).

`image` (one of `FAKE_IMAGES`) keeps the answer otherwise normal (status 200, an image content
type) but puts that content where the image bytes belong: what a misbehaving provider, or an
error page a proxy slipped in, hands back as "the image".

An emulator's own switches (booleans) and numbers (seconds or counts, 0-3600) shape its normal
answer further: OpenAI's `as_url`, or its streams' `stream_interval` and `stream_fail_after`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

BASE_FIELDS = ("match", "status", "headers", "body", "delay", "times", "image", "marker")
KIT_FLAGS = ("stall", "reset", "accept_then_reset")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FAKE_IMAGES: dict[str, bytes] = {
    "html": b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><script>alert(document.domain)</script></body></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>',
    "json": b'{"error": {"message": "upstream proxy error"}}',
    "garbage": bytes(range(256)) * 4,
    "empty": b"",
    "truncated": PNG_SIGNATURE + b"\x00\x00\x00\x0dIHD",  # a PNG cut inside its header
}


@dataclass
class Fault:
    """One queued fault; `switches` holds the emulator's own boolean flags that are set."""

    match: str = "any"
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    stall: bool = False
    reset: bool = False
    accept_then_reset: bool = False
    times: int = 1
    image: str | None = None  # a FAKE_IMAGES name: the answer's image bytes become that
    marker: str | None = None  # the submission is treated as if its prompt carried it
    switches: frozenset[str] = frozenset()
    numbers: dict[str, float] = field(default_factory=dict)

    @property
    def fake_image(self) -> bytes | None:
        return None if self.image is None else FAKE_IMAGES[self.image]

    def switch(self, name: str) -> bool:
        return name in self.switches

    def number(self, name: str) -> float | None:
        """The emulator's own number `name`, when the fault sets it."""
        return self.numbers.get(name)

    def describe(self) -> dict[str, Any]:
        """The fault as it was posted (what `GET /_emulator/faults` lists)."""
        out: dict[str, Any] = {
            "match": self.match,
            "status": self.status,
            "headers": dict(self.headers),
            "body": self.body,
            "delay": self.delay,
            "times": self.times,
            "image": self.image,
            "marker": self.marker,
        }
        for flag in KIT_FLAGS:
            out[flag] = getattr(self, flag)
        out.update(dict.fromkeys(sorted(self.switches), True))
        out.update(sorted(self.numbers.items()))
        return out


@dataclass(frozen=True)
class FaultRules:
    """What one emulator accepts: its match kinds, its own switches (booleans) and numbers
    (0-3600), its prompt markers."""

    kinds: tuple[str, ...]
    switches: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()

    @property
    def matches(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.kinds, "submit", "any")))

    def parse(self, payload: Any) -> list[Fault]:
        """Validate a `{"faults": [...]}` body, a bare list of faults or one bare fault
        object; ValueError names the bad field."""
        if isinstance(payload, dict) and payload and "faults" not in payload:
            payload = {"faults": [payload]}  # one fault, as the README's curl example sends
        elif isinstance(payload, list):
            payload = {"faults": payload}
        if not isinstance(payload, dict) or not isinstance(payload.get("faults"), list):
            raise ValueError('expected {"faults": [ ... ]}, a list of faults or one fault')
        return [self.parse_one(raw, f"faults[{i}]") for i, raw in enumerate(payload["faults"])]

    def parse_one(self, raw: Any, where: str = "fault") -> Fault:
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: expected an object")
        unknown = (
            set(raw) - set(BASE_FIELDS) - set(KIT_FLAGS) - set(self.switches) - set(self.numbers)
        )
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        fault = Fault(body=raw.get("body"))
        if raw.get("match") is not None:
            if raw["match"] not in self.matches:
                raise ValueError(f"{where}.match: expected one of {list(self.matches)}")
            fault.match = raw["match"]
        status = raw.get("status")
        if status is not None:
            if not is_int(status) or not 200 <= status <= 599:
                raise ValueError(f"{where}.status: expected an integer 200-599")
            fault.status = status
        fault.headers = _headers(raw.get("headers") or {}, where)
        delay = raw.get("delay", 0.0) or 0.0
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 3600:
            raise ValueError(f"{where}.delay: expected seconds between 0 and 3600")
        fault.delay = float(delay)
        switches = set()
        for flag in (*KIT_FLAGS, *self.switches):
            value = raw.get(flag, False)
            if not isinstance(value, bool):
                raise ValueError(f"{where}.{flag}: expected a boolean")
            if flag in KIT_FLAGS:
                setattr(fault, flag, value)
            elif value:
                switches.add(flag)
        fault.switches = frozenset(switches)
        for name in self.numbers:
            value = raw.get(name)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= 3600
            ):
                raise ValueError(f"{where}.{name}: expected a number between 0 and 3600")
            fault.numbers[name] = float(value)
        image = raw.get("image")
        if image is not None:
            if image not in FAKE_IMAGES:
                raise ValueError(f"{where}.image: expected one of {list(FAKE_IMAGES)}")
            fault.image = image
        marker = raw.get("marker")
        if marker is not None:
            if marker not in self.markers:
                raise ValueError(f"{where}.marker: expected one of {list(self.markers)}")
            fault.marker = marker
        times = raw.get("times", 1)
        if not is_int(times) or times < 1:
            raise ValueError(f"{where}.times: expected an integer >= 1")
        fault.times = times
        return fault


def _headers(headers: Any, where: str) -> dict[str, str]:
    if not isinstance(headers, dict) or not all(
        isinstance(v, (str, int, float)) for v in headers.values()
    ):
        raise ValueError(f"{where}.headers: expected an object of strings")
    clean = {str(k).lower(): str(v) for k, v in headers.items()}
    if any(c in text for item in clean.items() for text in item for c in "\r\n\0"):
        raise ValueError(f"{where}.headers: control characters are not allowed")
    for framing in ("content-length", "transfer-encoding"):
        clean.pop(framing, None)  # the server frames the body itself
    return clean


class FaultQueue:
    """Faults in FIFO order; a request takes one use of the first fault matching its kind.
    Thread-safe: tests queue faults from their thread while the server's loop takes them."""

    def __init__(self) -> None:
        self._items: list[Fault] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, faults: list[Fault]) -> int:
        with self._lock:
            self._items.extend(faults)
            return len(self._items)

    def clear(self) -> int:
        with self._lock:
            n = len(self._items)
            self._items.clear()
            return n

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._items]

    def take(self, kind: str, paid: bool) -> Fault | None:
        """The fault for a request of `kind` (`paid`: a submission the provider bills)."""
        if not self._items:  # the common case: one cheap check, no lock
            return None
        with self._lock:
            for i, fault in enumerate(self._items):
                if fault.match in (kind, "any") or (fault.match == "submit" and paid):
                    fault.times -= 1
                    if fault.times <= 0:
                        del self._items[i]
                    return fault
        return None


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
