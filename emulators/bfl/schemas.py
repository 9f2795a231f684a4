"""Request bodies of BFL's generation endpoints, transcribed by hand from BFL's OpenAPI.

Source: `shared/providers/bfl-openapi.json` (BFL-OAS, 2026-04-23). Field names, types, ranges,
defaults and required fields follow the spec; every `anyOf [T, null]` is `T | None`. No schema sets
`additionalProperties`, so (as pydantic/FastAPI do by default) unknown fields are ignored.
`webhook_url` renders in the spec exactly as pydantic's `HttpUrl` (uri, 1..2083 chars).

Checks beyond the spec (from REFERENCE.md §2.3; raised as FastAPI-style 422s too):
- aspect_ratio must be `W:H` between 21:9 and 9:21 (spec prose for ultra / kontext);
- FLUX.2 width/height multiples of 16 and width*height <= 4 MP (2048*2048 px);
- image fields: base64-only fields (`image_prompt`, `image`, `mask`) must decode to an image
  Pillow can identify (raw base64 or a `data:` URI); "base64 or URL" fields (Kontext / FLUX.2
  `input_image*`) may instead be an http(s) URL, which is recorded and never fetched;
- fill: `mask` must have the same dimensions as `image`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .images import image_size

MAX_FLUX2_PIXELS = 2048 * 2048


class OutputFormat(StrEnum):
    jpeg = "jpeg"
    png = "png"
    webp = "webp"


Tolerance6 = Annotated[int, Field(ge=0, le=6)]
Tolerance5 = Annotated[int, Field(ge=0, le=5)]
Side1 = Annotated[int, Field(ge=256, le=1440, multiple_of=32)]
Side2 = Annotated[int, Field(ge=64)]
Margin = Annotated[int, Field(ge=0, le=2048)]
Steps1to50 = Annotated[int, Field(ge=1, le=50)]
Steps15to50 = Annotated[int, Field(ge=15, le=50)]
Guidance5 = Annotated[float, Field(ge=1.5, le=5.0)]
Guidance10 = Annotated[float, Field(ge=1.5, le=10.0)]
Guidance100 = Annotated[float, Field(ge=1.5, le=100.0)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Strength = Annotated[float, Field(ge=0.0, le=2.0)]

BASE64_ONLY = ("image_prompt", "image", "mask")
URL_OR_BASE64 = tuple(["input_image"] + [f"input_image_{i}" for i in range(2, 9)])


def is_http_url(value: str) -> bool:
    return value.startswith(("http://", "https://")) and len(value) > len("https://")


def check_aspect_ratio(value: str | None) -> str | None:
    if value is None:
        return None
    parts = value.split(":")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError("aspect_ratio must be in the format 'width:height', e.g. '16:9'")
    ratio = int(parts[0]) / int(parts[1])
    if not 9 / 21 - 1e-9 <= ratio <= 21 / 9 + 1e-9:
        raise ValueError("aspect_ratio must be between 21:9 and 9:21")
    return value


def aspect_ratio_value(value: str) -> float:
    w, h = value.split(":")
    return int(w) / int(h)


class _Inputs(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @field_validator(*BASE64_ONLY, check_fields=False)
    @classmethod
    def _base64_image(cls, value: str | None) -> str | None:
        if value is not None and image_size(value) is None:
            raise ValueError("Invalid image: expected a base64-encoded image")
        return value

    @field_validator(*URL_OR_BASE64, check_fields=False)
    @classmethod
    def _url_or_base64_image(cls, value: str | None) -> str | None:
        if value is not None and not is_http_url(value) and image_size(value) is None:
            raise ValueError("Invalid image: expected a base64-encoded image or an http(s) URL")
        return value

    @field_validator("aspect_ratio", check_fields=False)
    @classmethod
    def _aspect_ratio(cls, value: str | None) -> str | None:
        return check_aspect_ratio(value)

    @field_validator("mask", check_fields=False)
    @classmethod
    def _mask_matches_image(cls, value: str | None, info: ValidationInfo) -> str | None:
        image = info.data.get("image")
        if value is not None and image is not None and image_size(value) != image_size(image):
            raise ValueError("mask must have the same dimensions as image")
        return value

    def image_fields(self) -> list[str]:
        """All provided image inputs (base64 strings or URLs), in field order."""
        names = [n for n in type(self).model_fields if n in BASE64_ONLY + URL_OR_BASE64]
        return [v for v in (getattr(self, n) for n in names) if isinstance(v, str) and v]


class _Webhook(BaseModel):
    webhook_url: HttpUrl | None = None
    webhook_secret: str | None = None


class FluxPro11Inputs(_Inputs, _Webhook):
    prompt: str | None = ""
    image_prompt: str | None = None
    width: Side1 = 1024
    height: Side1 = 768
    prompt_upsampling: bool = False
    seed: int | None = None
    safety_tolerance: Tolerance6 = 2
    output_format: OutputFormat | None = OutputFormat.jpeg


class FluxDevInputs(_Inputs, _Webhook):
    prompt: str = ""
    image_prompt: str | None = None
    width: Side1 = 1024
    height: Side1 = 768
    steps: Steps1to50 | None = 28
    prompt_upsampling: bool = False
    seed: int | None = None
    guidance: Guidance5 | None = 3.0
    safety_tolerance: Tolerance6 = 2
    output_format: OutputFormat | None = OutputFormat.jpeg


class FluxUltraInput(_Inputs, _Webhook):
    prompt: str | None = ""
    prompt_upsampling: bool = False
    seed: int | None = None
    aspect_ratio: str = "16:9"
    safety_tolerance: Tolerance6 = 2
    output_format: OutputFormat | None = OutputFormat.jpeg
    raw: bool = False
    image_prompt: str | None = None
    image_prompt_strength: Unit = 0.1


class FinetuneFluxUltraInput(_Inputs, _Webhook):
    finetune_id: str
    finetune_strength: Strength = 1.2
    prompt: str | None = ""
    seed: int | None = None
    aspect_ratio: str = "16:9"
    safety_tolerance: Tolerance6 = 2
    output_format: OutputFormat | None = OutputFormat.jpeg
    image_prompt: str | None = None
    image_prompt_strength: Unit = 0.1
    prompt_upsampling: bool = False


class FluxProFillInputs(_Inputs, _Webhook):
    image: str
    mask: str | None = None
    prompt: str | None = ""
    steps: Steps15to50 | None = 50
    prompt_upsampling: bool | None = False
    seed: int | None = None
    guidance: Guidance100 | None = 60
    output_format: OutputFormat | None = OutputFormat.jpeg
    safety_tolerance: Tolerance6 = 2


class FinetuneFluxProFillInputs(_Inputs, _Webhook):
    finetune_id: str
    finetune_strength: Strength = 1.1
    image: str
    mask: str | None = None
    prompt: str = ""
    steps: Steps15to50 = 50
    prompt_upsampling: bool = False
    seed: int | None = None
    guidance: Guidance100 = 60
    output_format: OutputFormat | None = OutputFormat.jpeg
    safety_tolerance: Tolerance6 = 2


class FluxProExpandInputs(_Inputs, _Webhook):
    image: str
    top: Margin | None = 0
    bottom: Margin | None = 0
    left: Margin | None = 0
    right: Margin | None = 0
    prompt: str | None = ""
    steps: Steps15to50 | None = 50
    prompt_upsampling: bool | None = False
    seed: int | None = None
    guidance: Guidance100 | None = 60
    output_format: OutputFormat | None = OutputFormat.jpeg
    safety_tolerance: Tolerance6 = 2


class FluxKontextProInputs(_Inputs, _Webhook):
    prompt: str
    input_image: str | None = None
    input_image_2: str | None = None
    input_image_3: str | None = None
    input_image_4: str | None = None
    seed: int | None = None
    aspect_ratio: str | None = None
    output_format: OutputFormat | None = OutputFormat.png
    prompt_upsampling: bool = False
    safety_tolerance: Tolerance6 = 2


class _Flux2Size(_Inputs):
    @field_validator("width", "height", check_fields=False)
    @classmethod
    def _multiple_of_16(cls, value: int | None) -> int | None:
        if value is not None and value % 16:
            raise PydanticCustomError(
                "multiple_of", "Input should be a multiple of {multiple_of}", {"multiple_of": 16}
            )
        return value

    @model_validator(mode="after")
    def _max_pixels(self) -> Any:
        width, height = getattr(self, "width", None), getattr(self, "height", None)
        if width and height and width * height > MAX_FLUX2_PIXELS:
            raise ValueError(
                f"width * height must not exceed 4 megapixels ({MAX_FLUX2_PIXELS} pixels)"
            )
        return self


class Flux2KleinInputs(_Flux2Size, _Webhook):
    prompt: str
    input_image: str | None = None
    input_image_2: str | None = None
    input_image_3: str | None = None
    input_image_4: str | None = None
    seed: int | None = None
    width: Side2 | None = 0
    height: Side2 | None = 0
    safety_tolerance: Tolerance5 = 2
    output_format: OutputFormat | None = OutputFormat.jpeg


class Flux2Inputs(Flux2KleinInputs):
    input_image_5: str | None = None
    input_image_6: str | None = None
    input_image_7: str | None = None
    input_image_8: str | None = None


class Flux2FlexInputs(Flux2Inputs):
    prompt_upsampling: bool | None = True
    input_image_blob_path: str | None = None
    guidance: Guidance10 | None = 5.0
    steps: Steps1to50 | None = 50
