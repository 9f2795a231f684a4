"""Refusal texts name what the chosen model can do: the output formats `output_compression`
works with are the model's own (Imagen makes no WebP), and "1 input image" is singular."""

from __future__ import annotations

import io
import types

import pytest
from PIL import Image

from image_gateway.errors import InvalidRequest
from image_gateway.providers.kit.base import Provider, adapter_class
from image_gateway.providers.kit.capabilities import COMPRESSED_FORMATS, ModelSpec, refusal
from image_gateway.providers.registry import DEFINITIONS
from image_gateway.schemas import ImageTask, InputImage
from image_gateway.settings import Settings


def providers() -> list[Provider]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return [adapter_class(d)(settings, None) for d in DEFINITIONS.values()]  # type: ignore[arg-type]


def specs() -> list[ModelSpec]:
    return [spec for provider in providers() for spec in provider.models.values()]


COMPRESSIBLE = [
    s for s in specs() if s.output_compression and set(s.output_formats) - set(COMPRESSED_FORMATS)
]


@pytest.mark.parametrize("spec", COMPRESSIBLE, ids=lambda s: s.id)
def test_output_compression_names_only_formats_the_model_makes(spec: ModelSpec) -> None:
    plain = next(f for f in spec.output_formats if f not in COMPRESSED_FORMATS)
    task = types.SimpleNamespace(output_compression=60, output_format=plain)
    err = refusal(task, spec, "output_compression")  # type: ignore[arg-type]
    assert isinstance(err, InvalidRequest) and err.param == "output_compression"
    named = [f for f in COMPRESSED_FORMATS if f in err.message]
    assert named and set(named) <= set(spec.output_formats), err.message


def test_imagen_is_not_told_to_use_webp() -> None:
    imagen = next(s for s in specs() if s.id == "imagen-4.0-generate-001")
    task = types.SimpleNamespace(output_compression=60, output_format="png")
    err = refusal(task, imagen, "output_compression")  # type: ignore[arg-type]
    assert err is not None and "webp" not in err.message and "jpeg" in err.message


def test_one_input_image_is_singular() -> None:
    found = [(p, s) for p in providers() for s in p.models.values() if s.max_input_images == 1]
    if not found:
        pytest.skip("no registered model takes exactly one input image")
    provider, spec = found[0]
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, "PNG")
    image = InputImage(buf.getvalue(), "image/png")
    task = ImageTask(provider=provider.name, prompt="p", model=spec.id, images=[image, image])
    with pytest.raises(InvalidRequest) as refused:
        provider.validate(task, spec)
    assert "takes at most 1 input image" in refused.value.message
    assert "1 input images" not in refused.value.message
