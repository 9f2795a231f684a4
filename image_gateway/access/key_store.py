"""Stored gateway keys: create, list, get, revoke, and the hot-path lookup by hash."""

from __future__ import annotations

import hmac

from sqlalchemy import select, update

from image_gateway.access.auth import Client
from image_gateway.access.keys import NewKey, mint_key, new_key_id
from image_gateway.access.stored_keys import StoredKey
from image_gateway.db.engine import Database
from image_gateway.db.tables import api_keys
from image_gateway.db.values import to_micros, utcnow


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
