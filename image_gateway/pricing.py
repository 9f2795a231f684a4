"""What a generation cost in USD, from the provider's own figures or the price table.

Order of evidence, best first:
1. BFL's `cost` on submit (credits; the adapter reports it as `usage.cost_credits`, summed
   across fanned-out calls; 1 credit = $0.01).
2. OpenAI GPT-image `usage` tokens, priced with the model's token prices.
3. `prices.json`: per image (by quality and size where it varies), or per megapixel (FLUX.2).
   An `auto`/unknown quality or size is priced at the most expensive matching entry (an upper
   bound); a size the table does not list is scaled from its 1024x1024 price by pixel count.
A model without a price yields None (recorded as "unpriced"), never an error. Failed requests
cost 0 unless the provider reported a cost. `estimate()` is the upper bound held against a
budget before the call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeGuard

from .schemas import ImageTask

PRICES_FILE = Path(__file__).with_name("prices.json")
BFL_CREDIT_USD = 0.01
MEGAPIXEL = 2**20  # BFL bills megapixels of 2**20 pixels (1024x1024 = exactly 1 MP)
BASE_PIXELS = 1024 * 1024


class PriceTable:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = {k: v for k, v in data.items() if not k.startswith("_")}

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> PriceTable:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def entry(self, provider: str, model: str) -> dict[str, Any] | None:
        models = self._data.get(provider) or {}
        found = models.get(model, models.get("*"))
        return found if isinstance(found, dict) else None

    def cost(
        self,
        provider: str,
        model: str,
        *,
        succeeded: bool,
        images: int,
        size: str | None,
        quality: str | None,
        usage: dict[str, Any] | None,
    ) -> float | None:
        credits = (usage or {}).get("cost_credits")
        if isinstance(credits, int | float) and not isinstance(credits, bool):
            return round(max(0.0, float(credits)) * BFL_CREDIT_USD, 6)
        if not succeeded:
            return 0.0
        entry = self.entry(provider, model)
        if entry is None:
            return None
        tokens = _token_cost(entry.get("tokens_usd_per_million"), usage)
        if tokens is not None:
            return round(tokens, 6)
        per_image = _per_image(entry, size, quality, inputs=0)
        return None if per_image is None else round(per_image * images, 6)

    def estimate(self, task: ImageTask) -> float | None:
        """An upper bound for what the task will cost (held against a budget)."""
        entry = self.entry(task.provider, task.model)
        if entry is None:
            return None
        size = f"{task.size[0]}x{task.size[1]}" if task.size else None
        per_image = _per_image(entry, size, task.quality, inputs=len(task.images))
        return None if per_image is None else round(per_image * task.n, 6)


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
) -> float | None:
    pixels = _pixels(size)
    if "first_mp" in entry:
        megapixels = pixels / MEGAPIXEL if pixels else 1.0
        extra = max(0.0, megapixels - 1.0) + inputs
        return float(entry["first_mp"]) + extra * float(entry["extra_mp"])
    if "per_mp" in entry:
        return float(entry["per_mp"]) * (pixels / MEGAPIXEL if pixels else 1.0)
    table = entry.get("per_image")
    if _number(table):
        return float(table)
    if not isinstance(table, dict) or not table:
        return None
    if all(isinstance(v, dict) for v in table.values()):
        row = table.get(quality or "") or max(table.values(), key=lambda r: max(r.values()))
    else:
        row = table
    return _by_size(row, size, pixels)


def _by_size(row: dict[str, float], size: str | None, pixels: int) -> float:
    if size is not None and size in row:
        return float(row[size])
    if pixels and "1024x1024" in row:
        return float(row["1024x1024"]) * pixels / BASE_PIXELS
    return float(max(row.values()))


def _pixels(size: str | None) -> int:
    if not size or "x" not in size:
        return 0
    width, _, height = size.partition("x")
    return int(width) * int(height) if width.isdigit() and height.isdigit() else 0


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
