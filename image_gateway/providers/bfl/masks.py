"""Mask conventions: OpenAI marks the region to edit with transparent pixels; BFL Fill wants a
black-and-white image where white is inpainted. Masks without transparency pass unchanged."""

from __future__ import annotations

import base64
import io

from image_gateway.errors import InvalidRequest


def openai_mask_to_bfl(data: bytes) -> str:
    from PIL import Image  # only edits with a mask need Pillow here

    try:
        with Image.open(io.BytesIO(data)) as mask:
            if mask.mode in ("RGBA", "LA") or "transparency" in mask.info:
                alpha = mask.convert("RGBA").getchannel("A")
                low, _high = alpha.getextrema()
                if isinstance(low, int | float) and low < 255:
                    bw = alpha.point(lambda a: 255 if a == 0 else 0)
                    out = io.BytesIO()
                    bw.save(out, "PNG")
                    data = out.getvalue()
    except (OSError, ValueError):
        raise InvalidRequest("the mask could not be decoded as an image", param="mask") from None
    return base64.b64encode(data).decode("ascii")
