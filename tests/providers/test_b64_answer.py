"""kit/b64_answer.loads reads every body exactly as orjson.loads does (value or error), lifting
the images API's base64 out only where that changes nothing."""

from __future__ import annotations

import base64
import os

import orjson
import pytest

from image_gateway.providers.kit import b64_answer

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
