"""Output images: real encoded images of the asked size and format (a flat colour, a centred
block, "Bedrock emulator" across the middle), kept in a small LRU by their parameters and
encoded in a worker thread on a miss."""

from __future__ import annotations

import asyncio
import base64
import io
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image

from ..kit.label import stamp

PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
_PALETTE = [((35, 47, 62), (255, 153, 0)), ((60, 90, 60), (220, 220, 200))]


@dataclass(frozen=True)
class Rendered:
    data: bytes
    b64: str


def render(width: int, height: int, fmt: str, variant: int) -> Rendered:
    back, front = _PALETTE[variant % len(_PALETTE)]
    image = Image.new("RGB", (width, height), back)
    image.paste(front, (width // 4, height // 4, width - width // 4, height - height // 4))
    stamp(image, "Bedrock emulator", f"not a real image - {width}x{height} {fmt}")
    out = io.BytesIO()
    image.save(out, PIL_FORMATS[fmt], **({"compress_level": 1} if fmt == "png" else {}))
    data = out.getvalue()
    return Rendered(data, base64.b64encode(data).decode("ascii"))


class ImageCache:
    def __init__(self, max_entries: int = 24) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, int, str, int], Rendered] = OrderedDict()

    async def get(self, width: int, height: int, fmt: str = "png", variant: int = 0) -> Rendered:
        key = (width, height, fmt, variant % len(_PALETTE))
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
            return hit
        rendered = await asyncio.to_thread(render, *key)
        self._entries[key] = rendered
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return rendered
