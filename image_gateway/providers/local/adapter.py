"""`local`: the built-in offline provider. Not an AI model.

Draws a deterministic picture from the prompt and seed with Pillow (gradient, shapes, a label
saying what it is), so the gateway serves real images with no key and no network. Edits blend
the drawing into the input (and honour a mask). It declares what the drawing really honours —
size, aspect ratio, n, seed, output format, output compression (JPEG/WebP quality) and
background (transparent with PNG/WebP, or opaque) — and, like every model, refuses the rest
(quality, style, moderation, negative_prompt, input_fidelity) with a 400 naming the field.
The drawing (Pillow) lives in `drawing.py`, imported with the first image, so a gateway
that never draws does not pay for importing Pillow at start-up (bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import io

from image_gateway.errors import InvalidRequest
from image_gateway.providers.kit.base import Provider
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal
from image_gateway.providers.kit.sizing import dims_for_aspect
from image_gateway.providers.local import DEFINITION
from image_gateway.providers.local.config import LocalConfig
from image_gateway.providers.local.models import (
    DEFAULT_SIZE,
    MAX_SIDE,
    MEGAPIXELS,
    MIN_SIDE,
    MODELS,
)
from image_gateway.schemas import ImageTask, ProviderResult


class LocalProvider(Provider[LocalConfig]):
    definition = DEFINITION
    models = MODELS

    def normalize(self, task: ImageTask, spec: ModelSpec) -> None:
        """An aspect ratio without a size becomes a size of about one megapixel."""
        if task.aspect_ratio is not None and task.size is None:
            task.size = dims_for_aspect(task.aspect_ratio, megapixels=MEGAPIXELS, multiple=16)

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        super().validate(task, spec)
        if task.size is None and task.images and task.images[0].pending:
            return  # checked again once the image named by URL is loaded
        width, height = output_size(task)
        if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
            raise InvalidRequest(
                f"{spec.id} draws sides between {MIN_SIDE} and {MAX_SIDE} pixels", param="size"
            )

    async def generate(
        self, task: ImageTask, spec: ModelSpec, journal: CallJournal = NO_JOURNAL
    ) -> ProviderResult:
        from image_gateway.providers.local.drawing import render_all

        # Encoding is CPU-bound: keep it off the event loop.
        images = await asyncio.to_thread(
            render_all, task, spec.default_output_format, output_size(task)
        )
        return ProviderResult(images=images)


def output_size(task: ImageTask) -> tuple[int, int]:
    """The size drawn: the task's (an aspect ratio became one in `normalize`), else the first
    input image's, else `DEFAULT_SIZE`."""
    if task.size is not None:
        return task.size
    if task.images:
        from PIL import Image

        with Image.open(io.BytesIO(task.images[0].data)) as first:
            return first.size
    return DEFAULT_SIZE
