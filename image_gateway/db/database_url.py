"""`DATABASE_URL` handling that settings validation needs without importing SQLAlchemy."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SQLITE = "sqlite+aiosqlite"
POSTGRES = "postgresql+asyncpg"
_SCHEMES = {
    "sqlite": SQLITE,
    SQLITE: SQLITE,
    "postgres": POSTGRES,
    "postgresql": POSTGRES,
    POSTGRES: POSTGRES,
}


def normalize_database_url(url: str) -> str:
    """`postgres://` / `postgresql://` -> `postgresql+asyncpg://`, `sqlite://` ->
    `sqlite+aiosqlite://`; anything else is refused (ValueError names what is accepted)."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    driver = _SCHEMES.get(scheme.lower()) if sep else None
    if driver is None:
        raise ValueError("must be sqlite+aiosqlite:///path/to/file.db or postgresql://user@host/db")
    if driver == SQLITE and (":memory:" in rest or rest in ("", "/")):
        raise ValueError("SQLite needs a file path, e.g. sqlite+aiosqlite:///data/gateway.db")
    return f"{driver}://{rest}"


def redact_database_url(url: str) -> str:
    """The URL without its password, for log lines."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))
