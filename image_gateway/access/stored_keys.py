"""A stored gateway key as data (`StoredKey`): its row, what it grants (`client()`) and what
the admin API shows of it (`public()`). Without SQLAlchemy: the admin routes use it, and the
store (`access/key_store.py`) loads on first use (issue 16)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from image_gateway.access.auth import ALL_SCOPES, Client, KeyPolicy
from image_gateway.db.values import MICROS, month_of, utcnow


@dataclass(frozen=True, slots=True)
class StoredKey:
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    allowed_providers: tuple[str, ...] | None
    allowed_models: tuple[str, ...] | None
    requests_per_minute: int | None
    max_concurrent: int | None
    monthly_budget_micros: int | None
    spend_month: str | None
    spend_micros: int
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> StoredKey:
        m = row._mapping
        return cls(
            id=m["id"],
            name=m["name"],
            prefix=m["prefix"],
            scopes=tuple(m["scopes"]),
            allowed_providers=_tuple(m["allowed_providers"]),
            allowed_models=_tuple(m["allowed_models"]),
            requests_per_minute=m["requests_per_minute"],
            max_concurrent=m["max_concurrent"],
            monthly_budget_micros=m["monthly_budget_micros"],
            spend_month=m["spend_month"],
            spend_micros=m["spend_micros"] or 0,
            created_at=m["created_at"],
            revoked_at=m["revoked_at"],
        )

    def client(self) -> Client:
        budget = self.monthly_budget_micros
        policy = KeyPolicy(
            allowed_providers=_frozen(self.allowed_providers),
            allowed_models=_frozen(self.allowed_models),
            requests_per_minute=self.requests_per_minute,
            max_concurrent=self.max_concurrent,
            monthly_budget_usd=None if budget is None else budget / MICROS,
            scopes=frozenset(self.scopes) & ALL_SCOPES,
        )
        return Client(self.name, key_id=self.id, policy=policy)

    def public(self) -> dict[str, Any]:
        """What the admin API and the CLI show (never the key or its hash)."""
        budget = self.monthly_budget_micros
        this_month = month_of(utcnow())
        spent = self.spend_micros if self.spend_month == this_month else 0
        return {
            "id": self.id,
            "object": "gateway_key",
            "name": self.name,
            "prefix": self.prefix,
            "scopes": list(self.scopes),
            "allowed_providers": _list(self.allowed_providers),
            "allowed_models": _list(self.allowed_models),
            "requests_per_minute": self.requests_per_minute,
            "max_concurrent": self.max_concurrent,
            "monthly_budget_usd": None if budget is None else budget / MICROS,
            # Tracked against a budget only; GET /v1/usage has every key's cost.
            "month_spend_usd": None if budget is None else spent / MICROS,
            "created_at": _iso(self.created_at),
            "revoked_at": _iso(self.revoked_at),
            "active": self.revoked_at is None,
        }


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _frozen(value: tuple[str, ...] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def _list(value: tuple[str, ...] | None) -> list[str] | None:
    return None if value is None else list(value)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(tzinfo=UTC).isoformat()
