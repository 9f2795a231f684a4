"""The emulator's output images: real PNGs (or JPEGs, for Vertex's `imageOutputOptions`) of
the exact pixel size asked, a flat colour with a centred block and "Gemini emulator" written
across, so nobody mistakes one for Google's; a thought's draft in greys. Rendered in a worker
thread and kept in a small LRU by the kit's `Placeholders` (a 4K image takes a moment to
encode; the same size is asked again and again)."""

from __future__ import annotations

from ..kit.placeholder import Look, Placeholders

LOOK = Look("Gemini emulator", (66, 133, 244), (251, 188, 5))
DRAFT = Look("Gemini emulator", (120, 120, 120), (200, 200, 200))
_FORMATS = {"image/png": "png", "image/jpeg": "jpeg"}


class ImageCache:
    def __init__(self, max_entries: int = 16) -> None:
        self.cache = Placeholders(LOOK, max_entries)

    async def get(
        self, width: int, height: int, mime: str = "image/png", draft: bool = False
    ) -> str:
        """The base64 of one image (`draft`: a thought's grey preview)."""
        detail = f"{'draft ' if draft else ''}not a real image - {width}x{height}"
        image = await self.cache.get(
            width, height, _FORMATS[mime], detail=detail, look=DRAFT if draft else None
        )
        return image.b64
