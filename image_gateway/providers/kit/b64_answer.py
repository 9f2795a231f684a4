"""Parsing an OpenAI-shaped answer (`{"data": [{"b64_json": "<base64>", ...}, ...], ...}`, the
images API's `ImagesResponse`) without orjson scanning megabytes of base64 (issue 16).

`orjson.loads` of a 5.6 MB answer holding one 4.2 MB PNG costs ~5 ms, nearly all of it spent
checking the base64's UTF-8 and escapes character by character. Here each `"b64_json": "..."`
value is lifted out of the bytes first (base64 holds no quote, backslash or non-ASCII byte), the
few bytes left are parsed by orjson, and each value is put back as a str made straight from
the body's bytes (`str(memoryview, "ascii")`: one copy, no scan for escapes; bench/RESULTS.md).

`loads(body, views=True)` puts each value back as a `memoryview` of the body instead (no copy at
all), for a reader that decodes the value as base64 (`kit/output.decode_b64_image`), which
refuses any byte a str would have refused.

The result is always `orjson.loads(body)`'s, but for the values' type with views: whenever a
lifted value holds an escape (`\\/`, which a JSON writer may put in base64), or is not plain
ASCII (without views; with them the decoding refuses it), or the lifted values are not exactly
the `b64_json` strings of the `data` items, the whole body is parsed by orjson as before (str
values), so its errors (`orjson.JSONDecodeError`) are the same too.

`StreamedAnswer` reads the same shape as the body arrives (`upstream.body.BodyReader`, fed by
`UpstreamClient.request`'s `answer_reader`), so that a request never holds the provider's body
whole, nor beside the image (issue 16, bench/RESULTS.md): each `b64_json` string's characters
are decoded in runs of whole 4-character groups as they come (kept as runs: no join), and only
the JSON around them (a few hundred bytes) is kept and parsed by orjson at the end. Its
`payload()` is `loads(body, views=True)`'s, each `b64_json` a `Decoded` (its bytes in runs, or
None where they were not strict base64: `kit/output.decode_b64_image` refuses it as it refuses a
view).
JSON's `\\/` escape in a value is read as the "/" it stands for; any other escape is no base64
character (invalid, as its decoded text would be). A `b64_json` string lifted from anywhere but a
`data` item, where `loads` would fall back to orjson's str, is refused (`ValueError`: an answer
the gateway cannot read): no OpenAI-shaped answer has one.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

import orjson
import pybase64

_KEY = b'"b64_json"'
_KEY_THEN_STRING = re.compile(rb'"b64_json"[ \t\r\n]*:[ \t\r\n]*"')
# The start of `_KEY_THEN_STRING` that more bytes may still complete.
_KEY_SO_FAR = re.compile(rb'"b64_json"[ \t\r\n]*(?::[ \t\r\n]*)?')


def loads(body: bytes, *, views: bool = False) -> Any:
    """`orjson.loads(body)`: the same value, or the same `orjson.JSONDecodeError`; with `views`,
    each lifted `b64_json` is a `memoryview` of `body` (which it keeps alive), not a str."""
    lifted = _lifted(body, views)
    return orjson.loads(body) if lifted is None else lifted


def _lifted(body: bytes, views: bool) -> Any | None:
    """The parsed answer, its `b64_json` strings taken from the body's bytes (as str, or as
    views of them); None when the body is not one this can read exactly as orjson would."""
    spans: list[tuple[int, int]] = []  # [start, end) of each b64_json string's characters
    pos = 0
    while (found := body.find(_KEY, pos)) != -1:
        match = _KEY_THEN_STRING.match(body, found)
        if match is None:
            return None  # "b64_json" not as a key with a string: not the shape this reads
        start = match.end()
        end = body.find(b'"', start)
        if end == -1 or body.find(b"\\", start, end) != -1:
            return None  # cut short, or an escape only orjson should read
        spans.append((start, end))
        pos = end + 1
    if not spans:
        return None
    pieces, prev = [], 0
    for start, end in spans:
        pieces.append(body[prev:start])
        prev = end
    pieces.append(body[prev:])
    try:
        payload = orjson.loads(b"".join(pieces))  # each b64_json now ""
    except orjson.JSONDecodeError:
        return None
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return None
    holders = [item for item in items if isinstance(item, dict) and "b64_json" in item]
    if len(holders) != len(spans) or any(item["b64_json"] != "" for item in holders):
        return None  # a b64_json elsewhere, or one that is no string: orjson reads it all
    values: list[str | memoryview]
    if views:  # bytes are immutable: a view of them stays valid for as long as it is held
        view = memoryview(body)
        values = [view[start:end] for start, end in spans]
    else:
        with memoryview(body) as view:
            try:
                values = [str(view[start:end], "ascii") for start, end in spans]
            except UnicodeDecodeError:
                return None
    for item, value in zip(holders, values, strict=True):
        item["b64_json"] = value
    return payload


class Decoded:
    """A `b64_json` string decoded as it arrived (`StreamedAnswer`): `runs` its bytes as they
    were decoded (each a multiple of 3 bytes but the last: their base64 encodings join), None
    where its characters were not strict base64; `len()` the number of characters, as a
    view's."""

    __slots__ = ("chars", "runs")

    def __init__(self, runs: list[bytes] | None, chars: int) -> None:
        self.runs = runs
        self.chars = chars

    def __len__(self) -> int:
        return self.chars


