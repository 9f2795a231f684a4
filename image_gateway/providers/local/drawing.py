"""The `local` provider's drawing (Pillow): a gradient, shapes and a label saying what it is,
deterministic for a prompt and seed; for edits, blended into the input image."""

from __future__ import annotations

import hashlib
import io
import random

from PIL import Image, ImageDraw, ImageFont

from image_gateway.errors import InvalidRequest
from image_gateway.schemas import MIME_BY_FORMAT, GeneratedImage, ImageTask


def base_seed(task: ImageTask) -> int:
    if task.seed is not None:
        return task.seed
    digest = hashlib.sha256(task.prompt.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big")


def render_all(task: ImageTask, default_format: str, size: tuple[int, int]) -> list[GeneratedImage]:
    fmt = task.output_format or default_format
    seed0 = base_seed(task)
    transparent = task.background == "transparent" and fmt in ("png", "webp")
    out = []
    for i in range(task.n):
        seed = (seed0 + i) % 2**32
        picture = draw(task.prompt, seed, size, transparent)
        if task.images:
            picture = blend_into(picture, task)
        out.append(
            GeneratedImage(
                encode(picture, fmt, task.output_compression), MIME_BY_FORMAT[fmt], seed=seed
            )
        )
    return out


def draw(prompt: str, seed: int, size: tuple[int, int], transparent: bool) -> Image.Image:
    rng = random.Random(seed)  # noqa: S311 - deterministic art, not security
    width, height = size
    top = tuple(rng.randrange(256) for _ in range(3))
    bottom = tuple(rng.randrange(256) for _ in range(3))
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient)
    if transparent:
        image = image.convert("RGBA")
        image.putalpha(0)
    # On an RGB image the translucent shapes blend in, so an opaque picture stays opaque; on
    # the transparent one they are written as they are (semi-transparent shapes).
    layer = ImageDraw.Draw(image, "RGBA")
    for _ in range(6 + rng.randrange(6)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(max(4, min(size) // 16), max(8, min(size) // 3))
        fill = (*(rng.randrange(256) for _ in range(3)), 170)
        box = (x0 - radius, y0 - radius, x0 + radius, y0 + radius)
        if rng.random() < 0.5:
            layer.ellipse(box, fill=fill)
        else:
            layer.rectangle(box, fill=fill)
    shown = prompt if len(prompt) <= 60 else prompt[:59] + "…"
    label(layer, size, "local renderer - not an AI model", f"seed {seed}: {shown}")
    return image


def label(layer: ImageDraw.ImageDraw, size: tuple[int, int], title: str, detail: str) -> None:
    """Say what the picture is, readable at a glance: white text on a dark band across the
    top, sized to the image (Pillow's built-in scalable font, so no system fonts needed)."""
    width, height = size
    title_font = _font_fitting(title, width * 0.92, height / 9)
    detail_font = _font_fitting(detail, width * 0.92, title_font.size * 0.55)
    margin = max(2, round(title_font.size / 3))
    title_h = layer.textbbox((0, 0), title, font=title_font)[3]
    detail_h = layer.textbbox((0, 0), detail, font=detail_font)[3]
    bottom = margin * 3 + title_h + detail_h
    layer.rectangle((0, 0, width, bottom), fill=(0, 0, 0, 185))
    white = (255, 255, 255, 255)
    layer.text((margin, margin), title, font=title_font, fill=white)
    layer.text((margin, margin * 2 + title_h), detail, font=detail_font, fill=(*white[:3], 225))


def _font_fitting(text: str, width: float, largest: float) -> ImageFont.FreeTypeFont:
    """The built-in font at the largest size (at most `largest`) that fits `text` in `width`."""
    reference = ImageFont.load_default(size=100)
    length = max(1.0, reference.getlength(text))
    font = ImageFont.load_default(size=max(6, min(largest, 100 * width / length)))
    assert isinstance(font, ImageFont.FreeTypeFont)  # Pillow's wheels include FreeType
    return font


def blend_into(picture: Image.Image, task: ImageTask) -> Image.Image:
    try:
        with Image.open(io.BytesIO(task.images[0].data)) as source:
            base = source.convert("RGBA").resize(picture.size)
        mask = None
        if task.mask is not None:
            with Image.open(io.BytesIO(task.mask.data)) as mask_image:
                # OpenAI convention: fully transparent mask pixels mark the region to edit.
                alpha = mask_image.convert("RGBA").getchannel("A").resize(picture.size)
                mask = alpha.point(lambda a: 255 if a == 0 else 0)
    except (OSError, ValueError):
        raise InvalidRequest("an input image could not be decoded", param="image") from None
    picture = picture.convert("RGBA")
    if mask is None:
        return Image.blend(base, picture, 0.5)
    return Image.composite(picture, base, mask)


def encode(image: Image.Image, fmt: str, compression: int | None) -> bytes:
    """`compression` (0-100, JPEG/WebP only) is Pillow's `quality`; 90 when not given."""
    quality = 90 if compression is None else compression
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=quality)
    else:
        image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
