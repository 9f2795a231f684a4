"""OpenAI-style masks to the black-and-white masks other APIs take, in one place.

OpenAI marks the area to edit with transparent pixels (alpha 0); BFL Fill wants white where it
inpaints (black kept), Nova Canvas and Titan black where they change (white kept): the same
conversion with the colours swapped (`edited`). A mask without transparency is taken as
already in the API's own convention and passes unchanged. Palette images with a transparency
entry (`P`, `PA`) count as transparent too. Pillow is imported only when an edit brings a mask;
callers run this in a worker thread.
"""

from __future__ import annotations

import io
from typing import Literal

from image_gateway.errors import InvalidRequest

BLACK: Literal[0] = 0
WHITE: Literal[255] = 255


def black_and_white_mask(
    data: bytes,
    *,
    edited: Literal[0, 255],
    mode: Literal["L", "RGB"] = "L",
    size: tuple[int, int] | None = None,
) -> bytes:
    """The PNG mask (bytes) where the transparent pixels of an OpenAI mask become `edited`
    (`BLACK` or `WHITE`) and every other pixel the other colour, in `mode` (8 bits per
    channel); `data` unchanged when it has no transparent pixel. With `size`, the mask must be
    that size (the input image's). `InvalidRequest` naming `mask` when it cannot be read or
    has another size."""
    from PIL import Image

    kept = WHITE - edited
    try:
        with Image.open(io.BytesIO(data)) as mask:
            if size is not None and mask.size != size:
                raise InvalidRequest(
                    f"the mask is {mask.size[0]}x{mask.size[1]}, the image "
                    f"{size[0]}x{size[1]}: they must be the same size",
                    param="mask",
                )
            if mask.mode not in ("RGBA", "LA", "PA") and "transparency" not in mask.info:
                return data
            alpha = mask.convert("RGBA").getchannel("A")
            low, _ = alpha.getextrema()
            if not (isinstance(low, int | float) and low < 255):
                return data
            converted = alpha.point(lambda a: edited if a == 0 else kept).convert(mode)
            out = io.BytesIO()
            converted.save(out, "PNG")
            return out.getvalue()
    except (OSError, ValueError):
        raise InvalidRequest("the mask could not be decoded as an image", param="mask") from None
