"""Images that are not a real model's say so where a person sees it at a glance: the `local`
renderer's label and the emulators' "emulator" band are large white text on a dark band,
sized to the image. Fetched over real sockets through the gateway, decoded with Pillow."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from tests.conftest import BFL_TEST_KEY, OPENAI_TEST_KEY, RunningGateway


def text_rows(image: Image.Image, top: float, bottom: float) -> tuple[int, float]:
    """Within the rows from `top` to `bottom` (fractions of the height): how many rows hold
    white text pixels, and the mean brightness of the other pixels (the band behind them)."""
    grey = image.convert("L")
    width, height = grey.size
    pixels = grey.load()
    assert pixels is not None
    rows, background = 0, []
    for y in range(int(top * height), int(bottom * height)):
        values = [int(pixels[x, y]) for x in range(width)]  # type: ignore[arg-type]
        if sum(v > 215 for v in values) >= 2:
            rows += 1
        background += [v for v in values if v < 200]
    return rows, sum(background) / max(1, len(background))


def generate(gateway: RunningGateway, **body: Any) -> Image.Image:
    with gateway.client() as http:
        response = http.post("/v1/images/generations", json={"prompt": "a fox", **body})
    assert response.status_code == 200, response.text
    data = base64.b64decode(response.json()["data"][0]["b64_json"])
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(("size", "share"), [("1024x1024", 16), ("1536x640", 16), ("256x256", 20)])
def test_the_local_label_is_readable_at_a_glance(
    gateway: RunningGateway, size: str, share: int
) -> None:
    image = generate(gateway, model="local/local-art", size=size)
    rows, band = text_rows(image, 0, 0.25)
    # Two lines of text, together over 1/16 of the shorter side tall (the fixed 11-pixel
    # bitmap label this replaced was 1/30 of a 1024 image), on a dark band. A small image's
    # label is as large as its width allows.
    assert rows >= min(image.size) / share, (size, rows)
    assert band < 110, (size, band)


def test_openai_emulator_images_say_emulator(
    start_gateway: Callable[..., RunningGateway], openai_emu: Any
) -> None:
    gateway = start_gateway(openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url)
    for size in ("1024x1024", "1536x1024"):
        image = generate(gateway, model="gpt-image-1", size=size, quality="low")
        rows, band = text_rows(image, 0.3, 0.7)
        assert rows >= image.size[1] / 10, (size, rows)
        assert band < 110, (size, band)


def test_bfl_emulator_images_say_emulator(
    start_gateway: Callable[..., RunningGateway], bfl: Any
) -> None:
    gateway = start_gateway(
        bfl_api_key=BFL_TEST_KEY, bfl_base_url=bfl.base_url, bfl_trusted_hosts=bfl.poll_base_url
    )
    image = generate(gateway, model="flux-pro-1.1", aspect_ratio="16:9", output_format="png")
    rows, band = text_rows(image, 0.3, 0.7)
    assert rows >= image.size[1] / 10, rows
    assert band < 110, band
