"""Image helpers: identify base64 inputs, render output images lazily with a bounded cache."""

from __future__ import annotations

import base64
import binascii
import io
import threading
from collections import OrderedDict

from PIL import Image, UnidentifiedImageError

from ..kit.label import stamp

PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def decode_base64(value: str) -> bytes | None:
    """Raw base64 or a `data:<mime>;base64,<data>` URI → bytes (None when not base64)."""
    if value.startswith("data:"):
        head, sep, value = value.partition(",")
        if not sep or not head.endswith(";base64"):
            return None
    compact = "".join(value.split())
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


_SIZE_CACHE: OrderedDict[tuple[int, int], tuple[int, int] | None] = OrderedDict()
_SIZE_LOCK = threading.Lock()


def image_size(value: str) -> tuple[int, int] | None:
    """(width, height) of a base64-encoded image, or None when it is not one.

    Memoised by (length, hash) of the string, not the string itself (inputs can be ~20 MB, and
    str hashes are cached on the object), so validators and the submit handler can both ask.
    """
    key = (len(value), hash(value))
    with _SIZE_LOCK:
        if key in _SIZE_CACHE:
            return _SIZE_CACHE[key]
    size = _decode_size(value)
    with _SIZE_LOCK:
        _SIZE_CACHE[key] = size
        while len(_SIZE_CACHE) > 256:
            _SIZE_CACHE.popitem(last=False)
    return size


def _decode_size(value: str) -> tuple[int, int] | None:
    data = decode_base64(value)
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def encode_image(width: int, height: int, fmt: str) -> bytes:
    """A real image of the requested size and format: a two-tone pattern saying "BFL emulator"."""
    img = Image.new("RGB", (width, height), (40, 90, 160))
    img.paste((230, 180, 60), (0, 0, max(1, width // 2), max(1, height // 2)))
    stamp(img, "BFL emulator", f"not a real image - {width}x{height} {fmt}")
    buf = io.BytesIO()
    if fmt == "jpeg":
        img.save(buf, "JPEG", quality=85)
    elif fmt == "png":
        img.save(buf, "PNG", compress_level=1)
    else:
        img.save(buf, "WEBP", quality=80, method=0)
    return buf.getvalue()


class RenderCache:
    """Small LRU of encoded images keyed by (width, height, format). Thread-safe."""

    def __init__(self, maxsize: int = 32) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[int, int, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, width: int, height: int, fmt: str) -> bytes | None:
        key = (width, height, fmt)
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def render(self, width: int, height: int, fmt: str) -> bytes:
        data = self.get(width, height, fmt)
        if data is None:
            data = encode_image(width, height, fmt)
            with self._lock:
                self._items[(width, height, fmt)] = data
                while len(self._items) > self.maxsize:
                    self._items.popitem(last=False)
        return data
