"""`KeyControls`: the gateway's `RequestControls` — what a key may do, and what it did.

`admit()` runs before any upstream call and refuses, in this order:
  scope (`edit` for tasks with input images, else `generate`; the admin key never) -> 403
  provider/model not allowed for the key                                          -> 403
  a key with a budget, and a candidate (primary or fallback) without a known price -> 403
  requests per minute                                          -> 429 + Retry-After
  concurrent generations                                       -> 429 + Retry-After
  monthly budget (atomic reservation of the estimated cost)    -> 402 budget_exceeded
An unlimited key (every `GATEWAY_API_KEYS` key, and stored keys without limits) costs two
set lookups here: no database, no Redis.

`settle()` runs exactly once afterwards and never raises: it releases the concurrency slot and
records the ledger rows with the cost the dispatcher priced — in the budget transaction for keys
with a budget (so spend is exact), otherwise through the batched background writer. A budget is
charged what the rows cost, the estimate of calls whose outcome is unknown included: they may
have been charged, and a budget is a ceiling on what the key may be charged. `release()` ends
an admission that called no provider (a job canceled while queued): the slot and the
reservation are given back and nothing is recorded. `renew()` (a job's worker, as it starts)
holds both for another LIMIT_LEASE_SECONDS from now, re-taking one that expired while the job
waited without checking the limit or the budget again: the job was admitted when it was
submitted, and its client was told so.

What an admission holds is JSON (`Admission.data`: `lease` = [limit key, lease id],
`reservation`, `estimate` in USD), kept in a job's row between submission and its end.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from image_gateway.access.auth import Client
from image_gateway.access.controls import Admission
from image_gateway.access.ratelimit import Limiter, retry_after
from image_gateway.billing.ledger import LedgerWriter, Outcome
from image_gateway.billing.pricing import PriceTable
from image_gateway.db.values import MICROS, to_micros, utcnow
from image_gateway.errors import GatewayError, PermissionDenied, RateLimited, ServiceUnavailable
from image_gateway.schemas import ImageTask

if TYPE_CHECKING:
    from image_gateway.billing.budget_store import BudgetStore

log = logging.getLogger("image_gateway.controls")


class KeyControls:
    def __init__(
        self,
        *,
        limiter: Limiter,
        budgets: Callable[[], BudgetStore],
        ledger: LedgerWriter,
        prices: PriceTable,
        lease_seconds: float,
    ) -> None:
        self.limiter = limiter
        # The store, made on first use: only keys with a budget need it (and SQLAlchemy).
        self.budgets = budgets
        self.ledger = ledger
        self.prices = prices
        self.lease_seconds = lease_seconds

    async def admit(
        self,
        client: Client,
        task: ImageTask,
        *,
        user_id: str | None,
        request_id: str | None,
        fallbacks: Sequence[ImageTask] = (),
    ) -> Admission:
        policy = client.policy
        if client.admin:
            raise PermissionDenied(
                "the admin key manages keys and reads usage; it cannot generate images — "
                "create a client key with POST /v1/admin/keys",
                code="admin_key_cannot_generate",
            )
        scope = "edit" if task.is_edit else "generate"
        if scope not in policy.scopes:
            raise PermissionDenied(f"this key lacks the {scope!r} scope", code="missing_scope")
        if not policy.allows(task.provider, task.model):
            raise PermissionDenied(
                f"this key may not use {task.provider}/{task.model}",
                param="model",
                code="model_not_allowed",
            )
        if policy.monthly_budget_usd is not None:
            self._refuse_unpriced(task, fallbacks)
        admission = Admission(client, task.provider, task.model, user_id, request_id)
        if not policy.limited:
            return admission
        limit_key = client.key_id or f"env:{client.name}"
        if policy.requests_per_minute is not None:
            wait = await self.limiter.hit(limit_key, policy.requests_per_minute)
            if wait is not None:
                raise RateLimited(
                    f"this key's limit of {policy.requests_per_minute} requests per minute is "
                    "reached",
                    headers={"Retry-After": retry_after(wait)},
                )
        if policy.max_concurrent is not None:
            lease = secrets.token_hex(8)
            if not await self.limiter.acquire(
                limit_key, policy.max_concurrent, lease, self.lease_seconds
            ):
                raise RateLimited(
                    f"this key's limit of {policy.max_concurrent} concurrent generations is "
                    "reached",
                    code="concurrency_limit_exceeded",
                    headers={"Retry-After": "1"},
                )
            admission.data["lease"] = (limit_key, lease)
        if policy.monthly_budget_usd is not None and client.key_id is not None:
            estimate = self.prices.estimate(task)
            reserved = False
            try:
                admission.data["reservation"] = await self._reserve(client.key_id, estimate)
                reserved = True
            finally:
                if not reserved:
                    await self._release(admission)
            admission.data["estimate"] = estimate
        return admission

    def _refuse_unpriced(self, task: ImageTask, fallbacks: Sequence[ImageTask]) -> None:
        """403 `unpriced_model` when the primary or any fallback has no price in the table: its
        cost cannot be held against a budget, and a budget is a hard cap (checked before any
        counting, so a refusal takes no rate-limit slot)."""
        for index, candidate in enumerate([task, *fallbacks]):
            if self.prices.estimate(candidate) is not None:
                continue
            which = "the model" if index == 0 else "a fallback"
            raise PermissionDenied(
                f"this key has a monthly budget, and {which} {candidate.provider}/"
                f"{candidate.model} has no known price, so its cost cannot be held against the "
                "budget; an operator can add its price to image_gateway/billing/prices.json, or "
                "use a key without a budget",
                param="model" if index == 0 else "fallbacks",
                code="unpriced_model",
            )

    async def settle(self, admission: Admission, outcome: Outcome) -> None:
        try:
            rows = [self._ledger_row(admission, o) for o in outcome.rows()]
            reservation = admission.data.get("reservation")
            if reservation is None:
                for row in rows:
                    self.ledger.submit(row)
                return
            cost = sum(row["cost_micros"] or 0 for row in rows)
            if not cost and any(
                row["cost_micros"] is None and row["status"] != "failed" for row in rows
            ):
                # No price known for what was (or may have been) made: charge the
                # reservation's estimate rather than nothing.
                estimate = admission.data.get("estimate")
                cost = 0 if estimate is None else to_micros(estimate)
            try:
                await self.budgets().settle(reservation, str(admission.client.key_id), cost, rows)
            except Exception as exc:
                # The reservation expires on its own; keep the row through the writer.
                log.warning(
                    "budget settlement failed; the reservation will expire",
                    extra={
                        "fields": {
                            "request_id": admission.request_id,
                            "error": type(exc).__name__,
                        }
                    },
                )
                for row in rows:
                    self.ledger.submit(row)
        except Exception:
            log.exception("settling a request failed")
        finally:
            await self._release(admission)

    async def release(self, admission: Admission) -> None:
        reservation = admission.data.pop("reservation", None)
        try:
            if reservation is not None:
                await self.budgets().release(reservation)
        except Exception as exc:
            # The reservation expires on its own.
            log.warning(
                "releasing a budget reservation failed; it will expire",
                extra={"fields": {"request_id": admission.request_id, "error": type(exc).__name__}},
            )
        finally:
            await self._release(admission)

    async def renew(self, admission: Admission) -> None:
        lease = admission.data.get("lease")
        reservation = admission.data.get("reservation")
        try:
            if lease is not None:
                limit_key, lease_id = lease
                await self.limiter.renew(limit_key, lease_id, self.lease_seconds)
            if reservation is not None and admission.client.key_id is not None:
                estimate = admission.data.get("estimate")
                await self.budgets().renew(
                    reservation,
                    admission.client.key_id,
                    None if estimate is None else to_micros(estimate),
                )
        except Exception as exc:
            # What it holds is most likely still there (it expires after LIMIT_LEASE_SECONDS).
            log.warning(
                "renewing an admission failed",
                extra={"fields": {"request_id": admission.request_id, "error": type(exc).__name__}},
            )

    async def _reserve(self, key_id: str, estimate: float | None) -> str:
        try:
            return await self.budgets().reserve(
                key_id, None if estimate is None else to_micros(estimate)
            )
        except GatewayError:
            raise
        except Exception as exc:
            log.warning(
                "budget reservation failed", extra={"fields": {"error": type(exc).__name__}}
            )
            raise ServiceUnavailable(
                "the budget store is unavailable; try again shortly",
                code="budget_store_unavailable",
            ) from None

    async def close(self) -> None:
        await self.limiter.close()

    async def _release(self, admission: Admission) -> None:
        lease = admission.data.pop("lease", None)
        if lease is not None:
            await self.limiter.release(*lease)

    def _ledger_row(self, admission: Admission, outcome: Outcome) -> dict[str, Any]:
        cost = outcome.cost_usd
        now = utcnow()
        client = admission.client
        return {
            "created_at": now,
            "day": now.date().isoformat(),
            "request_id": admission.request_id,
            "key_id": client.key_id,
            "key_name": client.name,
            "user_id": _clip(admission.user_id, 256),
            "provider": outcome.provider,
            "model": _clip(outcome.model, 200),
            "status": outcome.status,
            "error_code": _clip(outcome.error_code, 64),
            "images": outcome.images,
            "size": _clip(outcome.size, 16),
            "quality": _clip(outcome.quality, 16),
            "latency_ms": round(outcome.latency_ms, 2),
            "cost_micros": None if cost is None else round(cost * MICROS),
        }


def _clip(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]
