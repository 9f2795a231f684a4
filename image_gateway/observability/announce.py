"""The start-up line that tells a person where the gateway answers: its API base URL, its docs
and its playground, e.g. `{"msg": "image-gateway ready: API http://127.0.0.1:8000/v1, docs
http://127.0.0.1:8000/docs, playground http://127.0.0.1:8000/playground", "api_base": …,
"docs": …, "redoc": …, "playground": …}`.

The app cannot know its own address: the server binds its socket after the app has started.
Uvicorn logs the address it bound (`"Uvicorn running on %s://%s:%d …"` on the logger
`uvicorn.error`, or `"… on socket %s …"` for `--fd`), so while the app runs, a filter on that
logger reads the record's arguments and logs our line next to it. A server that logs no such
record (another ASGI server, uvicorn at `--log-level warning`, pre-bound sockets as in the
tests) gets no line; with `PUBLIC_BASE_URL` set, the public URLs are logged at start-up anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("image_gateway")

UVICORN_LOGGER = "uvicorn.error"
RUNNING = "Uvicorn running on "
ALL_INTERFACES = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 - not a bind


def urls(base: str) -> dict[str, str]:
    """The URLs a person needs, from the gateway's base URL (`http://host:port`)."""
    base = base.rstrip("/")
    return {
        "api_base": f"{base}/v1",
        "docs": f"{base}/docs",
        "redoc": f"{base}/redoc",
        "playground": f"{base}/playground",
    }


def log_urls(base: str, **fields: Any) -> None:
    found = urls(base)
    log.info(
        f"image-gateway ready: API {found['api_base']}, docs {found['docs']}, "
        f"playground {found['playground']}",
        extra={"fields": {**found, **fields}},
    )


def bound_base_url(record: logging.LogRecord) -> tuple[str, bool] | None:
    """`(base URL, listening on all interfaces)` from uvicorn's "running on" record, else None.
    A wildcard address is shown as the loopback one, which a browser on this machine reaches."""
    if not isinstance(record.msg, str) or not record.msg.startswith(RUNNING):
        return None
    args = record.args if isinstance(record.args, tuple) else ()
    if len(args) == 3:  # scheme, host, port
        scheme, host, port = args
    elif len(args) == 1 and isinstance(args[0], tuple) and len(args[0]) >= 2:  # --fd
        scheme, (host, port) = "http", args[0][:2]
    else:
        return None  # a unix socket: no URL
    wildcard = str(host) in ALL_INTERFACES
    host = ALL_INTERFACES.get(str(host), str(host))
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}", wildcard


def _same(base: str, public_base_url: str | None) -> bool:
    """The bound URL is the public one, already logged: no second line saying the same."""
    return public_base_url is not None and base.rstrip("/") == public_base_url.rstrip("/")


@contextmanager
def announce_urls(public_base_url: str | None) -> Iterator[None]:
    """While the app runs, log its URLs once uvicorn says where it listens (unless that is
    `PUBLIC_BASE_URL`, logged at once)."""
    if public_base_url:
        log_urls(public_base_url, source="PUBLIC_BASE_URL")

    def on_record(record: logging.LogRecord) -> bool:
        bound = bound_base_url(record)
        if bound is not None and not _same(bound[0], public_base_url):
            base, wildcard = bound
            extra = {"all_interfaces": True} if wildcard else {}
            log_urls(base, **extra)
        return True  # uvicorn's own line is kept

    logger = logging.getLogger(UVICORN_LOGGER)
    logger.addFilter(on_record)
    try:
        yield
    finally:
        logger.removeFilter(on_record)
