from __future__ import annotations

import pytest

from image_gateway.providers.kit.sizing import aspect_of, dims_for_aspect, fit_within


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1024, 1024), "1:1"),
        ((1024, 768), "4:3"),
        ((1536, 1024), "3:2"),
        ((1920, 1080), "16:9"),
        ((768, 1024), "3:4"),
        ((2520, 1080), "7:3"),
    ],
)
def test_aspect_of(size: tuple[int, int], expected: str) -> None:
    assert aspect_of(size) == expected


def test_dims_for_aspect_rounds_and_keeps_area() -> None:
    width, height = dims_for_aspect("16:9", megapixels=1.0, multiple=32)
    assert width % 32 == 0 and height % 32 == 0
    assert abs(width / height - 16 / 9) < 0.05
    assert 0.9e6 < width * height < 1.1e6


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1024, 768), (1024, 768)),
        ((1536, 1024), (1440, 960)),
        ((100, 100), (256, 256)),
        ((1000, 1000), (992, 992)),
        ((4000, 1000), (1440, 352)),
    ],
)
def test_fit_within_flux1_range(size: tuple[int, int], expected: tuple[int, int]) -> None:
    result = fit_within(size, low=256, high=1440, multiple=32)
    assert result == expected
    assert all(256 <= side <= 1440 and side % 32 == 0 for side in result)


def test_fit_within_caps_megapixels() -> None:
    width, height = fit_within(
        (4096, 4096), low=64, high=4096, multiple=16, max_pixels=4 * 1024 * 1024
    )
    assert width * height <= 4 * 1024 * 1024 and width % 16 == 0 and height % 16 == 0
    assert width == height
