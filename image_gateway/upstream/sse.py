"""Server-sent events read from an upstream answer as its bytes arrive (`UpstreamStream`).

The parsing is httpx-sse's (pinned in requirements.txt): its `SSELineDecoder` splits lines on
`\\r\\n`, `\\r` and `\\n` only, across chunk boundaries, and its `SSEDecoder` applies the WHATWG
event-stream rules (comments skipped, `data:` lines joined, `event:` names the event) — the
decoder the official openai SDK copies into its `_streaming.py`. httpx-sse exposes them only
from its `_decoders` module (its public API reads an httpx response; our transport is aiohttp),
hence the pin; tests/upstream/test_sse.py holds them to the spec. httpx-sse is imported with
the first stream, so a gateway that never streams does without it (tests/test_startup.py).

`EventDecoder.feed(chunk)` returns the events the chunk completed. One event may hold at most
`max_event_bytes` (a partial image is a few MB of base64): more without an event's end is
`EventTooLarge`, and the caller stops reading.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any


class EventTooLarge(Exception):
    """An event went on past the byte cap without ending."""


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event: its `event:` name ("message" when none, as the spec says) and its
    `data:` lines joined."""

    name: str
    data: str


class EventDecoder:
    """Byte chunks in, complete events out (see the module docstring)."""

    def __init__(self, max_event_bytes: int) -> None:
        from httpx_sse._decoders import SSEDecoder, SSELineDecoder

        self.max_event_bytes = max_event_bytes
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lines: Any = SSELineDecoder()
        self._events: Any = SSEDecoder()
        self._pending = 0  # bytes received since the last event ended

    def feed(self, chunk: bytes) -> list[Event]:
        self._pending += len(chunk)
        events = self._decode(self._lines.decode(self._text.decode(chunk)))
        if self._pending > self.max_event_bytes:
            raise EventTooLarge(f"an event is larger than {self.max_event_bytes} bytes")
        return events

    def end(self) -> list[Event]:
        """The events the stream's end completes (a last event without its blank line)."""
        tail = self._text.decode(b"", final=True)
        lines = (self._lines.decode(tail) if tail else []) + self._lines.flush()
        return self._decode([*lines, ""])

    def _decode(self, lines: list[str]) -> list[Event]:
        events = []
        for line in lines:
            sse = self._events.decode(line)
            if sse is not None:
                events.append(Event(sse.event, sse.data))
                self._pending = 0
        return events
