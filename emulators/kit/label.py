"""The words every emulator image carries, so nobody mistakes one for a provider's output: a
dark band across the middle with the emulator's name and what was asked (size, format).

Pillow's built-in font (a scalable FreeType face since Pillow 10.1, so no system fonts are
needed), sized to the image: readable on a thumbnail and on a 2048-pixel image alike.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont


def stamp(image: Image.Image, title: str, detail: str) -> None:
    """Draw `title` (large) and `detail` (smaller) centred on `image`, in place."""
    width, height = image.size
    size = max(8, min(width // (len(title) // 2 + 2), height // 5))
    title_font = ImageFont.load_default(size=size)
    detail_font = ImageFont.load_default(size=max(6, size // 2))
    draw = ImageDraw.Draw(image, "RGBA")
    title_box = draw.textbbox((0, 0), title, font=title_font)
    detail_box = draw.textbbox((0, 0), detail, font=detail_font)
    title_h = title_box[3] - title_box[1]
    detail_h = detail_box[3] - detail_box[1]
    gap = size // 4
    band_h = title_h + detail_h + 3 * gap
    top = (height - band_h) // 2
    draw.rectangle((0, top, width, top + band_h), fill=(0, 0, 0, 170))
    y = top + gap
    draw.text(((width - title_box[2]) / 2, y - title_box[1]), title, font=title_font,
              fill=(255, 255, 255, 255))  # fmt: skip
    y += title_h + gap
    draw.text(((width - detail_box[2]) / 2, y - detail_box[1]), detail, font=detail_font,
              fill=(255, 255, 255, 230))  # fmt: skip
