"""Output images: real encoded images of the asked size and format (a flat colour, a centred
block, "Bedrock emulator" across the middle), kept in a small LRU by their parameters and
encoded in a worker thread on a miss (the kit's `Placeholders`)."""

from __future__ import annotations

from ..kit.placeholder import Look, Placeholders, Rendered

LOOKS = (
    Look("Bedrock emulator", (35, 47, 62), (255, 153, 0)),
    Look("Bedrock emulator", (60, 90, 60), (220, 220, 200)),
)


class ImageCache:
    def __init__(self, max_entries: int = 24) -> None:
        self.cache = Placeholders(LOOKS[0], max_entries)

    async def get(self, width: int, height: int, fmt: str = "png", variant: int = 0) -> Rendered:
        return await self.cache.get(width, height, fmt, look=LOOKS[variant % len(LOOKS)])
