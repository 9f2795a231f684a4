"""`validate` is pure for every registered provider's models: validating a task, as it comes
or after `normalize` (which may fill in, e.g. a size from an aspect ratio), whether it passes
or refuses, changes nothing in it."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
from PIL import Image

from image_gateway.errors import CallerError
from image_gateway.providers.kit.base import Provider, adapter_class
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.registry import DEFINITIONS
from image_gateway.schemas import ImageTask, InputImage
from image_gateway.settings import Settings


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


def providers() -> list[Provider]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return [adapter_class(d)(settings, None) for d in DEFINITIONS.values()]  # type: ignore[arg-type]


def tasks(spec: ModelSpec) -> list[dict[str, Any]]:
    """Requests that pass and requests that are refused, for this model."""
    image = InputImage(png(), "image/png")
    variants: list[dict[str, Any]] = [
        {},
        {"aspect_ratio": "16:9"},
        {"aspect_ratio": "3:2", "n": 2, "seed": 7},
        {"size": (1000, 1000)},
        {"quality": "high", "style": "natural", "output_format": "jpeg"},
        {"output_compression": 50, "output_format": "webp", "background": "opaque"},
        {"images": [image]},
        {"images": [image], "mask": image, "aspect_ratio": "1:1"},
        {"params": {"unknown": 1}},
        {"prompt": "x" * 40_000},
    ]
    variants += [{"size": tuple(map(int, size.split("x")))} for size in spec.sizes]
    return variants


CASES = [
    pytest.param(provider, spec, kwargs, id=f"{provider.name}/{spec.id}/{i}")
    for provider in providers()
    for spec in provider.catalogue().values()
    for i, kwargs in enumerate(tasks(spec))
]


@pytest.mark.parametrize("normalized", [True, False], ids=["normalized", "raw"])
@pytest.mark.parametrize(("provider", "spec", "kwargs"), CASES)
def test_validate_leaves_the_task_unchanged(
    provider: Provider, spec: ModelSpec, kwargs: dict[str, Any], normalized: bool
) -> None:
    fields = {"prompt": "a lighthouse", **kwargs}
    task = ImageTask(provider=provider.name, model=spec.id, **fields)
    if normalized:
        try:
            provider.normalize(task, spec)
        except CallerError:
            return  # refused while normalizing: nothing left to validate
    before = dataclasses.asdict(task)
    try:
        provider.validate(task, spec)
    except CallerError:
        pass
    assert dataclasses.asdict(task) == before
