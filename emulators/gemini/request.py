"""A `generateContent` body read and checked as the Gemini API does for an image model
(REFERENCE-MORE §1.3), into a `Job`.

- Field names in camelCase or snake_case (proto3 JSON accepts both, §1.3); one field given
  both ways, or a name the message does not have, is a 400 `INVALID_ARGUMENT` "Unknown name"
  (Google's protobuf parser refuses unknown fields: strict always).
- `imageConfig`: `aspectRatio` one of the model's, `imageSize` exactly one of its tiers
  (uppercase K: `"1k"` is refused, [3P]). The Vertex-only `personGeneration`,
  `prominentPeople`, `imageOutputOptions`, `outputMimeType` and `outputCompressionQuality`
  are unknown names on the Gemini API (the SDK refuses them client-side; server behaviour
  [UNVERIFIED]); `vertex=True` accepts them (`personGeneration`, `imageOutputOptions`).
- `thinkingConfig.thinkingLevel` only on a model that takes one; `candidateCount` at most 1.
- Input images: `inlineData{mimeType, data}` parts (PNG, JPEG, WebP, HEIC, HEIF; base64 that
  decodes to an image), at most the model's count; `fileData` names a file the emulator does
  not have (403, as for a file of another project).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .catalog import DEFAULT_TIER, ImageModel
from .errors import GoogleError, invalid, unknown_name

TOP = ("contents", "generationConfig", "safetySettings", "systemInstruction", "tools",
       "toolConfig", "cachedContent")  # fmt: skip
CONTENT = ("role", "parts")
PART = ("text", "inlineData", "fileData", "thought", "thoughtSignature")
BLOB = ("mimeType", "data")
GENERATION = ("responseModalities", "imageConfig", "thinkingConfig", "temperature", "topP",
              "topK", "candidateCount", "maxOutputTokens", "seed", "stopSequences",
              "presencePenalty", "frequencyPenalty", "mediaResolution")  # fmt: skip
IMAGE_CONFIG = ("aspectRatio", "imageSize")
VERTEX_IMAGE_CONFIG = ("personGeneration", "prominentPeople", "imageOutputOptions")
PERSON_GENERATION = ("ALLOW_ALL", "ALLOW_ADULT", "ALLOW_NONE")
THINKING = ("thinkingLevel", "thinkingBudget", "includeThoughts")
MODALITIES = ("TEXT", "IMAGE")
INPUT_TYPES = ("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif")
BAD_IMAGE = (
    "Unable to process input image. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting"
)
_PROTO = "type.googleapis.com/google.ai.generativelanguage.v1beta"
_SNAKE = re.compile(r"_([a-z0-9])")


@dataclass
class Job:
    """What was asked of one image model."""

    model: ImageModel
    prompt: str
    images: list[tuple[int, int]] = field(default_factory=list)  # input images' sizes
    ratio: str | None = None
    tier: str = DEFAULT_TIER
    modalities: tuple[str, ...] = MODALITIES
    thinking_level: str | None = None
    output_mime: str = "image/png"  # Vertex's imageOutputOptions.mimeType may change it

    @property
    def size(self) -> tuple[int, int]:
        """The pixel size made: the ratio asked, else the first input image's closest, else
        1:1, at the tier asked (§1.3: "match the size of your input images; otherwise ...
        square")."""
        table = self.model.tiers[self.tier]
        ratio = self.ratio
        if ratio is None and self.images:
            width, height = self.images[0]
            ratio = min(table, key=lambda r: abs(_value(r) - width / height))
        return table[ratio or "1:1"]


def read_job(model: ImageModel, body: Any, vertex: bool = False) -> Job:
    """The job a body asks for, or `GoogleError` (400/403) saying what is wrong."""
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    top = _message(body, TOP, "")
    contents = top.get("contents")
    if not isinstance(contents, list) or not contents:
        raise invalid("* GenerateContentRequest.contents: contents is not specified")
    job = Job(model, "")
    texts: list[str] = []
    for i, raw in enumerate(contents):
        content = _message(raw, CONTENT, f"contents[{i}]")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise invalid(
                f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
            )
        for j, raw_part in enumerate(parts):
            part = _message(raw_part, PART, f"contents[{i}].parts[{j}]")
            if content.get("role", "user") != "user" or part.get("thought"):
                continue
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif "inlineData" in part:
                job.images.append(_image(part["inlineData"], f"contents[{i}].parts[{j}]"))
            elif "fileData" in part:
                raise GoogleError(
                    403, "You do not have permission to access the File or it may not exist."
                )
    if len(job.images) > model.max_images:
        raise invalid(
            f"{model.id} accepts at most {model.max_images} input images; got {len(job.images)}."
        )
    job.prompt = "\n".join(texts)
    _generation(job, top.get("generationConfig"), vertex)
    return job


def _generation(job: Job, raw: Any, vertex: bool) -> None:
    if raw is None:
        return
    config = _message(raw, GENERATION, "generation_config")
    modalities = config.get("responseModalities")
    if modalities is not None:
        if not isinstance(modalities, list) or not modalities:
            raise invalid(
                "Invalid value at 'generation_config.response_modalities': expected a list."
            )
        for k, value in enumerate(modalities):
            if value not in (*MODALITIES, "AUDIO", "VIDEO"):
                raise invalid(
                    f"Invalid value at 'generation_config.response_modalities[{k}]' "
                    f"({_PROTO}.GenerationConfig.Modality), {value!r}"
                )
            if value not in MODALITIES:
                raise invalid(
                    f"Model does not support the requested response modalities: {value.lower()}"
                )
        job.modalities = tuple(dict.fromkeys(modalities))
    count = config.get("candidateCount")
    if count is not None and count != 1:
        raise invalid(f"Multiple candidates is not enabled for models/{job.model.id}")
    if config.get("imageConfig") is not None:
        _image_config(job, config["imageConfig"], vertex)
    if config.get("thinkingConfig") is not None:
        thinking = _message(config["thinkingConfig"], THINKING, "generation_config.thinking_config")
        level = thinking.get("thinkingLevel")
        if level is not None:
            if not job.model.thinking_levels:
                raise invalid(f"Thinking level is not supported for models/{job.model.id}.")
            if level not in job.model.thinking_levels:
                raise invalid(
                    "Invalid value at 'generation_config.thinking_config.thinking_level' "
                    f"({_PROTO}.ThinkingConfig.ThinkingLevel), {level!r}"
                )
            job.thinking_level = level


def _image_config(job: Job, raw: Any, vertex: bool) -> None:
    known = IMAGE_CONFIG + VERTEX_IMAGE_CONFIG if vertex else IMAGE_CONFIG
    config = _message(raw, known, "generation_config.image_config")
    model = job.model
    size = config.get("imageSize")
    if size is not None:
        if size not in model.tiers:
            raise invalid(
                f"Unsupported image size {size!r} for models/{model.id}; "
                f"supported: {', '.join(model.tiers)} (case-sensitive)."
            )
        job.tier = size
    ratio = config.get("aspectRatio")
    if ratio is not None:
        if ratio not in model.tiers[job.tier]:
            raise invalid(
                f"Unsupported aspect ratio {ratio!r} for models/{model.id} at {job.tier}; "
                f"supported: {', '.join(model.tiers[job.tier])}."
            )
        job.ratio = ratio
    person = config.get("personGeneration")
    if person is not None and person not in PERSON_GENERATION:
        raise invalid(f"Invalid value at 'image_config.person_generation': {person!r}")
    options = config.get("imageOutputOptions")
    if options is not None:
        output = _message(
            options, ("mimeType", "compressionQuality"), "image_config.image_output_options"
        )
        mime = output.get("mimeType", "image/png")
        if mime not in ("image/png", "image/jpeg"):
            raise invalid(f"Unsupported output mime type {mime!r}.")
        job.output_mime = mime


def _image(raw: Any, where: str) -> tuple[int, int]:
    blob = _message(raw, BLOB, f"{where}.inline_data")
    mime = blob.get("mimeType")
    if mime not in INPUT_TYPES:
        raise invalid(f"Unsupported MIME type: {mime}")
    data = blob.get("data")
    if not isinstance(data, str):
        raise invalid(f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), expected base64.")
    decoded = _bytes(data)
    if decoded is None:
        raise invalid(
            f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), Base64 decoding failed."
        )
    try:
        with Image.open(io.BytesIO(decoded)) as image:
            return image.size
    except Exception:  # any decoder failure: not an image
        raise invalid(BAD_IMAGE) from None


def _bytes(text: str) -> bytes | None:
    """Proto3 JSON `bytes`: standard or URL-safe base64, with or without padding."""
    padded = text + "=" * (-len(text) % 4)
    for altchars in (None, b"-_"):
        try:
            return base64.b64decode(padded, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
    return None


def _message(raw: Any, known: tuple[str, ...], where: str) -> dict[str, Any]:
    """`raw` (a JSON object) with camelCase names; an unknown name, or one given twice (as
    camelCase and snake_case), is Google's "Unknown name" / "Invalid JSON payload" 400."""
    if not isinstance(raw, dict):
        at = f" at '{where}'" if where else ""
        raise invalid(f"Invalid JSON payload received. Expected an object{at}.")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        camel = _SNAKE.sub(lambda m: m.group(1).upper(), name)
        if camel not in known:
            raise unknown_name(name, where)
        if camel in out:
            raise invalid(
                f"Invalid JSON payload received. Duplicate field \"{name}\" at '{where}'."
            )
        out[camel] = value
    return out


def _value(ratio: str) -> float:
    width, height = ratio.split(":")
    return int(width) / int(height)
