"""Image helpers: identify base64 inputs; the look of the output images (rendered and cached by
the kit's `Placeholders`)."""

from __future__ import annotations

import base64
import binascii
import io
import threading
from collections import OrderedDict

from PIL import Image, UnidentifiedImageError

from ..kit.placeholder import Look

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


# The output images: a two-tone pattern saying "BFL emulator" (the kit's placeholders).
LOOK = Look("BFL emulator", (40, 90, 160), (230, 180, 60), block="corner")
