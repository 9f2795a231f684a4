"""`upstream/sse.py`: server-sent events from byte chunks cut anywhere (httpx-sse's decoders,
held to the WHATWG event-stream rules the openai SDK also follows), and the per-event cap."""

from __future__ import annotations

import pytest

from image_gateway.upstream.sse import Event, EventDecoder, EventTooLarge

STREAM = (
    b": keep-alive\n\n"
    b"event: image_generation.partial_image\r\n"
    b'data: {"b64_json": "QUJD",\r\ndata:  "i": 0}\r\n\r\n'
    b'event: image_generation.completed\rdata: {"x": "\xc3\xa9"}\r\r'
    b"data: [DONE]\n"
)
EXPECTED = [
    Event("image_generation.partial_image", '{"b64_json": "QUJD",\n "i": 0}'),
    Event("image_generation.completed", '{"x": "é"}'),
    Event("message", "[DONE]"),
]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(STREAM)])
def test_events_from_chunks_cut_anywhere(size: int) -> None:
    """CRLF, CR and LF line ends, a comment, multi-line data, a UTF-8 character split across
    chunks, and a last event the stream's end completes."""
    decoder = EventDecoder(max_event_bytes=1024)
    events = []
    for start in range(0, len(STREAM), size):
        events += decoder.feed(STREAM[start : start + size])
    events += decoder.end()
    assert events == EXPECTED


def test_an_event_over_the_cap_is_refused() -> None:
    decoder = EventDecoder(max_event_bytes=100)
    assert decoder.feed(b"data: " + b"a" * 50 + b"\n\n") == [Event("message", "a" * 50)]
    with pytest.raises(EventTooLarge):
        for _ in range(3):
            decoder.feed(b"data: " + b"b" * 40)


@pytest.mark.parametrize("size", [1000, 4096, 65536, 300_001])
@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_a_long_line_across_many_chunks(size: int, end: str) -> None:
    """A partial image's `data:` line (here 300 kB) spans many chunks, whichever line end the
    server uses; the next event's lines follow in the same chunk or the next."""
    b64 = "QUJD" * 75_000
    text = (
        f"event: image_generation.partial_image{end}data: {b64}{end}{end}"
        f"data: {b64[:7]}{end}data: x{end}{end}: keep-alive{end}{end}"
    )
    stream = text.encode()
    decoder = EventDecoder(max_event_bytes=len(stream))
    events = []
    for start in range(0, len(stream), size):
        events += decoder.feed(stream[start : start + size])
    events += decoder.end()
    assert events == [
        Event("image_generation.partial_image", b64),
        Event("message", b64[:7] + "\nx"),
    ]
