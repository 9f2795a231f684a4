"""Image formats the gateway knows (PNG, JPEG, WebP): told from their first bytes, and their
dimensions read from the header alone — no pixel is decoded, no library is loaded.

Both the input-image checks (`fetch/images.py`) and the check of every provider's output
(`describe()`, on the hot path of every answer) use these. Reading a few header bytes is far
cheaper than Pillow's lazy `Image.open().size` and spares importing Pillow; an image held as
its provider's base64 has only its first 48 kB decoded for it (`GeneratedImage.head`); BFL and
`local` hand over bytes. `tests/test_image_format.py` checks the answers against Pillow's;
the timings are in bench/RESULTS.md.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers carry the dimensions (not DHT C4, JPG C8, DAC CC).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_NO_LENGTH = frozenset({0x01, *range(0xD0, 0xD8)})  # markers without a length field


@dataclass(frozen=True, slots=True)
class ImageInfo:
    mime: str  # image/png, image/jpeg or image/webp
    width: int
    height: int

    @property
    def size(self) -> str:
        """ "WxH", as OpenAI writes sizes."""
        return f"{self.width}x{self.height}"


def sniff_image_type(data: bytes) -> str | None:
    """The MIME type from the magic bytes (the first 12 suffice), or None."""
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def describe(data: bytes) -> ImageInfo | None:
    """Format and dimensions of an image we know, or None: unknown magic, or a header that
    does not give positive dimensions (a file cut short, or something else behind the magic)."""
    mime = sniff_image_type(data)
    if mime is None:
        return None
    dims = dimensions(data, mime)
    if dims is None or min(dims) < 1:
        return None
    return ImageInfo(mime, dims[0], dims[1])


def what_it_looks_like(data: bytes) -> str:
    """A few words on bytes that are not an image we know, for an error message (never the
    bytes themselves)."""
    head = data[:512].lstrip().lower()
    if not data:
        return "nothing (0 bytes)"
    if sniff_image_type(data) is not None:
        kind = str(sniff_image_type(data)).split("/")[1].upper()
        return f"a {kind} cut short or malformed"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "HTML"
    if head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head:
        return "XML/SVG"
    if head.startswith((b"{", b"[")):
        return "JSON"
    return f"{len(data)} bytes of an unknown format"


def dimensions(data: bytes, mime: str) -> tuple[int, int] | None:
    """(width, height) read from the header alone; None when the header is unreadable."""
    try:
        if mime == "image/png":
            if data[12:16] != b"IHDR":
                return None
            width, height = struct.unpack(">II", data[16:24])
            return int(width), int(height)
        if mime == "image/webp":
            return _webp_dimensions(data)
        return _jpeg_dimensions(data)
    except (struct.error, IndexError):
        return None


def _webp_dimensions(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None


def _jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _NO_LENGTH:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        if marker in (0xD9, 0xDA) or length < 2:  # end of image / start of scan: no frame header
            return None
        pos += 2 + length
    return None
