"""Pure size arithmetic shared by adapters: aspect ratios, rounding, fitting into ranges."""

from __future__ import annotations

import math


def parse_ratio(ratio: str) -> tuple[int, int]:
    w, h = ratio.split(":")
    return int(w), int(h)


def dims_for_aspect(ratio: str, *, megapixels: float, multiple: int) -> tuple[int, int]:
    """Width and height near `megapixels` with the given aspect, rounded to `multiple`."""
    w, h = parse_ratio(ratio)
    height = math.sqrt(megapixels * 1_000_000 * h / w)
    width = height * w / h
    return round_to(width, multiple), round_to(height, multiple)


def round_to(value: float, multiple: int) -> int:
    return max(multiple, round(value / multiple) * multiple)


def fit_within(
    size: tuple[int, int], *, low: int, high: int, multiple: int, max_pixels: int | None = None
) -> tuple[int, int]:
    """Scale `size` (keeping its aspect) so both sides are in [low, high] and the area is at
    most `max_pixels`, then round each side to `multiple` inside the range."""
    width, height = float(size[0]), float(size[1])
    scale = 1.0
    if max(width, height) * scale > high:
        scale = high / max(width, height)
    if max_pixels is not None and width * height * scale * scale > max_pixels:
        scale = min(scale, math.sqrt(max_pixels / (width * height)))
    if min(width, height) * scale < low:
        scale = low / min(width, height)  # a very thin image: the short side wins
    lo = math.ceil(low / multiple) * multiple
    hi = math.floor(high / multiple) * multiple

    def side(v: float) -> int:
        return min(hi, max(lo, round(v * scale / multiple) * multiple))

    w, h = side(width), side(height)
    while max_pixels is not None and w * h > max_pixels and max(w, h) > lo:
        if w >= h:
            w -= multiple
        else:
            h -= multiple
    return w, h


def aspect_of(size: tuple[int, int], *, max_term: int = 21) -> str:
    """The simplest "W:H" close to the size's aspect, with terms up to `max_term`."""
    width, height = size
    target = width / height
    best = (1, 1)
    best_err = float("inf")
    for h in range(1, max_term + 1):
        for w in range(1, max_term + 1):
            err = abs(w / h - target)
            if err < best_err - 1e-9:
                best, best_err = (w, h), err
    g = math.gcd(*best)
    return f"{best[0] // g}:{best[1] // g}"


def ratio_value(ratio: str) -> float:
    w, h = parse_ratio(ratio)
    return w / h
