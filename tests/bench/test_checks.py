"""The harness's judgements: what counts as an image answer (`scenarios.common.image_problem`)."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from bench.scenarios.common import image_problem
from bench.upstream import tiny_image


def _answer(first: dict[str, Any]) -> bytes:
    return orjson.dumps({"created": 1, "data": [first]})


def test_an_image_answer_passes() -> None:
    assert image_problem(200, _answer({"b64_json": tiny_image().b64})) is None
    assert image_problem(200, _answer({"url": "http://127.0.0.1:1/v1/images/a.png"})) is None


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (401, b'{"error":{"message":"Incorrect API key"}}', "answered 401, not 200"),
        (None, b"", "answered None, not 200"),
        (200, b'{"error":{"message":"upstream failed"}}', "without data[0]"),
        (200, b"<html>bad gateway</html>", "without data[0]"),
        (200, orjson.dumps({"data": []}), "without data[0]"),
        (200, orjson.dumps({"data": ["x"]}), "data[0] not an object"),
        (200, _answer({"revised_prompt": "x"}), "neither b64_json nor url"),
        (200, _answer({"b64_json": "not base64!"}), "not base64"),
        (200, _answer({"b64_json": base64.b64encode(b"plain text").decode()}), "not a PNG"),
    ],
)
def test_anything_else_is_named(status: int | None, body: bytes, says: str) -> None:
    problem = image_problem(status, body)
    assert problem is not None and says in problem
