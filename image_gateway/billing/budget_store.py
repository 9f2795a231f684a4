"""Monthly budgets: reserve an estimate before the provider is called, settle with the cost.

`reserve` runs in one write transaction that holds the key row (PostgreSQL `SELECT ... FOR
UPDATE`; SQLite `BEGIN IMMEDIATE`), so concurrent requests see each other's reservations: with
a budget that covers one request, exactly one of N simultaneous requests gets through. The
check is `spent this month + live reservations + estimate <= budget`, all read in that same
transaction. `settle` releases the reservation, adds the real cost to the month's spend and
writes the ledger row — again in one transaction; `release` drops a reservation that was never
used. Reservations expire (`limit_lease_seconds`) so an instance that dies mid-request cannot
hold budget forever; `renew` holds one (a queued job's) for another such period from now.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update

from image_gateway.db.engine import Database
from image_gateway.db.tables import api_keys, budget_reservations, usage
from image_gateway.db.values import MICROS, month_of, utcnow
from image_gateway.errors import BudgetExceeded, PermissionDenied


class BudgetStore:
    def __init__(self, db: Database, *, reservation_seconds: float) -> None:
        self.db = db
        self.reservation_seconds = reservation_seconds

    async def reserve(self, key_id: str, estimate_micros: int | None) -> str:
        """Hold `estimate_micros` against the key's budget; the reservation id, or
        BudgetExceeded. An unknown estimate needs at least one micro-dollar left."""
        now = utcnow()
        month = month_of(now)
        need = _held(estimate_micros)
        async with self.db.write() as conn:
            query = select(
                api_keys.c.monthly_budget_micros,
                api_keys.c.spend_month,
                api_keys.c.spend_micros,
                api_keys.c.revoked_at,
            ).where(api_keys.c.id == key_id)
            if self.db.dialect == "postgresql":
                query = query.with_for_update()
            row = (await conn.execute(query)).first()
            if row is None or row.revoked_at is not None:
                raise PermissionDenied("this key has been revoked", code="key_revoked")
            budget = row.monthly_budget_micros
            reservation_id = f"res_{secrets.token_hex(12)}"
            if budget is None:
                return reservation_id  # the budget was lifted since the key was cached
            await conn.execute(
                delete(budget_reservations).where(
                    budget_reservations.c.key_id == key_id,
                    budget_reservations.c.expires_at <= now,
                )
            )
            held = (
                await conn.execute(
                    select(func.coalesce(func.sum(budget_reservations.c.amount_micros), 0)).where(
                        budget_reservations.c.key_id == key_id
                    )
                )
            ).scalar_one()
            spent = row.spend_micros if row.spend_month == month else 0
            if spent + int(held) + need > budget:
                raise BudgetExceeded(_refusal(budget, spent, int(held), estimate_micros))
            await conn.execute(
                insert(budget_reservations).values(
                    id=reservation_id,
                    key_id=key_id,
                    amount_micros=need,
                    expires_at=now + timedelta(seconds=self.reservation_seconds),
                )
            )
        return reservation_id

    async def renew(self, reservation_id: str, key_id: str, estimate_micros: int | None) -> None:
        """Hold a reservation `reserve` made for another period from now; one that expired (and
        was deleted) is put back as it was, without checking the budget again."""
        expires = utcnow() + timedelta(seconds=self.reservation_seconds)
        async with self.db.write() as conn:
            await conn.execute(
                delete(budget_reservations).where(budget_reservations.c.id == reservation_id)
            )
            await conn.execute(
                insert(budget_reservations).values(
                    id=reservation_id,
                    key_id=key_id,
                    amount_micros=_held(estimate_micros),
                    expires_at=expires,
                )
            )

    async def release(self, reservation_id: str) -> None:
        """Drop a reservation that no request used (nothing is charged or recorded)."""
        async with self.db.write() as conn:
            await conn.execute(
                delete(budget_reservations).where(budget_reservations.c.id == reservation_id)
            )

    async def settle(
        self, reservation_id: str, key_id: str, cost_micros: int, ledger_rows: list[dict[str, Any]]
    ) -> None:
        """Release the reservation, charge the cost to this month, write the ledger rows."""
        month = month_of(utcnow())
        async with self.db.write() as conn:
            await conn.execute(
                delete(budget_reservations).where(budget_reservations.c.id == reservation_id)
            )
            if cost_micros:
                same_month = api_keys.c.spend_month == month
                await conn.execute(
                    update(api_keys)
                    .where(api_keys.c.id == key_id)
                    .values(
                        spend_micros=case(
                            (same_month, api_keys.c.spend_micros + cost_micros),
                            else_=cost_micros,
                        ),
                        spend_month=month,
                    )
                )
            await conn.execute(insert(usage), ledger_rows)


def _held(estimate_micros: int | None) -> int:
    """What a reservation holds: the estimate, or one micro-dollar when it is unknown."""
    return max(estimate_micros or 0, 1 if estimate_micros is None else 0)


def _refusal(budget: int, spent: int, held: int, estimate: int | None) -> str:
    text = (
        f"this key's monthly budget of ${budget / MICROS:.2f} does not cover this request "
        f"(spent ${spent / MICROS:.4f} this month, ${held / MICROS:.4f} held by requests in "
        "flight"
    )
    if estimate is not None:
        text += f", this request needs up to ${estimate / MICROS:.4f}"
    return text + ")"
