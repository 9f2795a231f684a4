"""Input images for Nova Canvas and Titan (AWS-DOCS Nova "Input images for image generation"
and "Masking images"): PNG or JPEG, 8 bits per channel; a PNG's alpha channel may not hold a
transparent or translucent pixel; a mask is pure black and white, black being the area to
change, and has the image's size.

OpenAI marks the area to edit with transparent pixels instead, so an OpenAI-style mask (one
with transparency) becomes Nova's black-and-white mask here; a mask without transparency is
taken as already in Nova's convention and passes unchanged. Pillow reads only what an edit
brings, in a worker thread (`adapter.prepare`).
"""

from __future__ import annotations

import io

import pybase64

from image_gateway.errors import InvalidRequest
from image_gateway.providers.kit.masks import BLACK, black_and_white_mask

STABILITY_MIN_SIDE = 64  # pixels, REFERENCE-MORE §2.2


def check_opaque(data: bytes, index: int) -> tuple[int, int]:
    """The image's size; `InvalidRequest` naming `image` when it cannot be read or has a
    transparent or translucent pixel."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            size = image.size
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                low, _ = image.convert("RGBA").getchannel("A").getextrema()
                if isinstance(low, int | float) and low < 255:
                    raise InvalidRequest(
                        f"input image {index} has transparent pixels, which Bedrock's Amazon "
                        "models refuse: send an opaque image and mark the area to edit with "
                        "`mask`",
                        param="image",
                    )
    except (OSError, ValueError):
        raise InvalidRequest(
            f"input image {index} could not be decoded as an image", param="image"
        ) from None
    return size


def nova_mask(data: bytes, size: tuple[int, int]) -> str:
    """The base64 PNG `maskImage` for an edit of an image of `size` (module docstring; the
    conversion is `kit/masks.py`'s, black where OpenAI's mask is transparent); `InvalidRequest`
    naming `mask` when it cannot be read or has another size."""
    mask = black_and_white_mask(data, edited=BLACK, mode="RGB", size=size)
    return pybase64.b64encode(mask).decode("ascii")


def check_stability_input(data: bytes) -> None:
    """A Stability image-to-image input is at least 64 pixels a side (REFERENCE-MORE §2.2,
    Stability's API: SD3.5 ">=64 px per side", Ultra "64-16384 px per side, >=4096 px total";
    §6.4: the same fields on Bedrock); `InvalidRequest` naming `image` otherwise."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (OSError, ValueError):
        raise InvalidRequest(
            "the input image could not be decoded as an image", param="image"
        ) from None
    if min(width, height) < STABILITY_MIN_SIDE:
        raise InvalidRequest(
            f"the input image is {width}x{height}: Stability's models on Bedrock take images "
            f"of at least {STABILITY_MIN_SIDE} pixels a side",
            param="image",
        )
