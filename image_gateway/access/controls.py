"""The seam between dispatch and per-key controls (quotas, budgets, the usage ledger).

The dispatcher's pre-flight calls `admit()` before any upstream call — it may refuse (rate
limit, budget, a provider or model the key may not use) — and every admission ends exactly once:
`settle()` after a provider was tried, with what actually happened (which provider and model
served, images, cost, and the rows of earlier candidates that may have been charged:
`Outcome.earlier`), success or failure; or `release()` when nothing was tried (a job
canceled while queued, a refusal found later). A job is admitted when it is submitted and keeps
its admission (`Admission.data`, JSON) in its row until it ends; its worker calls `renew()` when
it starts running it, since what the admission holds expires (LIMIT_LEASE_SECONDS) so that a
crashed instance cannot hold it for ever. The implementation is `key_controls.KeyControls`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from image_gateway.access.auth import Client
from image_gateway.billing.ledger import Outcome
from image_gateway.schemas import ImageTask


@dataclass(slots=True)
class Admission:
    """A request admitted by `admit()`; `data` is what it holds (JSON-compatible, kept with a
    job): the implementation's slot and reservation ids."""

    client: Client
    provider: str
    model: str
    user_id: str | None
    request_id: str | None
    data: dict[str, Any] = field(default_factory=dict)  # implementation-specific state


class RequestControls(Protocol):
    async def admit(
        self,
        client: Client,
        task: ImageTask,
        *,
        user_id: str | None,
        request_id: str | None,
        fallbacks: Sequence[ImageTask] = (),
    ) -> Admission:
        """Raise a GatewayError to refuse; return the admission to settle later. `task` is the
        primary's; `fallbacks` the tasks of the other candidates that may be called."""

    async def settle(self, admission: Admission, outcome: Outcome) -> None:
        """End an admission after a provider was tried; records the outcome; never raises."""

    async def release(self, admission: Admission) -> None:
        """End an admission that tried no provider: give back what it holds, record nothing;
        never raises."""

    async def renew(self, admission: Admission) -> None:
        """Hold what `admission` holds for another lease period from now, taking back what has
        expired without counting it again (the request was admitted); never raises."""
