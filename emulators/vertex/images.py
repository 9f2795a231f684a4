"""The emulator's output images: real PNG or JPEG files of the asked size, a flat colour with
"Vertex AI emulator" written across, encoded off the event loop and kept in a small LRU."""

from __future__ import annotations

import asyncio
import base64
import io
from collections import OrderedDict

from PIL import Image

from ..kit.label import stamp

Key = tuple[int, int, str, int]


def render(width: int, height: int, fmt: str, quality: int) -> str:
    """Base64 of an image `width` x `height` in `fmt` (png or jpeg)."""
    image = Image.new("RGB", (width, height), (52, 120, 200))
    stamp(image, "Vertex AI emulator", f"not a real image - {width}x{height} {fmt}")
    buf = io.BytesIO()
    if fmt == "png":
        image.save(buf, "PNG", compress_level=1)
    else:
        image.save(buf, "JPEG", quality=max(1, quality))
    return base64.b64encode(buf.getvalue()).decode("ascii")


class Images:
    def __init__(self, max_entries: int = 16) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, str] = OrderedDict()

    async def get(self, width: int, height: int, fmt: str, quality: int) -> str:
        key = (width, height, fmt, quality if fmt == "jpeg" else 0)
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
            return hit
        data = await asyncio.to_thread(render, *key)
        self._entries[key] = data
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return data
