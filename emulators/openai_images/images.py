"""Output images, input-image inspection and token usage.

Outputs are real encoded images of the requested size and format (a flat colour with a centred
block, and "OpenAI emulator" written across it: the kit's placeholders), cached by their
parameters in a small LRU so the hot path only looks bytes up.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ..kit.placeholder import Look, Placeholders, Rendered

# The final image's look, then a partial image's (`variant` 1).
LOOKS = (
    Look("OpenAI emulator", (32, 96, 160), (240, 200, 64)),
    Look("OpenAI emulator", (96, 96, 96), (200, 200, 200)),
)


class ImageCache:
    """The rendered images (the kit's `Placeholders`: an LRU, misses encoded in a worker
    thread to keep the loop free). `compression` is JPEG/WebP quality (0-100)."""

    def __init__(self, max_entries: int = 24) -> None:
        self.cache = Placeholders(LOOKS[0], max_entries)

    async def get(
        self,
        width: int,
        height: int,
        fmt: str = "png",
        transparent: bool = False,
        compression: int = 100,
        variant: int = 0,
    ) -> Rendered:
        return await self.cache.get(
            width,
            height,
            fmt,
            transparent=transparent,
            quality=compression,
            look=LOOKS[variant % len(LOOKS)],
        )


@dataclass(frozen=True)
class ImageInfo:
    format: str  # Pillow's name: PNG, JPEG, WEBP, ...
    width: int
    height: int
    mode: str


def inspect_image(data: bytes) -> ImageInfo | None:
    """Read the header only (no full decode); None if Pillow cannot identify an image."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return ImageInfo(img.format or "", img.width, img.height, img.mode)
    except Exception:  # any decoder failure means "not an image"
        return None


# gpt-image-1 output tokens per image (REFERENCE §1.6): 1024x1024, 1024x1536, 1536x1024.
_OUTPUT_TOKENS = {"low": (272, 408, 400), "medium": (1056, 1584, 1568), "high": (4160, 6240, 6208)}
_TABLE_COLUMN = {(1024, 1024): 0, (1024, 1536): 1, (1536, 1024): 2}
PARTIAL_IMAGE_TOKENS = 100


def output_tokens(quality: str, width: int, height: int) -> int:
    row = _OUTPUT_TOKENS.get(quality, _OUTPUT_TOKENS["medium"])
    column = _TABLE_COLUMN.get((width, height))
    if column is not None:
        return row[column]
    return max(1, round(row[0] * width * height / (1024 * 1024)))


def text_tokens(prompt: str) -> int:
    return max(1, (len(prompt) + 3) // 4)


def image_input_tokens(width: int, height: int) -> int:
    """Rough vision-style count: a base plus one unit per 512-pixel tile, capped."""
    tiles = -(-width // 512) * -(-height // 512)
    return 85 + 170 * min(tiles, 16)


def usage(
    prompt: str,
    quality: str,
    width: int,
    height: int,
    images: int,
    inputs: tuple[ImageInfo, ...] = (),
    partials: int = 0,
) -> dict[str, Any]:
    text = text_tokens(prompt)
    image_in = sum(image_input_tokens(i.width, i.height) for i in inputs)
    out = images * (output_tokens(quality, width, height) + partials * PARTIAL_IMAGE_TOKENS)
    return {
        "input_tokens": text + image_in,
        "input_tokens_details": {"text_tokens": text, "image_tokens": image_in},
        "output_tokens": out,
        "output_tokens_details": {"text_tokens": 0, "image_tokens": out},
        "total_tokens": text + image_in + out,
    }
