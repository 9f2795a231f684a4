"""The placeholder images every emulator answers with: real PNG, JPEG or WebP files of the
asked size, a flat colour (with a block of a second colour) and the kit's label (`label.stamp`:
the emulator's name and "not a real image - WxH fmt"), so nobody mistakes one for a provider's.

    IMAGES = Placeholders(Look("Runway emulator", (20, 20, 30), (200, 200, 220)))
    image = await IMAGES.get(1280, 720, "png")            # Rendered: .data bytes, .b64 str
    image = await IMAGES.get(1280, 720, "jpeg", black=True)  # a moderated (all black) image

`get` encodes a miss in a worker thread (a 4K PNG takes a moment) and keeps the last
`max_entries` images (an LRU: the same size is asked again and again); `render` is the same,
synchronous, for callers already off the event loop. Encodings: PNG at compress level 1, JPEG
and WebP at `quality` (WebP at its fastest method); `transparent` (PNG/WebP) has a clear
background, `blur` blurs the finished image (a filtered result), `black` is all black and
carries no label (an image a provider's safety checker blacked out).
"""

from __future__ import annotations

import asyncio
import base64
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image, ImageFilter

from .label import stamp

RGB = tuple[int, int, int]
PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}
MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}
Block = Literal["centre", "corner", "third", "none"]


@dataclass(frozen=True)
class Look:
    """An emulator's colours. `block`: where `accent` is drawn: `centre` (the middle half of
    each side), `corner` (the top-left quarter), `third` (the middle third), `none`."""

    title: str  # the label's large line: "fal emulator"
    background: RGB
    accent: RGB | None = None
    block: Block = "centre"


@dataclass(frozen=True)
class Rendered:
    data: bytes  # the encoded file
    b64: str  # its base64 (ASCII), for JSON answers


def render(
    look: Look,
    width: int,
    height: int,
    fmt: str = "png",
    *,
    detail: str | None = None,
    black: bool = False,
    transparent: bool = False,
    quality: int = 85,
    blur: float = 0.0,
) -> bytes:
    """One encoded image (`fmt`: png, jpeg/jpg or webp; a KeyError otherwise). `detail`: the
    label's small line (default "not a real image - {width}x{height} {fmt}")."""
    clear = transparent and fmt != "jpeg" and fmt != "jpg" and not black
    if black:
        image = Image.new("RGB", (width, height), (0, 0, 0))
    else:
        image = Image.new(
            "RGBA" if clear else "RGB", (width, height), (0, 0, 0, 0) if clear else look.background
        )
        box = _box(look.block, width, height)
        if look.accent is not None and box is not None:
            image.paste(look.accent, box)
        stamp(image, look.title, detail or f"not a real image - {width}x{height} {fmt}")
        if blur:
            image = image.filter(ImageFilter.GaussianBlur(blur))
    options: dict[str, Any] = {"compress_level": 1}
    if fmt != "png":
        options = {"quality": max(1, quality)}
        if fmt == "webp":
            options["method"] = 0
    buf = io.BytesIO()
    image.save(buf, PIL_FORMATS[fmt], **options)
    return buf.getvalue()


def _box(block: Block, width: int, height: int) -> tuple[int, int, int, int] | None:
    if block == "centre":
        return (width // 4, height // 4, width - width // 4, height - height // 4)
    if block == "corner":
        return (0, 0, max(1, width // 2), max(1, height // 2))
    if block == "third":
        return (width // 3, height // 3, width - width // 3, height - height // 3)
    return None


Key = tuple[Look, int, int, str, str | None, bool, bool, int, float]


class Placeholders:
    """One emulator's rendered placeholders, the last `max_entries` kept. Thread-safe."""

    def __init__(self, look: Look, max_entries: int = 16) -> None:
        self.look = look
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, Rendered] = OrderedDict()
        self._lock = threading.Lock()

    def _key(
        self,
        width: int,
        height: int,
        fmt: str,
        detail: str | None,
        black: bool,
        transparent: bool,
        quality: int,
        blur: float,
        look: Look | None,
    ) -> Key:
        lossy = fmt != "png"
        return (look or self.look, width, height, fmt, detail, black, transparent,
                quality if lossy else 0, blur)  # fmt: skip

    def _cached(self, key: Key) -> Rendered | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def _encode(self, key: Key) -> Rendered:
        look, width, height, fmt, detail, black, transparent, quality, blur = key
        data = render(look, width, height, fmt, detail=detail, black=black,
                      transparent=transparent, quality=quality or 85, blur=blur)  # fmt: skip
        rendered = Rendered(data, base64.b64encode(data).decode("ascii"))
        with self._lock:
            self._entries[key] = rendered
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return rendered

    def render(
        self,
        width: int,
        height: int,
        fmt: str = "png",
        *,
        detail: str | None = None,
        black: bool = False,
        transparent: bool = False,
        quality: int = 85,
        blur: float = 0.0,
        look: Look | None = None,
    ) -> Rendered:
        """The image (from the cache, or encoded here: call it off the event loop).
        `look`: another of the emulator's looks (a palette variant, a draft's grey)."""
        key = self._key(width, height, fmt, detail, black, transparent, quality, blur, look)
        return self._cached(key) or self._encode(key)

    async def get(
        self,
        width: int,
        height: int,
        fmt: str = "png",
        *,
        detail: str | None = None,
        black: bool = False,
        transparent: bool = False,
        quality: int = 85,
        blur: float = 0.0,
        look: Look | None = None,
    ) -> Rendered:
        """The image; a miss is encoded in a worker thread."""
        key = self._key(width, height, fmt, detail, black, transparent, quality, blur, look)
        hit = self._cached(key)
        return hit if hit is not None else await asyncio.to_thread(self._encode, key)
