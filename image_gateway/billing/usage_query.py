"""What `GET /v1/usage` asks of the usage ledger (`UsageQuery`) and the groupings it offers.
Without SQLAlchemy: the route builds it, and the store (`billing/usage_store.py`) loads on
first use (issue 16)."""

from __future__ import annotations

from dataclasses import dataclass

# group_by name -> the columns it groups (and returns) by
GROUPS: dict[str, tuple[str, ...]] = {
    "day": ("day",),
    "key": ("key_id", "key_name"),
    "user_id": ("user_id",),
    "provider": ("provider",),
    "model": ("provider", "model"),
}


@dataclass(frozen=True, slots=True)
class UsageQuery:
    group_by: tuple[str, ...] = ()
    start: str | None = None  # "YYYY-MM-DD", inclusive
    end: str | None = None  # "YYYY-MM-DD", inclusive
    key_id: str | None = None
    key_name: str | None = None  # with key_id None: a GATEWAY_API_KEYS/development client
    own_env_client: bool = False  # restrict to rows without key_id for `key_name`
    user_id: str | None = None
    provider: str | None = None
    model: str | None = None
    limit: int = 1000
