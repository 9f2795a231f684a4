"""The emulator's output images: real PNG or JPEG files of the asked size, a flat colour with
"Vertex AI emulator" written across (the kit's `Placeholders`: encoded off the event loop,
kept in a small LRU)."""

from __future__ import annotations

from ..kit.placeholder import Look, Placeholders

LOOK = Look("Vertex AI emulator", (52, 120, 200), block="none")


class Images:
    def __init__(self, max_entries: int = 16) -> None:
        self.cache = Placeholders(LOOK, max_entries)

    async def get(self, width: int, height: int, fmt: str, quality: int) -> str:
        """Base64 of an image `width` x `height` in `fmt` (png or jpeg)."""
        return (await self.cache.get(width, height, fmt, quality=quality)).b64
