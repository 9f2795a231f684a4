"""A provider's own charge, in its own unit, as a `schemas.Charge` in USD.

Providers that bill in credits say so in their answers (BFL's `cost` on submit); what a credit
is worth is that provider's fact, declared in its folder with its source, never assumed by
pricing (`billing/pricing.py` takes the `Charge` as it is: its basis is "provider").
"""

from __future__ import annotations

from dataclasses import dataclass

from image_gateway.schemas import Charge


@dataclass(frozen=True, slots=True)
class CreditPrice:
    """What one of a provider's credits costs: `usd` per credit, and where that is stated."""

    usd: float
    source: str

    def charge(self, credits: float | None) -> Charge | None:
        """The charge for `credits` of this provider's credits; None when it gave no figure."""
        if credits is None:
            return None
        return Charge(credits * self.usd, credits=credits)
