"""`kit/masks.py`: the one OpenAI-mask conversion BFL Fill (white is edited) and Bedrock's
Nova Canvas and Titan (black is edited) share; through the gateway in test_bfl_e2e.py and
test_bedrock.py, here each form of transparency Pillow reads, both polarities."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from image_gateway.errors import InvalidRequest
from image_gateway.providers.kit.masks import BLACK, WHITE, black_and_white_mask


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def half_transparent(mode: str) -> Image.Image:
    """The left half transparent (OpenAI: edit it), the right half opaque, in `mode`."""
    image = Image.new("RGBA", (8, 4), (10, 20, 30, 255))
    image.paste((0, 0, 0, 0), (0, 0, 4, 4))
    return image.convert(mode)


def palette_with_transparency() -> Image.Image:
    image = Image.new("P", (8, 4), 1)
    image.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    image.paste(0, (0, 0, 4, 4))
    image.info["transparency"] = 0
    return image


@pytest.mark.parametrize(
    "source",
    [
        encoded(half_transparent("RGBA")),
        encoded(half_transparent("LA")),
        encoded(palette_with_transparency()),  # a PNG palette with a tRNS entry
        encoded(half_transparent("PA"), "TIFF"),  # PA: what BFL's copy did not read
    ],
    ids=["RGBA", "LA", "P+tRNS", "PA"],
)
@pytest.mark.parametrize(("edited", "kept"), [(WHITE, BLACK), (BLACK, WHITE)])
def test_transparent_pixels_become_the_edited_colour(source: bytes, edited: int, kept: int) -> None:
    mask = Image.open(io.BytesIO(black_and_white_mask(source, edited=edited)))  # type: ignore[arg-type]
    assert (mask.format, mask.mode, mask.size) == ("PNG", "L", (8, 4))
    assert mask.getpixel((1, 1)) == edited and mask.getpixel((6, 1)) == kept
    assert sorted(c for _, c in mask.getcolors() or []) == sorted([edited, kept])


def test_rgb_output_and_the_size_check() -> None:
    source = encoded(half_transparent("RGBA"))
    mask = Image.open(io.BytesIO(black_and_white_mask(source, edited=BLACK, mode="RGB")))
    assert mask.mode == "RGB" and mask.getpixel((1, 1)) == (0, 0, 0)
    with pytest.raises(InvalidRequest) as caught:
        black_and_white_mask(source, edited=BLACK, size=(16, 16))
    assert caught.value.param == "mask" and "8x4" in str(caught.value)


@pytest.mark.parametrize(
    "source",
    [
        encoded(Image.new("L", (8, 4), 255)),  # already black and white
        encoded(Image.new("RGBA", (8, 4), (0, 0, 0, 255))),  # an alpha channel, all opaque
    ],
)
def test_a_mask_without_transparency_passes_unchanged(source: bytes) -> None:
    assert black_and_white_mask(source, edited=WHITE) == source


def test_a_mask_that_is_no_image_names_mask() -> None:
    with pytest.raises(InvalidRequest) as caught:
        black_and_white_mask(b"not an image", edited=WHITE)
    assert caught.value.param == "mask"
