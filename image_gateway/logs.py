"""Structured logs: one JSON object per line, with fields passed as `extra={"fields": {...}}`.

Messages and fields are serialised by orjson, so a CR/LF in a prompt or header can never split
a record into two lines. `log_fields()` writes such a line without a `LogRecord` when our
handler is the only place it would go (the access log: a line for every request).

The server's own access log (uvicorn's `uvicorn.access`, on unless `--no-access-log`) writes
each request's target with its query string; `configure_logging()` gives it a `QueryRedaction`
filter, so a key a client put in a URL (`?api_key=...`, `;api_key=...`, or `%3Fapi_key=...`
inside the path) never reaches a log however the server is started. Our access line carries the
path only, through the same redaction, and no path at all for a route that does not exist
(`middleware.log_access`).
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
    without building a `LogRecord` and walking the handler chain."""
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
# `%`, `&`, `;`, `=` and `?` percent-encoded: a server that quotes the path it logs (uvicorn)
# turns a `?` that was `%3F` on the wire, and so is part of the path, into `%3F` again.
_ENCODED_DELIMITER = re.compile(r"%(?:25|26|3[BbDdFf])")
_MAX_DECODINGS = 4  # `%253F` is `%3F` is `?`; a client can nest encodings only so deep here
_PARAMETERS = re.compile(r"[?;]\S*")  # from the first `?` or `;` to the end of the target
_PATH_SEPARATOR = re.compile(r"([;&])")
_QUERY_SEPARATOR = re.compile(r"(&)")
_PARAM_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,32}")


def redact_query(text: str) -> str:
    """`text` with the value of every URL parameter in it replaced by `[redacted]`: the query
    (`GET /v1/models?api_key=sk-1&limit=2` -> `GET /v1/models?api_key=[redacted]&limit=[redacted]`)
    and path parameters (`/v1/models;api_key=sk-1` -> `/v1/models;api_key=[redacted]`), also
    when their `?`, `;`, `=` or `&` were percent-encoded (`/v1/models%3Fapi_key%3Dsk-1`, a key
    that arrived inside the path: it is shown decoded). A parameter's name stays when it looks
    like one (up to 32 letters, digits, `_.-[]`); anything else (a bare token, an odd name) is
    redacted whole. The one redaction of URLs for every log (`QueryRedaction`, the access
    line in `middleware.log_access`)."""
    if "%" in text:
        text = _decode_delimiters(text)
    if "?" not in text and ";" not in text:
        return text
    return _PARAMETERS.sub(_redact_parameters, text)


def _decode_delimiters(text: str) -> str:
    for _ in range(_MAX_DECODINGS):
        decoded = _ENCODED_DELIMITER.sub(lambda m: chr(int(m.group()[1:], 16)), text)
        if decoded == text:
            break
        text = decoded
    return text


def _redact_parameters(match: re.Match[str]) -> str:
    # Path parameters (`;a=1;b=2`) end at the query's `?`; in the query only `&` separates (a
    # later `?` or `;` is part of a value).
    path_part, question, query = match.group().partition("?")
    pieces = _redact_pieces(_PATH_SEPARATOR.split(path_part))
    if question:
        pieces += ["?", *_redact_pieces(_QUERY_SEPARATOR.split(query))]
    return "".join(pieces)


def _redact_pieces(pieces: list[str]) -> list[str]:
    redacted = []
    for piece in pieces:
        if not piece or piece in ";&":
            redacted.append(piece)
            continue
        name, equals, _ = piece.partition("=")
        redacted.append(
            f"{name}={REDACTED}" if equals and _PARAM_NAME.fullmatch(name) else REDACTED
        )
    return redacted


class QueryRedaction(logging.Filter):
    """Redacts URL parameter values (`redact_query`) in a record's arguments, or in its message
    when it has none (a message with arguments is a format string, left as it is). On a
    server's access logger: uvicorn logs `'%s - "%s %s HTTP/%s" %d'` with the target (its path
    quoted, and the query string verbatim) as an argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, Mapping) and args:
            record.args = {k: redact_query(v) if isinstance(v, str) else v for k, v in args.items()}
        elif isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        return True


def configure_logging(level: str) -> None:
    # Our records carry none of the caller's file, line, thread or process, so skip finding
    # them (the logging HOWTO's "Optimization" settings): every record costs less.
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
