"""What a generation cost in USD, from the provider's own figures or the price table.

Order of evidence, best first (`Priced.basis` names the one used):
1. "provider": the provider's own charge in its answer (`Charge`: BFL's `cost` on submit, in
   credits of $0.01, summed across fanned-out calls).
2. "tokens": OpenAI GPT-image `usage` tokens at the model's token prices.
3. "price_table": `prices.json`'s price of what was made: per image by quality and size, or
   per megapixel (FLUX.2: first MP + each extra output MP + 1 MP per input image; `per_mp` in
   megapixels of 2**20 pixels, or of `megapixel` pixels where the provider counts 10**6).
   An entry with `steps` ({"param": <provider_params name>, "default": N}) is the price of
   the provider's default N inference steps, and scales with the steps asked for (Fireworks
   bills per step). The caller passes the size and quality the provider reports it made,
   else the request's, else the model's documented defaults (`ModelSpec.default_size` /
   `default_quality`), and the request's `provider_params`.
4. "estimate": the same table when the size or quality made is unknown (`auto` left to the
   model, an answer that does not say): the most expensive matching entry, an upper bound; a
   size the table does not list is scaled from its 1024x1024 price by pixel count.
A model without a price yields `usd=None` ("unpriced"), never an error. `estimate()` is the
upper bound held against a budget before the call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from image_gateway.schemas import Charge, ImageTask

PRICES_FILE = Path(__file__).with_name("prices.json")
MEGAPIXEL = 2**20  # BFL bills megapixels of 2**20 pixels (1024x1024 = exactly 1 MP)
BASE_PIXELS = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Priced:
    usd: float | None
    basis: str  # "provider" | "tokens" | "price_table" | "estimate" | "unpriced"
    credits: float | None = None

    def view(self) -> dict[str, Any]:
        """The response's `cost` object (`schemas.Cost`)."""
        out: dict[str, Any] = {"usd": self.usd, "basis": self.basis}
        if self.credits is not None:
            out["credits"] = self.credits
        return out


UNPRICED = Priced(None, "unpriced")


class PriceTable:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = {k: v for k, v in data.items() if not k.startswith("_")}

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> PriceTable:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def entry(self, provider: str, model: str) -> dict[str, Any] | None:
        """The model's price entry; one that says `"same_as": "<provider>/<model>"` (a model
        another provider also serves, assumed at the same price, its own source saying so)
        is that model's entry."""
        models = self._data.get(provider) or {}
        found = models.get(model, models.get("*"))
        if isinstance(found, dict) and isinstance(found.get("same_as"), str):
            other, _, other_model = found["same_as"].partition("/")
            found = (self._data.get(other) or {}).get(other_model)
            if isinstance(found, dict) and "same_as" in found:
                return None  # one step only: no chains, no loops
        return found if isinstance(found, dict) else None

    def price(
        self,
        provider: str,
        model: str,
        *,
        images: int,
        size: str | None,
        quality: str | None,
        usage: dict[str, Any] | None = None,
        charge: Charge | None = None,
        inputs: int = 0,
        params: dict[str, Any] | None = None,
    ) -> Priced:
        """What `images` images of `size` ("WxH", None = unknown) and `quality` (None =
        unknown) cost, given what the provider's answer said (`usage` tokens, `charge`) and
        the request's `params` (its `provider_params`: the steps of a per-step price)."""
        if charge is not None:
            return Priced(round(max(0.0, charge.usd), 6), "provider", charge.credits)
        entry = self.entry(provider, model)
        if entry is None:
            return UNPRICED
        tokens = _token_cost(entry.get("tokens_usd_per_million"), usage)
        if tokens is not None:
            return Priced(round(tokens, 6), "tokens")
        found = _per_image(entry, size, quality, inputs=inputs)
        if found is None:
            return UNPRICED
        per_image, exact = found
        per_image *= _steps_factor(entry, params)
        return Priced(round(per_image * images, 6), "price_table" if exact else "estimate")

    def estimate(self, task: ImageTask) -> float | None:
        """An upper bound for what the task will cost (held against a budget)."""
        entry = self.entry(task.provider, task.model)
        if entry is None:
            return None
        size = f"{task.size[0]}x{task.size[1]}" if task.size else None
        found = _per_image(entry, size, task.quality, inputs=len(task.images))
        if found is None:
            return None
        return round(found[0] * _steps_factor(entry, task.params) * task.n, 6)


def _token_cost(prices: Any, usage: dict[str, Any] | None) -> float | None:
    """GPT-image usage: input text/image tokens and output (image) tokens, priced per 1M."""
    if not isinstance(prices, dict) or not usage:
        return None
    output = usage.get("output_tokens")
    total_in = usage.get("input_tokens")
    if not _number(output) or not _number(total_in):
        return None
    details = usage.get("input_tokens_details")
    details = details if isinstance(details, dict) else {}
    image_in = float(details["image_tokens"]) if _number(details.get("image_tokens")) else 0.0
    if _number(details.get("text_tokens")):
        text_in = float(details["text_tokens"])
    else:
        text_in = max(0.0, float(total_in) - image_in)
    try:
        return (
            float(
                text_in * prices["text_input"]
                + image_in * prices["image_input"]
                + float(output) * prices["image_output"]
            )
            / 1_000_000
        )
    except (KeyError, TypeError):
        return None


def _per_image(
    entry: dict[str, Any], size: str | None, quality: str | None, *, inputs: int
) -> tuple[float, bool] | None:
    """The price of one image and whether it is exact (False: an upper bound or a guess,
    because the size or quality that decides it is unknown)."""
    pixels = _pixels(size)
    if "first_mp" in entry:
        megapixels = pixels / MEGAPIXEL if pixels else 1.0
        extra = max(0.0, megapixels - 1.0) + inputs
        # Each input image counts as 1 MP: its real size is not measured here.
        exact = bool(pixels) and not inputs
        return float(entry["first_mp"]) + extra * float(entry["extra_mp"]), exact
    if "per_mp" in entry:
        megapixel = float(entry.get("megapixel", MEGAPIXEL))
        return float(entry["per_mp"]) * (pixels / megapixel if pixels else 1.0), bool(pixels)
    table = entry.get("per_image")
    if _number(table):
        return float(table), True
    if not isinstance(table, dict) or not table:
        return None
    exact = True
    if all(isinstance(v, dict) for v in table.values()):
        row = table.get(quality or "")
        if row is None:
            row, exact = max(table.values(), key=lambda r: max(r.values())), False
    else:
        row = table
    price, exact_size = _by_size(row, size, pixels)
    return price, exact and exact_size


def _steps_factor(entry: dict[str, Any], params: dict[str, Any] | None) -> float:
    """How many times the provider's default inference steps were asked for: an entry's price
    with `steps` is that of its `default` steps; 1 for an entry without, or a request that
    leaves the steps to the provider."""
    steps = entry.get("steps")
    if not isinstance(steps, dict) or not _number(steps.get("default")) or steps["default"] <= 0:
        return 1.0
    asked = (params or {}).get(str(steps.get("param")))
    return float(asked) / float(steps["default"]) if _number(asked) and asked > 0 else 1.0


def _by_size(row: dict[str, float], size: str | None, pixels: int) -> tuple[float, bool]:
    if size is not None and size in row:
        return float(row[size]), True
    if pixels and "1024x1024" in row:
        return float(row["1024x1024"]) * pixels / BASE_PIXELS, True
    return float(max(row.values())), False


def _pixels(size: str | None) -> int:
    if not size or "x" not in size:
        return 0
    width, _, height = size.partition("x")
    return int(width) * int(height) if width.isdigit() and height.isdigit() else 0


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
