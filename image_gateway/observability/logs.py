"""Structured logs through stdlib logging: one JSON object per line, formatted by
python-json-logger (`JsonFormatter`, on orjson), with a record's fields passed as
`extra={"fields": {...}}` (a namespace of our own, so that no field name can collide with a
`LogRecord` attribute; any other `extra` attribute is a field as well).

    {"ts": 1764489600.123, "level": "info", "logger": "image_gateway.access", "msg": "request",
     "request_id": "req_...", ..., "exc": "Traceback ..."}

Messages and fields are serialised by orjson, so a CR/LF in a prompt or header can never split
a record into two lines.

No process-wide change to logging: `configure_logging()` sets the level of our `image_gateway`
logger (`LOG_LEVEL`) and gives it one `JsonLinesHandler` on stderr, which writes a record only
while the root logger has no handlers, i.e. while nobody configured logging (`uvicorn main:app`,
`make run`, the Docker image). An application that embeds the gateway and configures logging
(handlers on the root logger, before or after `create_app`) gets our records by propagation,
once, through its own handlers and formatters (`JsonFormatter` is there for them too); our
handler then stays silent.

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
from collections.abc import Mapping
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter

LOGGER = "image_gateway"  # the parent of every logger of ours
# A record's attributes under the names our lines have always had.
RENAMED = {"name": "logger", "message": "msg", "exc_info": "exc", "stack_info": "stack"}


class JsonFormatter(OrjsonFormatter):
    """A record as one JSON object: `ts` (Unix time, seconds, 3 decimals), `level` (lower
    case), `logger`, `msg`, then its fields (`extra={"fields": {...}}` and any other `extra`
    attribute), and `exc` (the traceback) when it carries an exception."""

    def __init__(self) -> None:
        super().__init__(
            ["name", "message"],
            reserved_attrs=[*RESERVED_ATTRS, "fields"],
            rename_fields=RENAMED,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["ts"] = round(record.created, 3)
        log_data["level"] = record.levelname.lower()
        super().add_fields(log_data, record, message_dict)
        fields = record.__dict__.get("fields")
        if isinstance(fields, dict):
            log_data.update(fields)


class JsonLinesHandler(logging.StreamHandler[TextIO]):
    """The gateway's handler: `JsonFormatter` lines on a stream (stderr), for the records of
    our loggers while nobody configured logging (the root logger has no handlers: then no other
    handler would write them, and Python would print only warnings, as plain text)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())

    def filter(self, record: logging.LogRecord) -> bool:
        return not logging.root.handlers and bool(super().filter(record))


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
    """Our loggers at `level` (`LOG_LEVEL`), with our handler (once, however many apps are
    made), and the redaction filter on the server's access logger. Nothing else in logging is
    changed: no root handler, no `propagate=False`, no module-wide setting."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level)
    if not any(isinstance(h, JsonLinesHandler) for h in logger.handlers):
        logger.addHandler(JsonLinesHandler(sys.stderr))
    # Installed here, by the app itself, rather than by a server option: the README's manual
    # `uvicorn main:app --reload` has uvicorn's access log on.
    for name in SERVER_ACCESS_LOGGERS:
        server_access = logging.getLogger(name)
        if not any(isinstance(f, QueryRedaction) for f in server_access.filters):
            server_access.addFilter(QueryRedaction())
