"""The images xAI makes (their sizes), and the result host that serves them by URL.

xAI answers `url` results on another host than its API, temporary links such as
`https://imgen.x.ai/xai-imgen/xai-tmp-imgen-<uuid>.jpeg` (REFERENCE-MORE §7; docs.x.ai "URLs are
temporary, so download or process promptly"; lifetime [UNVERIFIED], `--url-ttl` here). The
emulator's result host is its second listener (kit/results.py): `GET /xai-imgen/xai-tmp-imgen-
<id>.jpeg?se=&w=&h=&sig=`.

Images are JPEG (xAI's output: REFERENCE-MORE §7, `mime_type: image/jpeg`), "xAI emulator"
across the middle. Sizes: 1k is about 1024x1024 pixels, 2k about 2048x2048 (xai-sdk: "~1
megapixel", "~4 megapixels"), at the aspect ratio asked for (or the first input image's, for an
edit without one; 1:1 otherwise), sides multiples of 16.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable

from ..kit.placeholder import Look
from ..kit.results import ResultHost

PREFIX = "/xai-imgen/"
SIDE = {"1k": 1024, "2k": 2048}  # the side of a square image of that resolution
MAX_SIDE = 8192


def dimensions(resolution: str, ratio: float | None) -> tuple[int, int]:
    """Width and height of an image of `resolution` at `ratio` (width / height; None: 1:1)."""
    area = SIDE.get(resolution, 1024) ** 2
    ratio = ratio or 1.0
    height = math.sqrt(area / ratio)
    return _multiple(height * ratio), _multiple(height)


def _multiple(value: float) -> int:
    return max(16, round(value / 16) * 16)


LOOK = Look("xAI emulator", (24, 24, 28), (220, 220, 230), block="third")


def result_host(ttl: float, clock: Callable[[], float] = time.time) -> ResultHost:
    """xAI's result host: JPEG files named `xai-tmp-imgen-<uuid>.jpeg` (kit/results.py)."""
    return ResultHost(
        PREFIX,
        LOOK,
        ttl=ttl,
        max_side=MAX_SIDE,
        formats={"jpeg": "jpeg"},
        stem=lambda: f"xai-tmp-imgen-{uuid.uuid4()}",
        clock=clock,
    )
