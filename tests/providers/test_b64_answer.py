"""kit/b64_answer.loads reads every body exactly as orjson.loads does (value or error), lifting
the images API's base64 out only where that changes nothing; `StreamedAnswer`, fed a body in any
pieces, reads what `loads(views=True)` reads, each base64 decoded as it arrives."""

from __future__ import annotations

import base64
import os

import orjson
import pytest

from image_gateway.errors import UpstreamError
from image_gateway.providers.kit import b64_answer
from image_gateway.providers.kit.output import decode_b64_image

B64 = base64.b64encode(os.urandom(3000)).decode("ascii")  # holds "/" and "+"
ESCAPED = B64.replace("/", "\\/")  # how some JSON encoders write a slash

BODIES = [
    f'{{"created": 1, "data": [{{"b64_json": "{B64}", "revised_prompt": "r"}}]}}',
    f'{{"data":[{{"b64_json":"{B64}"}},{{"b64_json" : "{B64[:400]}"}}],"usage":{{"x":1}}}}',
    f'{{"data": [{{"b64_json":\n\t"{B64}"}}]}}',
    f'{{"data": [{{"b64_json": "{ESCAPED}"}}]}}',  # an escape: orjson reads it
    f'{{"data": [{{"b64_json": "{B64}", "b64_json": "QUJD"}}]}}',  # repeated: the last wins
    f'{{"data": [{{"b64_json": null}}, {{"b64_json": "{B64}"}}]}}',
    f'{{"data": [{{"url": "https://x/y"}}], "extra": {{"b64_json": "{B64}"}}}}',
    '{"data": [{"b64_json": ""}]}',
    f'{{"data": [{{"revised_prompt": "say \\"b64_json\\": \\"x\\"", "b64_json": "{B64}"}}]}}',
    '{"data": [{"b64_json": "caf\u00e9"}]}',  # not ASCII (not base64 either)
    '{"data": [{"b64_json": 12}]}',
    '{"b64_json": "QUJD"}',
    '["b64_json", "QUJD"]',
    '{"data": {"b64_json": "QUJD"}}',
    '{"data": [{"url": "https://x/y"}]}',
]


@pytest.mark.parametrize("body", BODIES)
def test_the_same_value_as_orjson(body: str) -> None:
    raw = body.encode()
    got = b64_answer.loads(raw)
    assert got == orjson.loads(raw)
    assert orjson.dumps(got) == orjson.dumps(orjson.loads(raw))  # same order of keys, same types


@pytest.mark.parametrize(
    "body",
    [
        f'{{"data": [{{"b64_json": "{B64}',  # cut short inside the base64
        f'{{"data": [{{"b64_json": "{B64}"}}',  # cut short after it
        f'{{"data": [{{"b64_json": "{B64}"}}]}} trailing',
        f'{{"data": [{{"b64_json": "{B64[:100]}\udcff{B64[100:]}"}}]}}',  # not UTF-8 in it
        f'{{"data": [{{"b64_json": "{B64}", "revised_prompt": "\udcfe"}}]}}',  # ... after it
        "",
    ],
)
def test_the_same_error_as_orjson(body: str) -> None:
    raw = body.encode("utf-8", "surrogateescape")
    with pytest.raises(orjson.JSONDecodeError) as expected:
        orjson.loads(raw)
    with pytest.raises(orjson.JSONDecodeError) as got:
        b64_answer.loads(raw)
    assert str(got.value) == str(expected.value)


