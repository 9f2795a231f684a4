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
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_KEY = b'"b64_json"'
_KEY_THEN_STRING = re.compile(rb'"b64_json"[ \t\r\n]*:[ \t\r\n]*"')


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
