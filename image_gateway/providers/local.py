"""`local`: the built-in offline provider. Not an AI model.

Draws a deterministic picture from the prompt and seed with Pillow (gradient, shapes, a label
saying what it is), honouring size, aspect ratio, n, output format and transparency, so the
gateway serves real images with no key and no network. Edits blend the drawing into the input.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random

from PIL import Image, ImageDraw

from ..errors import InvalidRequest
from ..schemas import MIME_BY_FORMAT, GeneratedImage, ImageTask, ProviderResult
from .base import ModelSpec, Provider
from .journal import NO_JOURNAL, CallJournal
from .sizing import dims_for_aspect

MIN_SIDE, MAX_SIDE = 64, 2048
DEFAULT_SIZE = (1024, 1024)

MODELS = {
    "local-art": ModelSpec(
        id="local-art",
        description="Offline drawing from prompt and seed (Pillow). Not an AI model.",
        size_rule=f"any WxH, each side {MIN_SIDE}-{MAX_SIDE}",
        aspect_ratios=True,
        images_per_call=10,
        edits=True,
        max_input_images=16,
        default_output_format="png",
    ),
}


class LocalProvider(Provider):
    name = "local"
    label = "Built-in offline renderer (not an AI model)"
    default_model_setting = "local_default_model"

    @property
    def configured(self) -> bool:
        return True

    def catalogue(self) -> dict[str, ModelSpec]:
        return MODELS

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        super().validate(task, spec)
        width, height = output_size(task)
        if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
            raise InvalidRequest(
                f"{spec.id} draws sides between {MIN_SIDE} and {MAX_SIDE} pixels", param="size"
            )

    async def generate(
        self, task: ImageTask, spec: ModelSpec, journal: CallJournal = NO_JOURNAL
    ) -> ProviderResult:
        # Encoding is CPU-bound: keep it off the event loop.
        images = await asyncio.to_thread(render_all, task, spec.default_output_format)
        return ProviderResult(images=images)


def output_size(task: ImageTask) -> tuple[int, int]:
    if task.size is not None:
        return task.size
    if task.aspect_ratio is not None:
        return dims_for_aspect(task.aspect_ratio, megapixels=1.0, multiple=16)
    if task.images:
        with Image.open(io.BytesIO(task.images[0].data)) as first:
            return first.size
    return DEFAULT_SIZE


def base_seed(task: ImageTask) -> int:
    if task.seed is not None:
        return task.seed
    digest = hashlib.sha256(task.prompt.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big")


def render_all(task: ImageTask, default_format: str) -> list[GeneratedImage]:
    fmt = task.output_format or default_format
    size = output_size(task)
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
    image = Image.composite(
        Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient
    ).convert("RGBA")
    if transparent:
        image.putalpha(0)
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
    label = f"local renderer - not an AI model\nseed {seed}\n{prompt[:60]}"
    layer.multiline_text(
        (8, 8), label, fill=(255, 255, 255, 255), stroke_width=1, stroke_fill=(0, 0, 0, 255)
    )
    return image


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
    if mask is None:
        return Image.blend(base, picture, 0.5)
    return Image.composite(picture, base, mask)


def encode(image: Image.Image, fmt: str, compression: int | None) -> bytes:
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(buffer, "JPEG", quality=compression or 90)
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=compression or 90)
    else:
        image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
