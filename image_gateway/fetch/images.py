"""What counts as an acceptable input image: PNG, JPEG or WebP by magic bytes, within the
byte cap and the pixel limit, and readable by Pillow.

The pixel limit is checked from the file header (`dimensions()`, a few dozen bytes read, no
decoding), so a decompression bomb — a tiny PNG that declares 20000x20000 — is refused before
Pillow sees it; Pillow then opens and `verify()`s what is left (headers and chunk checksums,
still without decoding pixels). Inline images (`data:` URLs, raw base64) are measured by their
encoded length before anything is decoded. Pillow is imported with the first image checked, so
a gateway that never receives one does not load it.
"""

from __future__ import annotations

import binascii
import io
import re

import pybase64

from image_gateway.fetch.urls import Refused
from image_gateway.image_format import dimensions, sniff_image_type

# Pillow warns above this many pixels (and refuses at twice it); the setting stays below.
PILLOW_PIXEL_LIMIT = 89_478_485
SNIFF_BYTES = 12
FORMAT_OF_MIME = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
KINDS = "a PNG, JPEG or WebP image"

_DATA_URL = re.compile(r"^data:image/[a-z0-9.+\-]{1,32};base64,", re.IGNORECASE)


def sniff(data: bytes) -> str:
    mime = sniff_image_type(data)
    if mime is None:
        raise Refused(f"is not {KINDS}")
    return mime


def check_image(data: bytes, *, max_bytes: int, max_pixels: int) -> str:
    """The image's MIME type, or `Refused`. CPU-bound for large files: call it off the loop."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > max_bytes:
        raise Refused(f"is larger than {max_bytes} bytes")
    mime = sniff(data)
    dims = dimensions(data, mime)
    if dims is None or min(dims) < 1:
        raise Refused(f"is not a readable {mime.split('/')[1].upper()} image")
    if dims[0] * dims[1] > min(max_pixels, PILLOW_PIXEL_LIMIT):
        raise Refused(f"has more than {max_pixels} pixels ({dims[0]}x{dims[1]})")
    try:
        with Image.open(io.BytesIO(data), formats=[FORMAT_OF_MIME[mime]]) as image:
            if image.size != dims:
                raise Refused("has inconsistent image headers")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise Refused(f"is not a readable {mime.split('/')[1].upper()} image") from None
    except Image.DecompressionBombError:
        raise Refused(f"has more than {max_pixels} pixels") from None
    return mime


def decode_inline(value: str, *, max_bytes: int, allow_raw: bool) -> bytes:
    """Bytes of a `data:image/...;base64,` URL (or, when `allow_raw`, of bare base64), refused
    by its encoded length before decoding."""
    if value[:5].lower() == "data:":
        match = _DATA_URL.match(value)
        if match is None:
            raise Refused("must be a base64 image data URL (data:image/png;base64,...)")
        payload = value[match.end() :]
    elif allow_raw:
        payload = value
    else:
        raise Refused("must be an http(s) URL or a data:image/...;base64 URL")
    if len(payload) > (max_bytes + 2) // 3 * 4 + 1024:  # 1 KiB of slack for line breaks
        raise Refused(f"is larger than {max_bytes} bytes")
    compact = "".join(payload.split())
    try:
        data = pybase64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(f"is neither a URL nor base64-encoded {KINDS}") from None
    if len(data) > max_bytes:
        raise Refused(f"is larger than {max_bytes} bytes")
    return data
