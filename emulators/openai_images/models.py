"""The model catalogue and per-model size/quality rules (REFERENCE §1.2–§1.5).

Any `gpt-image-*` id not listed is treated like gpt-image-2 (flexible sizes), as the model id is
an opaque, growing string (REFERENCE §1.2). Other unknown ids are a 404 `model_not_found`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .errors import bad_request, invalid_value, model_not_found

DALLE2_SIZES = ("256x256", "512x512", "1024x1024")
DALLE3_SIZES = ("1024x1024", "1792x1024", "1024x1792")
GPT_SIZES = ("1024x1024", "1024x1536", "1536x1024", "auto")
GPT_QUALITIES = ("low", "medium", "high", "auto")
FIDELITIES = ("high", "low")

# gpt-image-2 flexible sizes (REFERENCE §1.3, openclaw PR #118476).
FLEX_STEP = 16
FLEX_MAX_EDGE = 3840
FLEX_MAX_RATIO = 3
FLEX_MIN_PIXELS = 655_360
FLEX_MAX_PIXELS = 8_294_400

_SIZE_RE = re.compile(r"^([1-9][0-9]{0,5})x([1-9][0-9]{0,5})$")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "dall-e-2" | "dall-e-3" | "gpt-image"
    prompt_max: int
    n_max: int
    sizes: tuple[str, ...] | None  # None: any WxH within the gpt-image-2 bounds, or "auto"
    qualities: tuple[str, ...]
    # Edits' input_fidelity values (openai-python 3.57.0 `image_edit_params.py`: high and low on
    # gpt-image-1.5, only low on gpt-image-1-mini, "for gpt-image-2, omit this parameter").
    input_fidelity: tuple[str, ...] = ()

    @property
    def gpt(self) -> bool:
        return self.family == "gpt-image"


_DALLE2 = ModelSpec("dall-e-2", "dall-e-2", 1000, 10, DALLE2_SIZES, ("standard",))
_DALLE3 = ModelSpec("dall-e-3", "dall-e-3", 4000, 1, DALLE3_SIZES, ("standard", "hd"))
_GPT1 = ModelSpec(
    "gpt-image-1", "gpt-image", 32000, 10, GPT_SIZES, GPT_QUALITIES, input_fidelity=FIDELITIES
)
_GPT2 = ModelSpec("gpt-image-2", "gpt-image", 32000, 10, None, GPT_QUALITIES)

CATALOGUE: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        _DALLE2,
        _DALLE3,
        _GPT1,
        replace(_GPT1, name="gpt-image-1-mini", input_fidelity=("low",)),
        replace(_GPT1, name="gpt-image-1.5"),
        _GPT2,
        replace(_GPT2, name="gpt-image-2-2026-04-21"),
        replace(_GPT2, name="chatgpt-image-latest"),
    )
}

EDIT_MODELS = tuple(name for name, spec in CATALOGUE.items() if spec.family != "dall-e-3")


def lookup(model: str) -> ModelSpec:
    spec = CATALOGUE.get(model)
    if spec is not None:
        return spec
    if model.startswith("gpt-image-"):
        return replace(_GPT2, name=model)
    raise model_not_found(model)


def parse_size(spec: ModelSpec, size: str) -> tuple[int, int] | None:
    """Validate `size` for the model; None means `auto` (the caller picks the dimensions)."""
    if spec.sizes is not None:
        if size not in spec.sizes:
            raise invalid_value("size", size, spec.sizes)
        return None if size == "auto" else _split(size)
    if size == "auto":
        return None
    match = _SIZE_RE.match(size)
    if match is None:
        raise bad_request(
            f"Invalid value: '{size}'. Expected 'auto' or a size of the form 'WIDTHxHEIGHT' "
            "(e.g. '1024x1024').",
            "size",
        )
    width, height = int(match[1]), int(match[2])
    problem = flexible_size_problem(width, height)
    if problem:
        raise bad_request(f"Invalid value: '{size}'. {problem}", "size")
    return width, height


def flexible_size_problem(width: int, height: int) -> str | None:
    if width % FLEX_STEP or height % FLEX_STEP:
        return f"Both width and height must be multiples of {FLEX_STEP}."
    if max(width, height) > FLEX_MAX_EDGE:
        return f"The longest edge must be at most {FLEX_MAX_EDGE} pixels."
    if max(width, height) > FLEX_MAX_RATIO * min(width, height):
        return f"The aspect ratio must be between 1:{FLEX_MAX_RATIO} and {FLEX_MAX_RATIO}:1."
    pixels = width * height
    if not FLEX_MIN_PIXELS <= pixels <= FLEX_MAX_PIXELS:
        return f"Total pixels must be between {FLEX_MIN_PIXELS:,} and {FLEX_MAX_PIXELS:,}."
    return None


def _split(size: str) -> tuple[int, int]:
    width, _, height = size.partition("x")
    return int(width), int(height)
