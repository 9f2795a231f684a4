"""Request validation: JSON body or multipart fields in, a `Job` (what to render) out.

Per-model rules follow REFERENCE §1.3–§1.5. Decisions where the reference is silent:
- `model` omitted: dall-e-2, or gpt-image-1 when a GPT-image-only parameter is present (the SDK
  docstring's rule), on generations and edits alike; variations are dall-e-2 only.
- JSON `null` counts as "not sent".
- A parameter the endpoint knows but the model does not take (`response_format`/`style` on GPT
  image models, GPT-only fields on DALL·E) is `Unknown parameter` / `unknown_parameter`, as the
  real API answers for `response_format` on gpt-image-1. The streaming fields' documented
  defaults (`stream: false`, `partial_images: 0`, what the SDK sends) are tolerated on DALL·E.
- `input_fidelity` (edits) per the SDK docstring: high/low on gpt-image-1 and -1.5, only low on
  gpt-image-1-mini, none on gpt-image-2 (`unsupported_parameter`; `unsupported_value` for a
  value the model lacks). `safety_identifier` is a string every model takes.
- `output_compression` below 100 with png is refused (100, the default, is accepted).
- GPT `quality: auto` is reported as `medium`; `size: auto` (or none) renders 1024x1024 for
  generations and the first input's size for GPT edits; dall-e-2 edits default to 1024x1024.
- Edit uploads need an image content type (`image/png|jpeg|webp`; dall-e-2: `image/png`), as the
  real API refuses `application/octet-stream` parts; dall-e-2 takes one `image` part (an
  `image[]` part is "got an array") that must have alpha when no mask is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import errors as E
from .images import ImageInfo, inspect_image
from .models import EDIT_MODELS, ModelSpec, lookup, parse_size

GPT_ONLY = (
    "output_format",
    "output_compression",
    "background",
    "moderation",
    "stream",
    "partial_images",
    "input_fidelity",
)
_COMMON = (
    *("prompt", "model", "n", "size", "quality", "response_format", "output_format"),
    *("output_compression", "background", "stream", "partial_images", "user"),
    "safety_identifier",
)
GENERATION_FIELDS = frozenset((*_COMMON, "style", "moderation"))
EDIT_FIELDS = frozenset((*_COMMON, "image", "image[]", "mask", "input_fidelity"))
VARIATION_FIELDS = frozenset(("image", "model", "n", "response_format", "size", "user"))
MODERATION_MARKER = "[moderate]"

GPT_MAX_IMAGES = 16
GPT_MAX_BYTES = 50 * 1024 * 1024
DALLE_MAX_BYTES = 4 * 1024 * 1024
GPT_MIMETYPES = ("image/jpeg", "image/png", "image/webp")


@dataclass
class Upload:
    field: str  # "image", "image[]" or "mask"
    content_type: str
    data: bytes


@dataclass
class Job:
    kind: str  # generate | edit | variation
    spec: ModelSpec
    prompt: str
    n: int
    width: int
    height: int
    quality: str = "standard"
    output_format: str = "png"
    compression: int = 100
    transparent: bool = False
    response_format: str = "b64_json"
    stream: bool = False
    partial_images: int = 0
    inputs: tuple[ImageInfo, ...] = ()

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


class Fields:
    """Typed access to request fields; multipart values arrive as strings and are coerced."""

    def __init__(self, values: dict[str, Any], form: bool) -> None:
        self.values = {k: v for k, v in values.items() if v is not None}
        self.form = form

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def string(self, name: str, choices: tuple[str, ...] | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise E.invalid_type(name, "a string", value)
        if choices is not None and value not in choices:
            raise E.invalid_value(name, value, choices)
        return value

    def integer(self, name: str, low: int, high: int) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        if self.form and isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                pass
        if not isinstance(value, int) or isinstance(value, bool):
            raise E.invalid_type(name, "an integer", value)
        if not low <= value <= high:
            raise E.out_of_range(name, value, low, high)
        return value

    def boolean(self, name: str) -> bool:
        value = self.values.get(name, False)
        if self.form and isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            value = value.lower() in ("true", "1")
        if not isinstance(value, bool):
            raise E.invalid_type(name, "a boolean", value)
        return value


def generation_job(body: Any) -> Job:
    if not isinstance(body, dict):
        raise E.bad_request("Invalid request body: expected a JSON object.", None, None)
    fields = Fields(body, form=False)
    spec = _model(fields, GENERATION_FIELDS)
    width, height = _parse_size(fields, spec, (1024, 1024))
    return _finish(fields, spec, "generate", _prompt(fields, spec), width, height)


def edit_job(values: dict[str, Any], images: list[Upload], mask: Upload | None) -> Job:
    fields = Fields(values, form=True)
    spec = _model(fields, EDIT_FIELDS)
    if spec.family == "dall-e-3":
        raise E.invalid_value("model", spec.name, EDIT_MODELS)
    prompt = _prompt(fields, spec)
    inputs = _check_dalle2_images(images, mask) if not spec.gpt else _check_gpt_images(images, mask)
    if "input_fidelity" in fields:
        if not spec.input_fidelity:
            raise E.bad_request(
                "Unsupported parameter: 'input_fidelity' is not supported with this model.",
                "input_fidelity",
                "unsupported_parameter",
            )
        fidelity = fields.string("input_fidelity", ("high", "low"))
        if fidelity not in spec.input_fidelity:
            raise E.bad_request(
                f"Unsupported value: 'input_fidelity' does not support '{fidelity}' with this "
                f"model. Supported values are: {E.quoted_list(spec.input_fidelity)}.",
                "input_fidelity",
                "unsupported_value",
            )
    first = inputs[0]
    default = (first.width, first.height) if spec.gpt else (1024, 1024)
    width, height = _parse_size(fields, spec, default)
    return _finish(fields, spec, "edit", prompt, width, height, inputs)


def variation_job(values: dict[str, Any], images: list[Upload]) -> Job:
    fields = Fields(values, form=True)
    _reject_unknown(fields, VARIATION_FIELDS)
    model = fields.string("model") or "dall-e-2"
    spec = lookup(model)
    if spec.family != "dall-e-2":
        raise E.invalid_value("model", model, ("dall-e-2",))
    inputs = _check_dalle2_images(images, None, need_alpha=False)
    width, height = _parse_size(fields, spec, (1024, 1024))
    return _finish(fields, spec, "variation", "", width, height, inputs)


def _reject_unknown(fields: Fields, known: frozenset[str]) -> None:
    for name in fields.values:
        if name not in known:
            raise E.unrecognized_argument(name)


def _model(fields: Fields, known: frozenset[str]) -> ModelSpec:
    _reject_unknown(fields, known)
    model = fields.string("model")
    gpt_only = [name for name in GPT_ONLY if name in fields and not _is_default(fields, name)]
    if model is None:
        model = "gpt-image-1" if gpt_only else "dall-e-2"
    spec = lookup(model)
    for name in fields.values:
        if (not spec.gpt and name in gpt_only) or (spec.gpt and name == "response_format"):
            raise E.unknown_parameter(name)
        if name == "style" and spec.family != "dall-e-3":
            raise E.unknown_parameter(name)
    return spec


def _is_default(fields: Fields, name: str) -> bool:
    """`stream: false` and `partial_images: 0` are the defaults everywhere (the SDK sends them),
    so DALL·E requests may carry them."""
    value = fields.values[name]
    if name == "stream":
        return value in (False, "false", "False", "0")
    return name == "partial_images" and value in (0, "0") and not isinstance(value, bool)


def _prompt(fields: Fields, spec: ModelSpec) -> str:
    prompt = fields.string("prompt")
    if prompt is None:
        raise E.missing_parameter("prompt")
    if not prompt:
        raise E.bad_request(
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, "
            "but got an empty string instead.",
            "prompt",
            "empty_string",
        )
    if len(prompt) > spec.prompt_max:
        raise E.string_too_long("prompt", spec.prompt_max, len(prompt))
    return prompt


def _parse_size(fields: Fields, spec: ModelSpec, default: tuple[int, int]) -> tuple[int, int]:
    size = fields.string("size")
    return (parse_size(spec, size) if size is not None else None) or default


def _finish(
    fields: Fields,
    spec: ModelSpec,
    kind: str,
    prompt: str,
    width: int,
    height: int,
    inputs: tuple[ImageInfo, ...] = (),
) -> Job:
    n = fields.integer("n", 1, 10) or 1
    if n > spec.n_max:
        raise E.bad_request("You must provide n=1 for this model.", "n")
    quality = fields.string("quality", spec.qualities) or ("auto" if spec.gpt else "standard")
    job = Job(kind, spec, prompt, n, width, height, quality, inputs=inputs)
    if not spec.gpt:
        fields.string("style", ("vivid", "natural"))
        job.response_format = fields.string("response_format", ("url", "b64_json")) or "url"
        fields.string("user")
        fields.string("safety_identifier")
        return job
    job.quality = "medium" if quality == "auto" else quality
    job.output_format = fields.string("output_format", ("png", "jpeg", "webp")) or "png"
    compression = fields.integer("output_compression", 0, 100)
    if compression is not None and compression < 100 and job.output_format == "png":
        raise E.bad_request(
            "Compression less than 100 is only supported for the jpeg and webp output formats.",
            "output_compression",
        )
    job.compression = 100 if compression is None else compression
    background = fields.string("background", ("transparent", "opaque", "auto"))
    if background == "transparent" and job.output_format == "jpeg":
        raise E.bad_request(
            "Transparent background is not supported for the jpeg output format; use png or webp.",
            "background",
        )
    job.transparent = background == "transparent"
    fields.string("moderation", ("low", "auto"))
    job.stream = fields.boolean("stream")
    job.partial_images = fields.integer("partial_images", 0, 3) or 0
    fields.string("user")
    fields.string("safety_identifier")
    return job


def _check_gpt_images(images: list[Upload], mask: Upload | None) -> tuple[ImageInfo, ...]:
    if not images:
        raise E.missing_parameter("image")
    if len(images) > GPT_MAX_IMAGES:
        raise E.bad_request(
            f"Invalid 'image': array too long. Expected an array with maximum length "
            f"{GPT_MAX_IMAGES}, but got an array with length {len(images)} instead.",
            "image",
            "array_above_max_length",
        )
    infos = []
    for index, upload in enumerate(images, start=1):
        _check_mimetype(upload, GPT_MIMETYPES)
        if len(upload.data) >= GPT_MAX_BYTES:
            raise E.bad_request("Invalid file 'image': images must be smaller than 50 MB.", "image")
        info = inspect_image(upload.data)
        if info is None or info.format not in ("PNG", "JPEG", "WEBP"):
            raise E.APIError(
                400,
                f"Invalid image file or mode for image {index}, please check your image file.",
                type="image_generation_user_error",
                param="image",
                code="invalid_image_file",
            )
        infos.append(info)
    _check_mask(mask, infos[0])
    return tuple(infos)


def _check_dalle2_images(
    images: list[Upload], mask: Upload | None, need_alpha: bool = True
) -> tuple[ImageInfo, ...]:
    if not images:
        raise E.missing_parameter("image")
    if len(images) > 1 or images[0].field != "image":
        raise E.bad_request(
            "Invalid type for 'image': expected a file, but got an array instead.",
            "image",
            "invalid_type",
        )
    upload = images[0]
    _check_mimetype(upload, ("image/png",))
    info = inspect_image(upload.data)
    if info is None or info.format != "PNG" or len(upload.data) >= DALLE_MAX_BYTES:
        raise E.bad_request("Uploaded image must be a PNG and less than 4 MB.", "image")
    if info.width != info.height:
        raise E.bad_request("Uploaded image must be square.", "image")
    if need_alpha and mask is None and info.mode not in ("RGBA", "LA", "L"):
        raise E.bad_request(
            f"Invalid input image - format must be in ['RGBA', 'LA', 'L'], got {info.mode}.",
            "image",
        )
    _check_mask(mask, info)
    return (info,)


def _check_mask(mask: Upload | None, first: ImageInfo) -> None:
    if mask is None:
        return
    _check_mimetype(mask, ("image/png",))
    info = inspect_image(mask.data)
    if info is None or info.format != "PNG" or len(mask.data) >= DALLE_MAX_BYTES:
        raise E.bad_request("Invalid mask: the mask must be a PNG and less than 4 MB.", "mask")
    if (info.width, info.height) != (first.width, first.height):
        raise E.bad_request(
            f"Invalid mask: the mask must have the same dimensions as the image "
            f"({first.width}x{first.height}), got {info.width}x{info.height}.",
            "mask",
        )


def _check_mimetype(upload: Upload, allowed: tuple[str, ...]) -> None:
    mimetype = upload.content_type.split(";", 1)[0].strip().lower()
    if mimetype not in allowed:
        name = "mask" if upload.field == "mask" else "image"
        raise E.bad_request(
            f"Invalid file '{name}': unsupported mimetype ('{mimetype}'). "
            f"Supported file formats are {E.quoted_list(allowed)}.",
            name,
            "unsupported_file_mimetype",
        )