class StreamedAnswer:
    """An OpenAI-shaped answer read as it arrives (module docstring): `feed` each piece of the
    body in order, then `payload()` once it is complete."""

    __slots__ = ("_rest", "_scan", "_string", "_values")

    def __init__(self) -> None:
        self._rest = bytearray()  # the body without its b64_json strings' characters
        self._scan = 0  # where in `_rest` the next key is looked for
        self._string: _B64String | None = None  # the b64_json string being read
        self._values: list[Decoded] = []

    def feed(self, data: bytes) -> None:
        pos = 0
        while pos < len(data):
            if self._string is not None:
                end = self._string.feed(data, pos)
                if end == -1:
                    return
                self._values.append(self._string.done())
                self._string, pos = None, end  # its closing quote is the rest's again
                continue
            self._rest += data[pos:] if pos else data
            start = self._opened()
            if start is None:
                return
            # The characters after the opening quote belong to the string: taken back out.
            data, pos = bytes(self._rest[start:]), 0
            del self._rest[start:]
            self._string = _B64String()

    def _opened(self) -> int | None:
        """Where a `"b64_json": "` that `_rest` now holds opens its string; None: none yet."""
        rest = self._rest
        while (found := rest.find(_KEY, self._scan)) != -1:
            match = _KEY_THEN_STRING.match(rest, found)
            if match is not None:
                self._scan = match.end()
                return match.end()
            if _KEY_SO_FAR.fullmatch(rest, found):  # a key and a colon may still come
                self._scan = found
                return None
            self._scan = found + 1  # not a key with a string: read by orjson as it is
        self._scan = max(self._scan, len(rest) - len(_KEY) + 1)
        return None

    def payload(self) -> Any:
        """The parsed answer (see the module docstring); `orjson.JSONDecodeError` for a body
        that is no JSON (cut inside a string too), `ValueError` for `b64_json` strings that are
        not exactly those of the `data` items."""
        if self._string is not None:
            raise orjson.JSONDecodeError("the answer ends inside a b64_json string", "", 0)
        payload = orjson.loads(self._rest)
        if not self._values:
            return payload
        items = payload.get("data") if isinstance(payload, dict) else None
        holders = [
            item
            for item in (items if isinstance(items, list) else ())
            if isinstance(item, dict) and item.get("b64_json") == ""
        ]
        if len(holders) != len(self._values):
            raise ValueError("b64_json strings outside the answer's data items")
        for item, value in zip(holders, self._values, strict=True):
            item["b64_json"] = value
        self._values = []
        return payload


class _B64String:
    """The characters of one `b64_json` string as they arrive, decoded strictly in runs of
    whole 4-character groups (pybase64, SIMD), kept as runs (never joined: an answer sends them
    one by one, `schemas.LazyB64`): valid exactly when the whole string is (only the standard
    alphabet, padding only at its end, as much as needed). The characters of a group cut by a
    piece's end go before the next piece's, so that every run is a whole piece's groups."""

    __slots__ = ("_bad", "_carry", "_chars", "_escape", "_padded", "_runs")

    def __init__(self) -> None:
        self._runs: list[bytes] = []
        self._carry = b""  # the characters of an incomplete group (fewer than 4)
        self._chars = 0
        self._escape = False  # a backslash ended the last piece
        self._padded = False  # a group with "=" was decoded: nothing may follow
        self._bad = False

    def feed(self, data: bytes, pos: int) -> int:
        """Read `data[pos:]` up to the string's closing quote: its index, or -1 (all read)."""
        end = len(data)
        with memoryview(data) as view:
            while pos < end:
                if self._escape:  # the character after a backslash
                    self._escape = False
                    self._chars += 1
                    if data[pos] == 0x2F:  # "\/" stands for "/", which base64 uses
                        self._take(b"/")
                    else:
                        self._bad = True  # "\n", "\"", "\u...": no base64 character
                    pos += 1
                    continue
                quote = data.find(b'"', pos)
                stop = end if quote == -1 else quote
                backslash = data.find(b"\\", pos, stop)
                if backslash != -1:
                    stop = backslash
                if stop > pos:
                    self._chars += stop - pos
                    self._take(view[pos:stop])
                if backslash != -1:
                    self._escape, pos = True, backslash + 1
                    continue
                return quote
        return -1

    def _take(self, chars: bytes | memoryview) -> None:
        if self._bad:
            return
        if self._carry:
            self._carry, chars = b"", self._carry + chars
        whole = len(chars) // 4 * 4
        if whole:
            self._decode(chars[:whole])
        if whole < len(chars):
            self._carry = bytes(chars[whole:])

    def _decode(self, run: bytes | memoryview) -> None:
        if self._padded or self._bad:  # characters after the padding
            self._bad = True
            return
        try:
            self._runs.append(pybase64.b64decode(run, validate=True))
        except (binascii.Error, ValueError):
            self._bad = True
            return
        self._padded = run[-1] == 0x3D  # "="

    def done(self) -> Decoded:
        """The string's value, at its closing quote."""
        bad = self._bad or bool(self._carry)  # a length that is no multiple of 4
        runs, self._runs = self._runs, []
        return Decoded(None if bad else runs, self._chars)
