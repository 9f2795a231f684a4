"""Wire schemas (what clients send and get back) and the normalized task adapters receive.

`GenerationBody` accepts both dialects in one model: our unified fields (`provider`, `user_id`,
`provider_params`, `aspect_ratio`, `seed`, `negative_prompt`) and the OpenAI Images fields.
Unknown fields are refused at every depth we own (`extra="forbid"`); `provider_params` is
checked by the chosen adapter against the fields that provider accepts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from .errors import InvalidRequest

OutputFormat = Literal["png", "jpeg", "webp"]
ResponseFormat = Literal["url", "b64_json"]

SIZE_RE = re.compile(r"^([1-9][0-9]{1,4})x([1-9][0-9]{1,4})$")
ASPECT_RE = re.compile(r"^([1-9][0-9]{0,2}):([1-9][0-9]{0,2})$")

MAX_FALLBACKS = 5

# Common fields a client may also put inside `provider_params`.
LIFTED_PARAMS = ("model", "aspect_ratio", "seed", "output_format", "size")

MIME_BY_FORMAT: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
FORMAT_BY_MIME: dict[str, str] = {v: k for k, v in MIME_BY_FORMAT.items()}


class GenerationBody(BaseModel):
    """`POST /v1/images/generations`: unified body and OpenAI body in one."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    provider: str | None = Field(None, max_length=64)
    model: str | None = Field(None, max_length=200)
    n: int = Field(1, ge=1, le=10)
    size: str | None = Field(None, max_length=16, description='"WxH" (e.g. "1024x768") or "auto"')
    aspect_ratio: str | None = Field(None, max_length=9, description='"W:H", e.g. "16:9"')
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    quality: str | None = Field(None, max_length=16)
    style: str | None = Field(None, max_length=16)
    response_format: ResponseFormat | None = None
    output_format: OutputFormat | None = None
    output_compression: int | None = Field(None, ge=0, le=100)
    background: Literal["transparent", "opaque", "auto"] | None = None
    moderation: Literal["low", "auto"] | None = None
    negative_prompt: str | None = Field(None, max_length=10_000)
    user: str | None = Field(None, max_length=256)
    user_id: str | None = Field(None, max_length=256)
    provider_params: dict[str, JsonValue] = Field(default_factory=dict)
    webhook_url: str | None = Field(
        None,
        max_length=2083,
        description="async jobs only: POSTed the finished job, signed (X-Gateway-Signature)",
    )
    webhook_secret: str | None = Field(
        None, min_length=16, max_length=256, description="HMAC secret for the webhook signature"
    )
    fallbacks: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=MAX_FALLBACKS,
        description="models, provider/model ids, routes or provider names to try in order when "
        "the primary fails (not on invalid input or moderation); provider_params go only to "
        "candidates of the primary's provider",
    )

    @model_validator(mode="before")
    @classmethod
    def _lift_common_params(cls, data: Any) -> Any:
        """`provider_params` may carry common fields (the seed request sends `model` and
        `aspect_ratio` there): lift them to the top level, where they are validated."""
        if not isinstance(data, dict) or not isinstance(data.get("provider_params"), dict):
            return data
        params = dict(data["provider_params"])
        lifted = dict(data)
        for name in LIFTED_PARAMS:
            if name not in params:
                continue
            value = params.pop(name)
            if lifted.get(name) is not None and lifted[name] != value:
                raise ValueError(
                    f"{name} is given twice with different values (top level and provider_params)"
                )
            lifted[name] = value
        lifted["provider_params"] = params
        return lifted

    @field_validator("size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None and value != "auto" and not SIZE_RE.match(value):
            raise ValueError('must be "WIDTHxHEIGHT" (for example "1024x1024") or "auto"')
        return value

    @field_validator("aspect_ratio")
    @classmethod
    def _aspect(cls, value: str | None) -> str | None:
        if value is not None and not ASPECT_RE.match(value):
            raise ValueError('must be "W:H" with small integers, for example "16:9"')
        return value

    @field_validator("provider_params")
    @classmethod
    def _params_size(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        if len(value) > 64:
            raise ValueError("at most 64 provider parameters")
        return value

    @field_validator("fallbacks", mode="before")
    @classmethod
    def _fallbacks_text(cls, value: Any) -> Any:
        """Form fields are strings: a JSON array, or comma-separated ids."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                raise ValueError("must be a JSON array of model ids") from None
        return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True, slots=True)
class InputImage:
    """An image the client uploaded (edits) — bytes already read under the body limit."""

    data: bytes
    content_type: str
    filename: str = "image"


@dataclass(slots=True)
class ImageTask:
    """What an adapter receives: provider and model resolved, common fields parsed."""

    provider: str
    model: str
    prompt: str
    n: int = 1
    size: tuple[int, int] | None = None  # None = provider default ("auto")
    aspect_ratio: str | None = None
    seed: int | None = None
    quality: str | None = None
    style: str | None = None
    output_format: str | None = None
    output_compression: int | None = None
    background: str | None = None
    moderation: str | None = None
    negative_prompt: str | None = None
    user: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    images: list[InputImage] = field(default_factory=list)
    mask: InputImage | None = None

    @property
    def is_edit(self) -> bool:
        return bool(self.images)


@dataclass(slots=True)
class GeneratedImage:
    data: bytes
    content_type: str
    seed: int | None = None
    revised_prompt: str | None = None
    b64: str | None = None  # the provider's own (validated) base64 of `data`, sent on as is


@dataclass(slots=True)
class ProviderResult:
    images: list[GeneratedImage]
    usage: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # provider fields echoed in the response


class ImageData(BaseModel):
    b64_json: str | None = None
    url: str | None = None
    revised_prompt: str | None = None
    seed: int | None = None


class ImagesResponse(BaseModel):
    """OpenAI `ImagesResponse` plus which provider and model served it."""

    id: str
    created: int
    provider: str
    model: str
    data: list[ImageData]
    output_format: str | None = None
    size: str | None = None
    quality: str | None = None
    background: str | None = None
    usage: dict[str, Any] | None = None
    attempts: int | None = Field(
        None, description="upstream calls made: fan-out, retries and fallbacks included"
    )
    fallback_from: str | None = Field(
        None, description="provider/model of the primary, when a fallback served the request"
    )
    route: str | None = Field(None, description="the route (alias) named by `model`, if any")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def parse_size(value: str | None) -> tuple[int, int] | None:
    if value is None or value == "auto":
        return None
    match = SIZE_RE.match(value)
    if not match:
        raise InvalidRequest(
            'size must be "WIDTHxHEIGHT" (for example "1024x1024") or "auto"', param="size"
        )
    return int(match.group(1)), int(match.group(2))
