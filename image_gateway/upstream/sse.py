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
`EventTooLarge`, and the caller stops reading. `UpstreamStream` is a 2xx event-stream answer
that `UpstreamClient.open_stream` left open, read through both.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from image_gateway.errors import UpstreamError
from image_gateway.upstream.body import Inflater
from image_gateway.upstream.failures import gateway_error

if TYPE_CHECKING:
    import aiohttp

STREAM_EVENTS_MAX = 64  # events of the byte cap a compressed stream may inflate to, in all


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
        from httpx_sse._decoders import SSEDecoder

        self.max_event_bytes = max_event_bytes
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lines: Any = _line_decoder()
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


def _line_decoder() -> Any:
    """httpx-sse's `SSELineDecoder`, but a line that spans chunks is joined in one copy, not
    two (its `"".join(buffer) + first` copies a 1.4 MB partial image's line twice)."""
    from httpx_sse._decoders import SSELineDecoder

    class LineDecoder(SSELineDecoder):
        def decode(self, text: str) -> list[str]:
            if not self.buffer or not text or self.trailing_cr or text[-1] == "\r":
                return list(super().decode(text))
            head, sep, rest = text.partition("\n")
            if "\r" in head or not sep:
                return list(super().decode(text))
            line = "".join([*self.buffer, head])
            self.buffer = []
            return [line, *super().decode(rest)] if rest else [line]

    return LineDecoder()


class UpstreamStream:
    """A 2xx `text/event-stream` answer being read (`UpstreamClient.open_stream`): its
    status and headers, then `events()` as they arrive; `close()` (always, `async with`)
    drops the connection unless the stream was read to its end."""

    def __init__(self, resp: aiohttp.ClientResponse, provider: str, cap: int) -> None:
        self.status: int = resp.status
        self.headers: Mapping[str, str] = resp.headers
        self._resp, self._provider, self._cap = resp, provider, cap
        self._done = False

    async def __aenter__(self) -> UpstreamStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def events(self) -> AsyncIterator[Event]:
        """The stream's events in order; a transport failure, an event over the byte cap or
        a body that cannot be decoded raises the table's error (`billed_unknown`)."""
        decoder = EventDecoder(self._cap)
        # The cap bounds each event (after decoding); a whole stream holds many of them.
        inflater = Inflater.of(self._resp, self._cap * STREAM_EVENTS_MAX)
        try:
            async for chunk in self._resp.content.iter_any():
                data = inflater.feed(chunk) if inflater is not None else chunk
                events = decoder.feed(data)
                while events:  # each event held by its reader only (no local name keeps it)
                    yield events.pop(0)
            if inflater is not None:
                inflater.end()
            tail = decoder.end()
        except EventTooLarge as exc:
            raise UpstreamError(
                f"{self._provider} sent {exc}", provider=self._provider, billed_unknown=True
            ) from None
        except Exception as exc:
            error = gateway_error(exc, self._provider, first_send=True)
            if error is None:
                raise
            raise error from None
        self._done = True
        for event in tail:
            yield event

    def close(self) -> None:
        if self._done:
            self._resp.release()
        else:
            self._resp.close()  # mid-stream: the connection is never reused
