"""Wires keys, budgets, limits and the usage ledger from settings, for the app and the CLI.

`Persistence(settings)` builds everything without I/O; `start()` migrates the database to the
newest schema and starts the ledger writer; `close()` flushes the ledger and closes the
database and Redis connections.

The stores (`keys`, `usage`, `budgets`) are made on first use, and their modules (with
SQLAlchemy, ~0.16 s) imported then: never by `import main`, nor, on SQLite, by start-up's
migration check (`db/schema.py`) (issue 16; tests/test_startup.py).
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from image_gateway.access.auth import Authenticator, Client
from image_gateway.access.key_controls import KeyControls
from image_gateway.access.ratelimit import Limiter, LocalLimiter, RedisLimiter
from image_gateway.billing.ledger import LedgerWriter
from image_gateway.billing.pricing import PriceTable
from image_gateway.db.engine import Database
from image_gateway.settings import Settings

if TYPE_CHECKING:
    from image_gateway.access.key_store import KeyStore
    from image_gateway.billing.budget_store import BudgetStore
    from image_gateway.billing.usage_store import UsageStore

log = logging.getLogger("image_gateway.store")


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or migrated at start-up (the gateway does not start)."""


class Persistence:
    def __init__(self, settings: Settings) -> None:
        self.db = Database(
            settings.database_url.get_secret_value(),
            timeout_seconds=settings.database_timeout_seconds,
        )
        self._reservation_seconds = settings.limit_lease_seconds
        self.ledger = LedgerWriter(
            self._insert_usage,
            batch_size=settings.ledger_batch_size,
            flush_seconds=settings.ledger_flush_seconds,
            queue_max=settings.ledger_queue_max,
        )
        limiter: Limiter
        if settings.redis_url is not None:
            limiter = RedisLimiter(
                settings.redis_url.get_secret_value(),
                prefix=settings.redis_key_prefix,
                timeout_seconds=settings.redis_timeout_seconds,
            )
        else:
            limiter = LocalLimiter()
        self.controls = KeyControls(
            limiter=limiter,
            budgets=lambda: self.budgets,
            ledger=self.ledger,
            prices=PriceTable.load(),
            lease_seconds=settings.limit_lease_seconds,
        )
        admin = settings.admin_api_key
        self.authenticator = Authenticator(
            [key.get_secret_value() for key in settings.gateway_api_keys],
            admin_key=admin.get_secret_value() if admin else None,
            lookup=self._find_client,
            cache_seconds=settings.key_cache_seconds,
        )
        self.shared_limits = settings.redis_url is not None
        # With Redis, provider concurrency (BFL's 24 tasks) is counted across all instances by
        # the same limiter as the keys' limits; without, each process counts its own.
        self.shared_slots = limiter if self.shared_limits else None

    @cached_property
    def keys(self) -> KeyStore:
        from image_gateway.access.key_store import KeyStore

        return KeyStore(self.db)

    @cached_property
    def usage(self) -> UsageStore:
        from image_gateway.billing.usage_store import UsageStore

        return UsageStore(self.db)

    @cached_property
    def budgets(self) -> BudgetStore:
        from image_gateway.billing.budget_store import BudgetStore

        return BudgetStore(self.db, reservation_seconds=self._reservation_seconds)

    async def _find_client(self, key_hash: str) -> Client | None:
        return await self.keys.find_client(key_hash)

    async def _insert_usage(self, rows: list[dict[str, Any]]) -> None:
        await self.usage.insert_many(rows)

    async def start(self) -> None:
        from image_gateway.db.schema import sqlite_ready

        try:
            # SQLite at the newest revision, or new: checked (and built) without SQLAlchemy.
            if not sqlite_ready(self.db):
                from image_gateway.db.migrate import upgrade

                await upgrade(self.db)
        except Exception as exc:
            # The driver's text may quote the URL; say which database and what kind of failure.
            raise StoreUnavailable(
                f"cannot open or migrate DATABASE_URL ({self.db.display_url}): {type(exc).__name__}"
            ) from None
        self.ledger.start()
        log.info(
            "store ready",
            extra={
                "fields": {
                    "database": self.db.display_url,
                    "limits": "redis" if self.shared_limits else "in-process",
                }
            },
        )

    async def close(self) -> None:
        await self.ledger.close()
        await self.controls.close()
        await self.db.close()
