"""The seam between dispatch and per-key controls (quotas, budgets, the usage ledger).

The dispatcher calls `admit()` before any upstream call — it may refuse (rate limit, budget,
a provider or model the key may not use) — and `settle()` exactly once afterwards, with what
actually happened (which provider and model served, images, cost), success or failure.
The implementation is `key_controls.KeyControls`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .auth import Client
from .schemas import ImageTask


@dataclass(slots=True)
class Admission:
    client: Client
    provider: str
    model: str
    user_id: str | None
    request_id: str | None
    data: dict[str, Any] = field(default_factory=dict)  # implementation-specific state


@dataclass(slots=True)
class Outcome:
    provider: str  # the one that served (after fallbacks), or the last one tried
    model: str
    status: str  # "succeeded" | "failed"
    images: int = 0
    size: str | None = None
    quality: str | None = None
    error_code: str | None = None
    latency_ms: float = 0.0
    usage: dict[str, Any] | None = None
    cost_usd: float | None = None  # from prices.json; None when the model has no price


class RequestControls(Protocol):
    async def admit(
        self, client: Client, task: ImageTask, *, user_id: str | None, request_id: str | None
    ) -> Admission:
        """Raise a GatewayError to refuse; return the admission to settle later."""

    async def settle(self, admission: Admission, outcome: Outcome) -> None: ...
