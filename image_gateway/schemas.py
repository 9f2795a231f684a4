"""Wire schemas (what clients send and get back) and the normalized task adapters receive.

`GenerationBody` accepts both dialects in one model: our unified fields (`provider`, `user_id`,
`provider_params`, `aspect_ratio`, `seed`, `negative_prompt`) and the OpenAI Images fields.
Unknown fields are refused at every depth we own (`extra="forbid"`); `provider_params` is
checked by the chosen adapter against the fields that provider accepts.

JSON `null` in any field we know means "not given" (`given`). In a form (multipart or
URL-encoded edits) every value is text: `form_value` says which texts mean null — an empty
value, and the text "null" (what JavaScript's `FormData.append(name, null)` sends) wherever
a valid value can never be that text. OpenAI's documented defaults (`OPENAI_DEFAULTS`) mean
"not given" too where the model cannot honour them: per model in `providers/capabilities.py`,
and here for what no model of the gateway offers (GIF and SVG output), whose other values are
a 400 naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pybase64
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from image_gateway.errors import InvalidRequest

OutputFormat = Literal["png", "jpeg", "webp"]
ResponseFormat = Literal["url", "b64_json"]

SIZE_RE = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")
ASPECT_RE = re.compile(r"^([1-9][0-9]{0,2}):([1-9][0-9]{0,2})$")

MAX_FALLBACKS = 5

# Common fields a client may also put inside `provider_params`.
LIFTED_PARAMS = (
    "model",
    "aspect_ratio",
    "seed",
    "output_format",
    "size",
    "input_fidelity",
    "safety_identifier",
)

# OpenAI's documented default of each optional Images API field that has one: sending it means
# what leaving the field out means. Source: openai-python 3.57.0, the field docstrings of
# `types/image_generate_params.py` and `types/image_edit_params.py` ("auto (default value)",
# "defaults to 100", "Defaults to `low` on supported models", "Defaults to `false`", "Defaults
# to 9 when omitted", ...); `quality: "standard"` and `style: "vivid"` are the DALL·E defaults
# older clients still send (`standard` "the only option for dall-e-2"; vivid, dall-e-3's
# default, shared/providers/REFERENCE.md §1.3). `n` (1) and `response_format` are honoured by
# every model, so they need no entry. Applied per model by `providers/capabilities.
# drop_defaults` (a default the chosen model cannot honour is dropped; one it can is sent on)
# and, for the fields no model here offers (NOT_OFFERED), by `GenerationBody`.
OPENAI_DEFAULTS: dict[str, tuple[object, ...]] = {
    "size": ("auto",),
    "quality": ("auto", "standard"),
    "style": ("vivid",),
    "background": ("auto",),
    "moderation": ("auto",),
    "output_format": ("png",),
    "output_compression": (100,),
    "input_fidelity": ("low",),
    "stream": (False,),
    "partial_images": (0,),
    "frame_count": (9,),
    "frame_duration_ms": (200,),
}

# OpenAI Images fields that no model of the gateway offers yet: their default (or null) is
# accepted as "not given", anything else is this 400 (`unsupported_parameter`).
NOT_OFFERED = {
    "frame_count": "GIF output is not supported, and frame_count applies only to it",
    "frame_duration_ms": "GIF output is not supported, and frame_duration_ms applies only to it",
    "complexity": "complexity is not supported by the models of this gateway",
    "svg": "SVG output is not supported",
}

# Fields whose value is free text, where the text "null" is a value like any other (a prompt
# may say "null"); every other field's valid values never are that text (see `form_value`).
FREE_TEXT_FIELDS = frozenset({"prompt", "negative_prompt", "user", "user_id", "safety_identifier"})

MIME_BY_FORMAT: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
FORMAT_BY_MIME: dict[str, str] = {v: k for k, v in MIME_BY_FORMAT.items()}


def given(data: dict[str, Any], known: Collection[str]) -> dict[str, Any]:
    """`data` without what is not given: JSON null in a field we know. An unknown name stays,
    null or not, to be refused by name."""
    return {k: v for k, v in data.items() if v is not None or k not in known}


def form_value(name: str, text: str) -> str | None:
    """A form field's text as the body's value: None (JSON null: "not given") for an empty
    value — browsers send empty inputs — and for the text "null" in every field but the free
    text ones (`FREE_TEXT_FIELDS`): enums, numbers, booleans, sizes, ids, URLs and JSON can
    never be validly "null". Everything else is left for the body model to read as its type
    (`"false"`, `"0"`, `"100"`)."""
    if text == "" or (text == "null" and name not in FREE_TEXT_FIELDS):
        return None
    return text


class StreamOptions(BaseModel):
    """`stream_options` of a streamed request (README, Streaming): `include_progress` true
    sends the gateway's progress as `image_gateway.progress` events; by default they are SSE
    comments, which the official SDK skips."""

    model_config = ConfigDict(extra="forbid")

    include_progress: StrictBool = False


class GenerationBody(BaseModel):
    """`POST /v1/images/generations`: unified body and OpenAI body in one."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    provider: str | None = Field(None, max_length=64)
    model: str | None = Field(
        None,
        max_length=200,
        description='a model id ("gpt-image-1"), "provider/model", a route, or a provider name '
        '("local", "openai", "bfl-flux"): that provider\'s default model (GET /v1/providers)',
    )
    n: int = Field(1, ge=1, le=10)
    size: str | None = Field(None, max_length=16, description='"WxH" (e.g. "1024x768") or "auto"')
    aspect_ratio: str | None = Field(None, max_length=9, description='"W:H", e.g. "16:9"')
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    quality: str | None = Field(None, max_length=16)
    style: str | None = Field(None, max_length=32)  # Nova Canvas: GRAPHIC_NOVEL_ILLUSTRATION
    response_format: ResponseFormat | None = None
    output_format: OutputFormat | None = None
    output_compression: int | None = Field(None, ge=0, le=100)
    background: Literal["transparent", "opaque", "auto"] | None = None
    moderation: Literal["low", "auto"] | None = None
    input_fidelity: Literal["high", "low"] | None = Field(
        None, description="edits: how closely the input images' features are kept"
    )
    negative_prompt: str | None = Field(None, max_length=10_000)
    user: str | None = Field(None, max_length=256)
    safety_identifier: str | None = Field(
        None, max_length=256, description="a stable end-user id, sent on to OpenAI"
    )
    stream: StrictBool | None = Field(
        None,
        description="true: answer text/event-stream, OpenAI's image events (README, Streaming); "
        "every model, not only those that stream partial images",
    )
    partial_images: StrictInt | None = Field(
        None,
        ge=0,
        le=3,
        description="previews per image (0-3) from a model that streams them (`streams` in "
        "/v1/providers), with stream: true or in a job's events; others send none, as OpenAI "
        "may send fewer",
    )
    stream_options: StreamOptions | None = Field(
        None,
        description='with stream: true, {"include_progress": true} sends progress as '
        "image_gateway.progress events (default: SSE comments, which SDKs skip)",
    )
    # Accepted with their default (or null) only: see NOT_OFFERED.
    frame_count: int | None = Field(None, description="9 (OpenAI's default) or null")
    frame_duration_ms: int | None = Field(None, description="200 (OpenAI's default) or null")
    complexity: Literal["low", "medium", "high"] | None = Field(None, description="null only")
    svg: dict[str, JsonValue] | None = Field(None, description="null only")
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
    def _normalize(cls, data: Any) -> Any:
        """JSON null means "not given" for every field we know (an unknown name stays refused,
        null or not). `provider_params` may carry common fields (the seed request sends
        `model` and `aspect_ratio` there): lift them to the top level, where they are
        validated."""
        if not isinstance(data, dict):
            return data
        data = given(data, cls.model_fields)
        if not isinstance(data.get("provider_params"), dict):
            return data
        params = dict(data["provider_params"])
        lifted = dict(data)
        for name in LIFTED_PARAMS:
            if name not in params:
                continue
            value = params.pop(name)
            if value is None:
                continue
            if lifted.get(name) is not None and lifted[name] != value:
                raise ValueError(
                    f"{name} is given twice with different values (top level and provider_params)"
                )
            lifted[name] = value
        lifted["provider_params"] = params
        return lifted

    @field_validator(*NOT_OFFERED)
    @classmethod
    def _not_offered(cls, value: Any, info: ValidationInfo) -> None:
        name = info.field_name
        assert name is not None
        if value is None or value in OPENAI_DEFAULTS.get(name, ()):
            return None
        raise PydanticCustomError("unsupported_parameter", NOT_OFFERED[name])

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

    @classmethod
    def stand_in(cls, field: str) -> InputImage:
        """What validation sees for an image named by URL before it is fetched: it counts, but
        has no bytes yet (`Dispatcher.preflight` validates again once it is loaded)."""
        return cls(b"", "", field)

    @property
    def pending(self) -> bool:
        return not self.content_type


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An input image a request names by URL (an edit's `image_url`: http(s) or `data:`). The
    gateway loads it through the SSRF-guarded fetcher only once the request is admitted
    (`Dispatcher.preflight`): a key that may not make the request never makes it fetch."""

    field: str  # the request field, named in errors: "image_url", "images[0].image_url", ...
    url: str

    @property
    def is_mask(self) -> bool:
        return self.field == MASK_REF_FIELD


MASK_REF_FIELD = "mask.image_url"


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
    input_fidelity: str | None = None
    negative_prompt: str | None = None
    user: str | None = None
    safety_identifier: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    images: list[InputImage] = field(default_factory=list)
    mask: InputImage | None = None
    stream: bool = False  # the client reads the answer as events (`stream: true`)
    # Previews per image asked for (0-3): streamed where the model can, to whoever watches the
    # call (a streaming client, a job's events); a call with some streams upstream.
    partial_images: int = 0
    # Fields of the provider's own request body that its `prepare` computed once per request
    # (BFL: the mask in its black-and-white form), so every call of the request reuses them.
    vendor: dict[str, Any] = field(default_factory=dict)

    @property
    def is_edit(self) -> bool:
        return bool(self.images)


class LazyB64:
    """The base64 of an image's bytes, not made yet: a synchronous answer encodes it piece by
    piece as it sends it (`api/answer.SplicedJSON`), so a 4.2 MB image's 5.6 MB of base64 is
    never held whole, nor beside the provider's answer it was decoded from (issue 16,
    bench/RESULTS.md). The bytes are one `bytes` or runs of them as they were decoded (each a
    multiple of 3 bytes but the last, so their encodings join), and a run is let go once it is
    encoded: an answer holds less of its image as it is sent. Read once: `len()` is the
    base64's length; `pieces()` encodes it as it is sent, or `text()` whole."""

    __slots__ = ("_runs", "_size")

    def __init__(self, data: bytes | list[bytes]) -> None:
        self._runs = [data] if isinstance(data, bytes) else data
        self._size = sum(len(run) for run in self._runs)

    def __len__(self) -> int:
        return -(-self._size // 3) * 4

    def text(self) -> str:
        runs, self._runs = self._runs, []
        return pybase64.b64encode(runs[0] if len(runs) == 1 else b"".join(runs)).decode("ascii")

    def pieces(self, size: int) -> Iterator[bytes]:
        """The base64's bytes in pieces of at most `size` characters (a multiple of 4), each
        encoded when it is asked for; each run let go once encoded."""
        step = size // 4 * 3
        runs, self._runs = self._runs, []
        runs.reverse()
        while runs:
            run = runs.pop()
            with memoryview(run) as view:
                for start in range(0, len(view), step):
                    yield pybase64.b64encode(view[start : start + step])
            del run


# What a rendered image's `b64_json` holds (`generation.rendering`): its text, or its bytes to
# encode as they are sent.
Base64 = str | LazyB64


def b64_text(value: Base64) -> str:
    """`value` as a str (a `LazyB64` is encoded whole)."""
    return value if isinstance(value, str) else value.text()


# What `GeneratedImage.head` decodes by default: enough for a PNG's or WebP's header (30 bytes)
# and a JPEG's whose frame header follows less than 48 kB of metadata (larger: `kit/output`
# reads all of it).
HEAD_BYTES = 48 * 1024


class GeneratedImage:
    """One image a provider made: its bytes (`data`), or runs of them as they were decoded
    (`runs`: `kit/b64_answer`, joined on the first read of `data`), or only the provider's own
    base64 of them (`b64`, `data=None`, validated), decoded on the first read of `data`.

    An adapter that keeps `b64` has it sent on as it is; OpenAI's keeps the bytes (3/4 of the
    base64), encoded again as they are sent (`to_send()`, a `LazyB64`, issue 16); storage
    (`url` answers, jobs) reads `data`. Setting `data` drops `b64` (no longer its encoding).
    `ValueError` when given none."""

    __slots__ = (
        "_data",
        "_runs",
        "b64",
        "content_type",
        "revised_prompt",
        "seed",
        "size",
        "usage",
    )

    def __init__(
        self,
        data: bytes | None,
        content_type: str,  # set from the bytes' magic when the output is checked
        seed: int | None = None,
        revised_prompt: str | None = None,
        b64: str | None = None,  # the provider's own (validated) base64 of `data`, sent on as is
        size: str | None = None,  # "WxH" from the image's header, set when the output is checked
        # This image's own token usage, where the provider reported it per image (OpenAI's
        # streamed `image_generation.completed` events); the request's `usage` is their sum.
        usage: dict[str, Any] | None = None,
        runs: list[bytes] | None = None,  # the bytes in runs, each a multiple of 3 but the last
    ) -> None:
        if data is None and b64 is None and runs is None:
            raise ValueError("an image needs its bytes or their base64")
        self._data = data
        self._runs = runs
        self.content_type = content_type
        self.seed = seed
        self.revised_prompt = revised_prompt
        self.b64 = b64
        self.size = size
        self.usage = usage

    @property
    def data(self) -> bytes:
        """The image's bytes (joined from `runs`, or decoded from `b64`, on first read, then
        kept). `RuntimeError` once they were handed to an answer (`to_send`)."""
        if self._data is None:
            if self._runs is not None:
                self._data, self._runs = b"".join(self._runs), None
                return self._data
            if self.b64 is None:
                raise RuntimeError("this image's bytes were handed to its answer")
            self._data = pybase64.b64decode(self.b64, validate=True)
        return self._data

    @data.setter
    def data(self, value: bytes) -> None:
        self._data, self.b64, self._runs = value, None, None

    def to_send(self) -> Base64:
        """Its base64 for a synchronous answer, the last reader of its bytes: the provider's
        own (`b64`), else a `LazyB64` handed the bytes (the image keeps none), so that each run
        is let go once sent (issue 16, bench/RESULTS.md)."""
        if self.b64:
            return self.b64
        bytes_or_runs = self._runs if self._runs is not None else self.data
        self._data = self._runs = None
        return LazyB64(bytes_or_runs)

    def head(self, size: int = HEAD_BYTES) -> bytes:
        """At least the first `size` bytes (all of them when shorter), decoding or joining only
        those when the bytes are not held whole yet."""
        if self._runs is not None and self._data is None:
            taken, have = [], 0
            for run in self._runs:
                if have >= size:
                    break
                taken.append(run)
                have += len(run)
            return b"".join(taken)
        if self._data is not None or self.b64 is None:
            return self.data
        chars = -(-size // 3) * 4  # whole 4-character groups: `b64` is checked, so they decode
        return pybase64.b64decode(self.b64[:chars], validate=True)


@dataclass(frozen=True, slots=True)
class Charge:
    """What a provider says a call cost, in its own answer (BFL's `cost` on submit)."""

    usd: float
    credits: float | None = None  # in the provider's own unit, when it bills in credits


@dataclass(slots=True)
class ProviderResult:
    images: list[GeneratedImage]
    usage: dict[str, Any] | None = None  # OpenAI's token `usage` object, checked (token_usage)
    charge: Charge | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # provider fields echoed in the response
    # Images the provider made, withheld (its safety check) and still charges for, as
    # Ideogram's unsafe ones (`providers/ideogram/translate.py`): the ledger prices them too.
    withheld_billed: int = 0


class ImageData(BaseModel):
    b64_json: str | None = None
    url: str | None = None
    revised_prompt: str | None = None
    seed: int | None = None
    size: str | None = Field(
        None,
        description='"WxH" of this image as made, read from its header (a provider may fit the '
        'requested size: FLUX makes 1920x1088 for "1920x1080")',
    )


class InputTokensDetails(BaseModel):
    image_tokens: int
    text_tokens: int


class OutputTokensDetails(BaseModel):
    image_tokens: int
    text_tokens: int


class TokenUsage(BaseModel):
    """OpenAI's `usage` of GPT image models (openai-python `types/images_response.py`)."""

    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    total_tokens: int
    output_tokens_details: OutputTokensDetails | None = None


class Cost(BaseModel):
    """What the images of an answer cost, as the gateway recorded it in the usage ledger."""

    usd: float | None = Field(description="US dollars; null when the model has no known price")
    basis: Literal["provider", "tokens", "price_table", "estimate", "unpriced"] = Field(
        description="provider: the provider's own charge in its answer (BFL `cost` credits); "
        "tokens: the provider's token counts at prices.json's token prices; price_table: "
        "prices.json's price of the size and quality made; estimate: prices.json, with the "
        "size or quality made unknown (the most expensive candidate); unpriced: no price"
    )
    credits: float | None = Field(
        None, description="the provider's own figure in its unit (BFL credits), when it gave one"
    )


class ImagesResponse(BaseModel):
    """OpenAI `ImagesResponse` plus which provider and model served it and what it cost."""

    id: str
    created: int
    provider: str
    model: str
    data: list[ImageData]
    output_format: str | None = None
    size: str | None = None
    quality: str | None = None
    background: str | None = None
    usage: TokenUsage | None = Field(
        None, description="OpenAI's token usage, when the provider reported tokens (GPT image)"
    )
    cost: Cost | None = None
    attempts: int | None = Field(
        None, description="upstream calls made: fan-out, retries and fallbacks included"
    )
    fallback_from: str | None = Field(
        None, description="provider/model of the primary, when a fallback served the request"
    )
    route: str | None = Field(None, description="the route (alias) named by `model`, if any")
    images_filtered: int | None = Field(
        None,
        description="images the provider's safety filters removed from its answer (Imagen on "
        "vertex-ai): `data` holds that many fewer than `n`, and `cost` counts only those in `data`",
    )


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def token_usage(value: Any) -> dict[str, Any] | None:
    """`value` if it has the shape of OpenAI's token `usage` object (so the SDK's
    `response.usage.total_tokens` is an int), else None."""
    if not isinstance(value, dict):
        return None
    try:
        TokenUsage.model_validate(value, strict=True)
    except ValueError:
        return None
    return value


def parse_size(value: str | None) -> tuple[int, int] | None:
    """`(width, height)`, or None for "the model's default" (not given, or `auto`)."""
    if value is None or value in OPENAI_DEFAULTS["size"]:
        return None
    match = SIZE_RE.match(value)
    if not match:
        raise InvalidRequest(
            'size must be "WIDTHxHEIGHT" (for example "1024x1024") or "auto"', param="size"
        )
    return int(match.group(1)), int(match.group(2))