def texts(value: object) -> object:
    """`value` with each view read as its text."""
    if isinstance(value, memoryview):
        return str(value, "utf-8")
    if isinstance(value, dict):
        return {k: texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [texts(v) for v in value]
    return value


def walk(value: object) -> list[object]:
    """Every value in `value`, nested ones included."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in walk(v)]
    if isinstance(value, list):
        return [x for v in value for x in walk(v)]
    return [value]


@pytest.mark.parametrize("body", BODIES)
def test_views_read_as_orjson_reads(body: str) -> None:
    """With views (`loads(views=True)`, the OpenAI adapter's), the same value once each view is
    read as text: lifted values are views of the body's own bytes, anything else is orjson's."""
    raw = body.encode()
    got = b64_answer.loads(raw, views=True)
    assert texts(got) == orjson.loads(raw)
    views = [v for v in walk(got) if isinstance(v, memoryview)]
    for view in views:
        assert view.obj is raw  # no copy
    if "\\/" in body or '"b64_json": 12' in body or body.startswith(('{"b64', "[")):
        assert views == []  # an escape, a number, no data list: orjson's values


def test_an_escaped_slash_is_read_as_text() -> None:
    """A body whose JSON writer escaped "/" as "\\/" is parsed by orjson: the value is the
    base64's str, which the adapter checks as it checks a view."""
    got = b64_answer.loads(f'{{"data": [{{"b64_json": "{ESCAPED}"}}]}}'.encode(), views=True)
    assert got["data"][0]["b64_json"] == B64


def decoded(value: object) -> object:
    """`value` with each `b64_json` as what `decode_b64_image` makes of it: its bytes, or
    "invalid"."""
    if isinstance(value, dict):
        return {
            k: decode_or_invalid(v) if k == "b64_json" else decoded(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [decoded(v) for v in value]
    return value


def decode_or_invalid(value: object) -> object:
    if not isinstance(value, str | memoryview | b64_answer.Decoded):
        return value
    try:
        return decode_b64_image(value, "openai")
    except UpstreamError as exc:
        assert "invalid base64 image data" in str(exc)
        return "invalid"


def streamed(raw: bytes, sizes: list[int]) -> b64_answer.StreamedAnswer:
    """`raw` fed to a reader in pieces of `sizes` (repeated), as the body would arrive."""
    reader = b64_answer.StreamedAnswer()
    pos, turn = 0, 0
    while pos < len(raw):
        size = sizes[turn % len(sizes)]
        reader.feed(raw[pos : pos + size])
        pos, turn = pos + size, turn + 1
    return reader


# What `loads` reads with a nested or repeated `b64_json`, or one outside a `data` list, as
# orjson's str: `StreamedAnswer` refuses these (`test_streamed_refuses_b64_json_outside...`).
OUTSIDE = [b for b in BODIES if "extra" in b or '"b64_json": "QUJD"' in b]
SPLITS = [[1 << 30], [1], [3], [7, 1, 64], [4096], [13, 1000, 2]]
PADDED = base64.b64encode(bytes(4000)).decode("ascii")[:-4] + "QQ=="
STREAMED_BODIES = [
    *(b for b in BODIES if b not in OUTSIDE),
    f'{{"data": [{{"b64_json": "{PADDED}QUJD"}}]}}',  # padding, then more: invalid
    f'{{"data": [{{"b64_json": "{B64[:-1]}"}}]}}',  # a length no multiple of 4
    f'{{"data": [{{"b64_json": "{B64}="}}]}}',  # more padding than needed
    f'{{"data": [{{"b64_json": "{B64[:999]}\\n{B64[999:]}"}}]}}',  # an escape other than "\/"
    f'{{"data": [{{"b64_json": "{B64[:9]}\\"{B64[9:]}"}}], "usage": {{"total_tokens": 3}}}}',
    f'{{"data": [{{"b64_json": "{B64}"}}, {{"b64_json": "{ESCAPED}"}}], "usage": {{"a": 1}}}}',
    f'{{"data": [{{"b64_json": "{ESCAPED[:-1]}\\/"}}]}}',  # an escaped "/" last
]


@pytest.mark.parametrize("sizes", SPLITS, ids=str)
@pytest.mark.parametrize("body", STREAMED_BODIES)
def test_streamed_reads_as_views_read(body: str, sizes: list[int]) -> None:
    """`StreamedAnswer`, fed the body in any pieces, gives what `loads(views=True)` does once
    each `b64_json` is decoded (its bytes, or refused as invalid), with "\\/" read as "/"."""
    raw = body.encode()
    want = decoded(b64_answer.loads(raw, views=True))
    assert decoded(streamed(raw, sizes).payload()) == want


@pytest.mark.parametrize("sizes", SPLITS, ids=str)
def test_streamed_bytes_are_the_image(sizes: list[int]) -> None:
    images = [os.urandom(n) for n in (0, 1, 2, 3, 5000, 200_001)]
    items = ",".join(
        f'{{"b64_json" :  "{base64.b64encode(i).decode()}", "revised_prompt": "b64_json"}}'
        for i in images
    )
    payload = streamed(f'{{"created":1,"data":[{items}],"usage":null}}'.encode(), sizes).payload()
    got = [decode_b64_image(item["b64_json"], "openai") for item in payload["data"]]
    assert got == images
    assert [bool(item["b64_json"]) for item in payload["data"]] == [False] + [True] * 5


@pytest.mark.parametrize(
    "body",
    [
        f'{{"data": [{{"b64_json": "{B64}',  # cut short inside the base64
        f'{{"data": [{{"b64_json": "{B64}\\',  # ... in an escape
        f'{{"data": [{{"b64_json": "{B64}"}}',  # cut short after it
        f'{{"data": [{{"b64_json": "{B64}"}}]}} trailing',
        "",
        "<html>502</html>",
    ],
)
def test_streamed_refuses_what_is_no_json(body: str) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        streamed(body.encode(), [5]).payload()


@pytest.mark.parametrize("body", OUTSIDE)
def test_streamed_refuses_b64_json_outside_the_data_items(body: str) -> None:
    """Where `loads` falls back to orjson's str (a nested or repeated `b64_json`, no `data`
    list), the streamed reader has decoded it already: an answer the gateway cannot read
    (ValueError), never a wrong image."""
    with pytest.raises(ValueError, match="outside the answer's data items"):
        streamed(body.encode(), [100]).payload()
