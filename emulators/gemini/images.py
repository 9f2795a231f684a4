"""The emulator's output images: real PNGs (or JPEGs, for Vertex's `imageOutputOptions`) of
the exact pixel size asked, a flat colour with a centred block and "Gemini emulator" written
across, so nobody mistakes one for Google's. Rendered in a worker thread, kept in a small LRU
(a 4K image takes a moment to encode; the same size is asked again and again)."""

from __future__ import annotations

import asyncio
import base64
import io
from collections import OrderedDict

from PIL import Image

from ..kit.label import stamp

_COLOURS = {False: ((66, 133, 244), (251, 188, 5)), True: ((120, 120, 120), (200, 200, 200))}
_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


def render(width: int, height: int, mime: str, draft: bool) -> str:
    """The base64 of one image (`draft`: a thought's grey preview)."""
    back, front = _COLOURS[draft]
    image = Image.new("RGB", (width, height), back)
    image.paste(front, (width // 4, height // 4, width - width // 4, height - height // 4))
    stamp(
        image, "Gemini emulator", f"{'draft ' if draft else ''}not a real image - {width}x{height}"
    )
    buf = io.BytesIO()
    options = {"compress_level": 1} if mime == "image/png" else {"quality": 85}
    image.save(buf, _FORMATS[mime], **options)
    return base64.b64encode(buf.getvalue()).decode("ascii")


class ImageCache:
    def __init__(self, max_entries: int = 16) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, int, str, bool], str] = OrderedDict()

    async def get(
        self, width: int, height: int, mime: str = "image/png", draft: bool = False
    ) -> str:
        key = (width, height, mime, draft)
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
            return hit
        encoded = await asyncio.to_thread(render, *key)
        self._entries[key] = encoded
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return encoded
