"""What a request spent, as usage-ledger outcomes: who was paid (or may have been), for what.

After the resilient run the dispatcher turns what happened (`resilience.runner.Trace`, the
result) into `ledger.Outcome`s:
- the row of the candidate that served, or of the last one tried: its images, the size and
  quality made (the provider's answer, else the request, else the model's documented default)
  and their price (`pricing.PriceTable.price`), plus the calls of that candidate that cost
  money without serving (a fanned-out call whose sibling failed) or whose outcome is unknown;
- one row more for each earlier candidate (a fallback chain) whose calls cost, or may have
  cost, money, so the possible charge is booked to the provider that may have made it.
A row is "succeeded" when it served the images, "unknown" when one of its calls may have been
charged without an answer (`ProviderError.billed_unknown`: reset or read timeout after
sending, a task accepted then lost, a job interrupted by a restart; or a call cancelled for
good after it was sent: a departed client's call stopped at shutdown, a job canceled while it
ran; its estimated cost is what was asked for, at table prices), else "failed". A row's cost
is everything it spent or may have spent, withheld images the provider bills included
(`ProviderResult.withheld_billed`, and a failure's `GatewayError.billed`); budgets are charged the
same.
"""

from __future__ import annotations

from typing import Any

from image_gateway.billing.ledger import Outcome
from image_gateway.billing.pricing import Priced, PriceTable
from image_gateway.resilience.runner import Candidate, Spent, Trace
from image_gateway.schemas import ImageTask, ProviderResult

SUCCEEDED, FAILED, UNKNOWN = "succeeded", "failed", "unknown"


def made(
    candidate: Candidate,
    task: ImageTask,
    answer: dict[str, Any],
    measured: str | None = None,
) -> tuple[str | None, str | None]:
    """The size ("WxH") and quality of what a call made, or was asked to make: the provider's
    own report in its answer (OpenAI's GPT-image `size`, `quality`), else the size read from
    the image (`measured`: a provider may fit what was asked), else the request's value, else
    the model's documented default; None where the model decides (`auto`) unseen."""
    spec = candidate.spec
    size = _concrete(answer.get("size")) or _concrete(measured)
    if size is None and task.size is not None:
        size = f"{task.size[0]}x{task.size[1]}"
    quality = _concrete(answer.get("quality")) or _concrete(task.quality)
    return size or spec.default_size, quality or spec.default_quality


def price_result(
    prices: PriceTable, candidate: Candidate, task: ImageTask, result: ProviderResult
) -> Priced:
    """What a call (or a candidate's fanned-out calls) that returned `result` cost."""
    size, quality = made(candidate, task, result.extra, _measured(result))
    return prices.price(
        candidate.provider.name,
        candidate.spec.id,
        images=len(result.images) + result.withheld_billed,
        size=size,
        quality=quality,
        usage=result.usage,
        charge=result.charge,
        inputs=len(task.images),
        params=task.params,
    )


def price_unknown(prices: PriceTable, candidate: Candidate, task: ImageTask) -> Priced:
    """The estimated cost of a call whose outcome is unknown: what it asked for."""
    size, quality = made(candidate, task, {})
    return prices.price(
        candidate.provider.name,
        candidate.spec.id,
        images=task.n,
        size=size,
        quality=quality,
        inputs=len(task.images),
        params=task.params,
    )


def account(
    prices: PriceTable,
    final: Outcome,
    primary: Candidate,
    trace: Trace,
    result: ProviderResult | None,
) -> Priced | None:
    """Fill `final` (provider, model, status, size, quality, cost, `earlier` rows) from the
    run; the price of the served images (the response's `cost`), or None when none served."""
    candidate = trace.tried or primary
    index = trace.index if trace.tried is not None else 0
    final.provider, final.model = candidate.provider.name, candidate.spec.id
    parts = [s for s in trace.spent if s.index == index]
    served: Priced | None = None
    if result is not None:
        final.status, final.images, final.usage = SUCCEEDED, len(result.images), result.usage
        final.size, final.quality = made(candidate, candidate.task, result.extra, _measured(result))
        served = price_result(prices, candidate, candidate.task, result)
        costs = [served.usd]
    else:
        final.status = UNKNOWN if any(s.result is None for s in parts) else FAILED
        final.size, final.quality = made(candidate, candidate.task, {})
        costs = []
    costs += [_spent_cost(prices, s) for s in parts]
    final.cost_usd = _total(costs)
    if final.error_code is None and final.status == UNKNOWN:
        final.error_code = next((s.error_code for s in parts if s.result is None), None)
    final.earlier = _earlier(prices, trace, index, final.latency_ms)
    return served


def _earlier(prices: PriceTable, trace: Trace, final_index: int, latency: float) -> list[Outcome]:
    rows: dict[int, list[Spent]] = {}
    for spent in trace.spent:
        if spent.index != final_index:
            rows.setdefault(spent.index, []).append(spent)
    outcomes = []
    for parts in rows.values():
        candidate = parts[0].candidate
        unknown = [s for s in parts if s.result is None]
        size, quality = made(candidate, candidate.task, {})
        outcomes.append(
            Outcome(
                candidate.provider.name,
                candidate.spec.id,
                UNKNOWN if unknown else FAILED,
                size=size,
                quality=quality,
                error_code=unknown[0].error_code if unknown else None,
                latency_ms=latency,
                cost_usd=_total([_spent_cost(prices, s) for s in parts]),
            )
        )
    return outcomes


def _spent_cost(prices: PriceTable, spent: Spent) -> float | None:
    if spent.result is None:
        return price_unknown(prices, spent.candidate, spent.task).usd
    return price_result(prices, spent.candidate, spent.task, spent.result).usd


def _total(costs: list[float | None]) -> float | None:
    """The sum of the known costs; None when there were costs and none is known (unpriced)."""
    known = [c for c in costs if c is not None]
    if costs and not known:
        return None
    return round(sum(known), 6)


def _concrete(value: Any) -> str | None:
    return value if isinstance(value, str) and value and value != "auto" else None


def _measured(result: ProviderResult) -> str | None:
    return result.images[0].size if result.images else None
