"""Mask conventions: OpenAI marks the region to edit with transparent pixels; BFL Fill wants a
black-and-white image where white is inpainted (`kit/masks.py` converts). Masks without
transparency pass unchanged."""

from __future__ import annotations

import pybase64

from image_gateway.providers.kit.masks import WHITE, black_and_white_mask


def openai_mask_to_bfl(data: bytes) -> str:
    """The base64 PNG `mask` for BFL Fill; `InvalidRequest` naming `mask` when unreadable."""
    return pybase64.b64encode(black_and_white_mask(data, edited=WHITE)).decode("ascii")
