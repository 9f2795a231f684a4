"""`log_fields()`: the line it writes straight to our handler is the line logging would write,
and any other handler or filter on the way sends the record through logging instead."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from image_gateway.logs import JsonLinesHandler, _sole_handler, log_fields
from tests.conftest import LogCapture

FIELDS = {"request_id": "req_1", "status": 200, "path": "/v1/x\r\ny", "cost": 0.25, "n": None}


@pytest.fixture
def loggers() -> tuple[logging.Logger, logging.Logger, io.StringIO]:
    """A parent with our handler (like `image_gateway`) and a child (like `.access`), made
    outside logging's registry, so that no other handler (pytest's) is attached to them."""
    stream = io.StringIO()
    parent = logging.Logger("igw_test_logs", logging.INFO)
    parent.propagate = False
    parent.addHandler(JsonLinesHandler(stream))
    child = logging.Logger("igw_test_logs.access")
    child.parent = parent
    return parent, child, stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_direct_line_is_the_logging_line(loggers: Any) -> None:
    parent, child, stream = loggers
    assert _sole_handler(child, logging.INFO) is parent.handlers[0]  # the direct path is taken
    log_fields(child, logging.INFO, "request", FIELDS)
    child.info("request", extra={"fields": FIELDS})
    direct, logged = lines(stream)
    assert abs(direct.pop("ts") - logged.pop("ts")) < 5
    assert direct == logged
    assert direct["logger"] == "igw_test_logs.access" and direct["level"] == "info"
    assert direct["path"] == "/v1/x\r\ny" and len(stream.getvalue().splitlines()) == 2


def test_levels_are_honoured(loggers: Any) -> None:
    parent, child, stream = loggers
    parent.setLevel(logging.WARNING)
    log_fields(child, logging.INFO, "request", FIELDS)
    assert stream.getvalue() == ""
    log_fields(child, logging.WARNING, "slow", FIELDS)
    assert lines(stream)[0]["level"] == "warning"


def test_another_handler_or_a_filter_gets_the_record_through_logging(loggers: Any) -> None:
    parent, child, stream = loggers
    capture = LogCapture()
    parent.addHandler(capture)
    try:
        assert _sole_handler(child, logging.INFO) is None
        log_fields(child, logging.INFO, "request", FIELDS)
    finally:
        parent.removeHandler(capture)
    assert len(capture.lines) == 1 and len(lines(stream)) == 1  # both handlers saw it

    child.addFilter(lambda record: False)
    log_fields(child, logging.INFO, "request", FIELDS)
    assert len(lines(stream)) == 1  # the filter dropped it, as it would have through logging
