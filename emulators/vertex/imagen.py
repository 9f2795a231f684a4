"""Imagen's `:predict` as Vertex AI validates and answers it (REFERENCE-MORE §1.7, §1.8;
python-genai `_GenerateImagesConfig_to_vertex` for the names, `types.py` for the values).

Request: `{"instances": [{"prompt"}], "parameters": {...}, "labels": {...}}`; `parameters` and
each instance are free-form on the wire (`google.protobuf.Value`), so names Vertex does not
know there are ignored (`LENIENT`; refused with `--strict`); a top-level name it does not know
is always refused ("Invalid JSON payload received. Unknown name ...").

Answer: `{"predictions": [{"bytesBase64Encoded", "mimeType"[, "prompt"]}]}`; an image removed
by the safety filters is `{"raiFilteredReason": ...}` when `includeRaiReason` is true, else left
out (and with no image left, `predictions` is absent). Prompt markers:

    [moderate]     400 "... The response is blocked ... Error Code: 58061214"
    [filter-all]   200, every image removed by the filters
    [filter-one]   200, the first image removed (all of them when only one was asked)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import invalid_argument

MODERATE, FILTER_ALL, FILTER_ONE = "[moderate]", "[filter-all]", "[filter-one]"
MARKERS = (MODERATE, FILTER_ALL, FILTER_ONE)
TOP_LEVEL = ("instances", "parameters", "labels")
INSTANCE_FIELDS = ("prompt",)
PARAMETERS = (
    "sampleCount",
    "aspectRatio",
    "sampleImageSize",
    "seed",
    "addWatermark",
    "negativePrompt",
    "personGeneration",
    "safetySetting",
    "includeRaiReason",
    "includeSafetyAttributes",
    "language",
    "outputOptions",
    "enhancePrompt",
    "guidanceScale",
    "storageUri",
)
RATIOS_1K = {
    "1:1": (1024, 1024),
    "3:4": (896, 1280),
    "4:3": (1280, 896),
    "9:16": (768, 1408),
    "16:9": (1408, 768),
}
CHOICES = {
    "personGeneration": ("allow_all", "allow_adult", "dont_allow"),
    "safetySetting": (
        "block_low_and_above",
        "block_medium_and_above",
        "block_only_high",
        "block_none",
    ),
    "language": ("auto", "en", "ja", "ko", "hi", "zh", "pt", "es"),
}
FLAGS = ("addWatermark", "includeRaiReason", "includeSafetyAttributes", "enhancePrompt")
MIME_TYPES = {"image/png": "png", "image/jpeg": "jpeg"}
# [UNVERIFIED] the wording Vertex's Responsible AI page gives for filtered images.
FILTERED_REASON = (
    "Your current safety filter threshold filtered out {n} generated images. You will not be "
    "charged for blocked images. Try rephrasing the prompt. If you think this was an error, "
    "send feedback. Support codes: 56562880"
)


@dataclass(frozen=True)
class ImagenModel:
    max_samples: int = 4
    sizes: tuple[str, ...] = ("1K",)  # sampleImageSize values; one value: the field refused


IMAGEN_MODELS = {
    "imagen-4.0-generate-001": ImagenModel(sizes=("1K", "2K")),
    "imagen-4.0-ultra-generate-001": ImagenModel(max_samples=1, sizes=("1K", "2K")),
    "imagen-4.0-fast-generate-001": ImagenModel(),
    "imagen-3.0-generate-002": ImagenModel(),
}


@dataclass(frozen=True)
class Job:
    """A validated request: what to make."""

    prompt: str
    count: int
    width: int
    height: int
    fmt: str  # png | jpeg
    quality: int
    rai_reason: bool
    enhanced: bool


def _bool(parameters: dict[str, Any], name: str) -> bool | None:
    value = parameters.get(name)
    if value is not None and not isinstance(value, bool):
        raise invalid_argument(
            f"Invalid value at 'parameters.{name}' ({type(value).__name__}), expected a boolean."
        )
    return value


def parse(model_id: str, body: Any, strict: bool) -> Job:
    """Validate a `:predict` body for `model_id`; `VertexError` (400) naming what is wrong."""
    model = IMAGEN_MODELS[model_id]
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received. Expected an object.")
    for name in body:
        if name not in TOP_LEVEL:
            raise invalid_argument(
                f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.'
            )
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        raise invalid_argument("instances must hold exactly one instance with a prompt.")
    instance = instances[0]
    prompt = instance.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid_argument(
            "Image generation failed with the following error: The prompt is empty."
        )
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise invalid_argument("parameters must be an object.")
    if strict:
        for where, fields, known in (
            ("instances[0]", instance, INSTANCE_FIELDS),
            ("parameters", parameters, PARAMETERS),
        ):
            for name in fields:
                if name not in known:
                    raise invalid_argument(
                        f'Invalid JSON payload received. Unknown name "{name}" at '
                        f"'{where}': Cannot find field."
                    )
    labels = body.get("labels")
    if labels is not None and not (
        isinstance(labels, dict) and all(isinstance(v, str) for v in labels.values())
    ):
        raise invalid_argument("labels must map strings to strings.")

    count = parameters.get("sampleCount", 4)  # Imagen's own default (§1.7)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= model.max_samples:
        raise invalid_argument(
            f"Image generation failed with the following error: sampleCount must be between 1 and "
            f"{model.max_samples} for {model_id}."
        )
    ratio = parameters.get("aspectRatio", "1:1")
    if ratio not in RATIOS_1K:
        raise invalid_argument(
            f"Unsupported aspect ratio: {ratio}. Supported: {', '.join(RATIOS_1K)}."
        )
    size = parameters.get("sampleImageSize")
    scale = 1
    if size is not None:
        if len(model.sizes) == 1:
            raise invalid_argument(f"sampleImageSize is not supported by {model_id}.")
        if not isinstance(size, str) or size.upper() not in model.sizes:
            raise invalid_argument(f"Unsupported sampleImageSize: {size}. Supported: 1K, 2K.")
        scale = 2 if size.upper() == "2K" else 1
    for name, values in CHOICES.items():
        value = parameters.get(name)
        if value is not None and (not isinstance(value, str) or value.lower() not in values):
            raise invalid_argument(f"Invalid value at 'parameters.{name}' ({value}).")
    flags = {name: _bool(parameters, name) for name in FLAGS}
    seed = parameters.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise invalid_argument(
                "Invalid value at 'parameters.seed', expected an unsigned 32-bit integer."
            )
        if flags["addWatermark"] is not False:  # the watermark is on by default
            raise invalid_argument("Seed is not supported when addWatermark is enabled.")
    if parameters.get("negativePrompt") is not None:
        # Only some Imagen 3 models take one (Vertex, "Omit content using a negative prompt").
        raise invalid_argument(f"Negative prompts are not supported by {model_id}.")
    fmt, quality = "png", 75
    options = parameters.get("outputOptions")
    if options is not None:
        if not isinstance(options, dict):
            raise invalid_argument("outputOptions must be an object.")
        mime = options.get("mimeType", "image/png")
        if mime not in MIME_TYPES:
            raise invalid_argument(f"Unsupported outputOptions.mimeType: {mime}.")
        fmt = MIME_TYPES[mime]
        quality = options.get("compressionQuality", 75)
        if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
            raise invalid_argument("outputOptions.compressionQuality must be between 0 and 100.")
    width, height = RATIOS_1K[ratio]
    return Job(
        prompt=prompt,
        count=count,
        width=width * scale,
        height=height * scale,
        fmt=fmt,
        quality=quality,
        rai_reason=bool(flags["includeRaiReason"]),
        enhanced=bool(flags["enhancePrompt"]),
    )


def filtered(job: Job, marker: str | None) -> int:
    """How many of the job's images the safety filters remove."""
    if marker == FILTER_ALL:
        return job.count
    if marker == FILTER_ONE:
        return 1
    return 0


def answer(job: Job, images: list[str], removed: int) -> dict[str, Any]:
    """The `:predict` answer: `images` (base64) in order, the first `removed` filtered out."""
    mime = f"image/{job.fmt}"
    predictions: list[dict[str, Any]] = []
    if removed and job.rai_reason:  # one item says how many were removed [UNVERIFIED]
        predictions.append({"raiFilteredReason": FILTERED_REASON.format(n=removed)})
    for data in images[removed:]:
        item: dict[str, Any] = {"bytesBase64Encoded": data, "mimeType": mime}
        if job.enhanced:
            item["prompt"] = f"{job.prompt} (enhanced by the emulator)"
        predictions.append(item)
    return {"predictions": predictions} if predictions else {}
