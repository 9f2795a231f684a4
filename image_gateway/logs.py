"""Structured logs: one JSON object per line, with fields passed as `extra={"fields": {...}}`.

Messages and fields are serialised by orjson, so a CR/LF in a prompt or header can never split
a record into two lines. `log_fields()` writes such a line without a `LogRecord` when our
handler is the only place it would go (the access log: a line for every request).

The server's own access log (uvicorn's `uvicorn.access`, on unless `--no-access-log`) writes
each request's target with its query string; `configure_logging()` gives it a `QueryRedaction`
filter, so a key a client put in a URL (`?api_key=...`) never reaches a log however the server
is started. Our access line carries the path only.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

import orjson


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = _entry(record.levelname, record.name, record.getMessage(), record.__dict__)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _json_line(entry)


def _entry(level: str, logger: str, msg: str, extra: dict[str, Any]) -> dict[str, Any]:
    """A line's object: time, level, logger, message, then the record's `fields`."""
    entry = {"ts": round(time.time(), 3), "level": level.lower(), "logger": logger, "msg": msg}
    fields = extra.get("fields")
    if isinstance(fields, dict):
        entry.update(fields)
    return entry


def _json_line(entry: dict[str, Any]) -> str:
    return orjson.dumps(entry, default=str).decode()


class JsonLinesHandler(logging.StreamHandler[TextIO]):
    """The gateway's handler: `JsonFormatter` lines on a stream (stderr)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())

    def write_entry(self, entry: dict[str, Any]) -> None:
        """One line, as `emit()` writes a formatted record (errors are swallowed likewise)."""
        line = _json_line(entry) + self.terminator
        self.acquire()
        try:
            self.stream.write(line)
            self.stream.flush()
        except Exception:  # noqa: S110 - as logging does: a log line never fails a request
            pass
        finally:
            self.release()


def log_fields(logger: logging.Logger, level: int, msg: str, fields: dict[str, Any]) -> None:
    """`logger.log(level, msg, extra={"fields": fields})`, the same line, but cheaper when our
    handler is the only one the record would reach (no filters): written straight to it,
    without building a `LogRecord` and walking the handler chain (an access-log line: ~14 µs
    through logging, ~10 here, of which the write itself is ~3)."""
    if not logger.isEnabledFor(level):
        return
    handler = _sole_handler(logger, level)
    if handler is None:
        logger.log(level, msg, extra={"fields": fields})
        return
    handler.write_entry(_entry(logging.getLevelName(level), logger.name, msg, {"fields": fields}))


def _sole_handler(logger: logging.Logger, level: int) -> JsonLinesHandler | None:
    found: JsonLinesHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if (
                found is not None
                or not isinstance(handler, JsonLinesHandler)
                or handler.filters
                or level < handler.level
            ):
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    return found


# Loggers of ASGI servers that write the request target (path and query) of every request.
SERVER_ACCESS_LOGGERS = ("uvicorn.access",)
REDACTED = "[redacted]"
_QUERY = re.compile(r"\?(\S*)")  # to the end of the target: quotes, `#` and all
_PARAM_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,32}")


def redact_query(text: str) -> str:
    """`text` with the value of every URL query parameter in it replaced by `[redacted]`:
    `GET /v1/models?api_key=sk-1&limit=2` -> `GET /v1/models?api_key=[redacted]&limit=[redacted]`.
    A parameter's name stays when it looks like one (up to 32 letters, digits, `_.-[]`);
    anything else in a query (a bare token, an odd name) is redacted whole."""
    if "?" not in text:
        return text
    return _QUERY.sub(_redact_parameters, text)


def _redact_parameters(match: re.Match[str]) -> str:
    pieces = []
    for piece in match.group(1).split("&"):
        name, equals, _ = piece.partition("=")
        if not piece:
            pieces.append("")
        elif equals and _PARAM_NAME.fullmatch(name):
            pieces.append(f"{name}={REDACTED}")
        else:
            pieces.append(REDACTED)
    return "?" + "&".join(pieces)


class QueryRedaction(logging.Filter):
    """Redacts URL query values (`redact_query`) in a record's message and arguments. On a
    server's access logger: uvicorn logs `'%s - "%s %s HTTP/%s" %d'` with the target (path and
    query string, verbatim) as an argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, Mapping):
            record.args = {k: redact_query(v) if isinstance(v, str) else v for k, v in args.items()}
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        return True


def configure_logging(level: str) -> None:
    # Our records carry none of the caller's file, line, thread or process, so skip finding
    # them (the logging HOWTO's "Optimization" settings): a record through logging costs ~3 µs
    # less (~17 -> ~14 µs for an access-log line).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logger = logging.getLogger("image_gateway")
    logger.setLevel(level)
    if not any(isinstance(h, JsonLinesHandler) for h in logger.handlers):
        logger.addHandler(JsonLinesHandler(sys.stderr))
        logger.propagate = False
    # Installed here, by the app itself, rather than by a server option: the README's manual
    # `uvicorn main:app --reload` has uvicorn's access log on.
    for name in SERVER_ACCESS_LOGGERS:
        server_access = logging.getLogger(name)
        if not any(isinstance(f, QueryRedaction) for f in server_access.filters):
            server_access.addFilter(QueryRedaction())
