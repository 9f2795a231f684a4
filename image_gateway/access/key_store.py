"""Stored gateway keys: create, list, get, revoke, and the hot-path lookup by hash."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from image_gateway.access.auth import ALL_SCOPES, Client, KeyPolicy
from image_gateway.access.keys import NewKey, mint_key, new_key_id
from image_gateway.db.engine import Database
from image_gateway.db.tables import MICROS, api_keys, month_of, to_micros, utcnow


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


class KeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, new: NewKey) -> tuple[StoredKey, str]:
        """Store a key; returns it and its text (the only time the text exists)."""
        text, prefix, digest = mint_key()
        key_id = new_key_id()
        values: dict[str, object] = {
            "id": key_id,
            "name": new.name,
            "prefix": prefix,
            "key_hash": digest,
            "scopes": list(new.scopes),
            "allowed_providers": new.allowed_providers,
            "allowed_models": new.allowed_models,
            "requests_per_minute": new.requests_per_minute,
            "max_concurrent": new.max_concurrent,
            "monthly_budget_micros": (
                None if new.monthly_budget_usd is None else to_micros(new.monthly_budget_usd)
            ),
            "spend_month": None,
            "spend_micros": 0,
            "created_at": utcnow(),
            "revoked_at": None,
        }
        async with self.db.write() as conn:
            await conn.execute(api_keys.insert().values(**values))
        stored = await self.get(key_id)
        assert stored is not None
        return stored, text

    async def list_keys(self, *, include_revoked: bool = True) -> list[StoredKey]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [StoredKey.from_row(row) for row in rows]

    async def get(self, key_id: str) -> StoredKey | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        return None if row is None else StoredKey.from_row(row)

    async def revoke(self, key_id: str) -> StoredKey | None:
        """Revoke (idempotent: a revoked key keeps its first revocation time)."""
        async with self.db.write() as conn:
            await conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        return await self.get(key_id)

    async def find_client(self, key_hash: str) -> Client | None:
        """The live key whose stored hash is `key_hash` (bound parameter, unique index)."""
        query = select(api_keys).where(
            api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None or not hmac.compare_digest(row._mapping["key_hash"], key_hash):
            return None
        return StoredKey.from_row(row).client()


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _frozen(value: tuple[str, ...] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def _list(value: tuple[str, ...] | None) -> list[str] | None:
    return None if value is None else list(value)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(tzinfo=UTC).isoformat()
