"""The `local` provider's one model and what the drawing honours (`adapter.py` docstring)."""

from __future__ import annotations

from image_gateway.providers.kit.capabilities import ModelSpec

MIN_SIDE, MAX_SIDE = 64, 2048  # pixels, each side
DEFAULT_SIZE = (1024, 1024)  # without a size, aspect ratio or input image
MEGAPIXELS = 1.0  # the size an aspect ratio alone gets (sides multiples of 16)

MODELS = {
    "local-art": ModelSpec(
        id="local-art",
        description="Offline drawing from prompt and seed (Pillow). Not an AI model.",
        size_rule=f"any WxH, each side {MIN_SIDE}-{MAX_SIDE}",
        aspect_ratios=True,
        images_per_call=10,
        edits=True,
        masks=True,
        max_input_images=16,
        seed=True,
        backgrounds=("transparent", "opaque"),
        output_compression=True,
        output_formats=("png", "jpeg", "webp"),
        default_output_format="png",
    ),
}
