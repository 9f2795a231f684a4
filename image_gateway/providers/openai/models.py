"""OpenAI image models and what each accepts (shared/providers/REFERENCE.md §1.2-§1.4;
`input_fidelity` per model from openai-python 3.57.0 `types/image_edit_params.py`: high and
low on gpt-image-1.5, only low on gpt-image-1-mini, omitted for gpt-image-2).

Defaults for omitted fields (REFERENCE §1.3): DALL·E makes a standard 1024x1024 image; GPT
image models default to `auto` size and quality and say what they made in their answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec


@dataclass(frozen=True, kw_only=True)
class OpenAIModel(ModelSpec):
    """An OpenAI image model: its family (GPT image models take `output_format` and answer
    base64; DALL-E is asked for `response_format: b64_json`), its longest prompt (characters,
    REFERENCE §1.2), and whether it takes any size within gpt-image-2's rule (`translate.py`)."""

    family: Literal["gpt", "dall-e"]
    max_prompt: int
    flexible_size: bool = False


GPT_SIZES = ("1024x1024", "1536x1024", "1024x1536")
GPT_QUALITIES = ("low", "medium", "high", "auto")
GPT_BACKGROUNDS = ("transparent", "opaque", "auto")
GPT_MODERATIONS = ("low", "auto")
FIDELITIES = ("high", "low")

_GPT_BASE = OpenAIModel(
    id="gpt-image-1",
    description="OpenAI GPT image model",
    size_rule="1024x1024, 1536x1024, 1024x1536 or auto",
    sizes=GPT_SIZES,
    aspect_ratios=True,
    images_per_call=10,
    edits=True,
    masks=True,
    max_input_images=16,
    qualities=GPT_QUALITIES,
    backgrounds=GPT_BACKGROUNDS,
    moderations=GPT_MODERATIONS,
    input_fidelities=FIDELITIES,
    output_compression=True,
    default_output_format="png",
    streams=True,  # REFERENCE §1.7: stream + partial_images 0-3, GPT image models only
    family="gpt",
    max_prompt=32_000,
)

_GPT_FLEX = replace(
    _GPT_BASE,
    id="gpt-image-2",
    size_rule=(
        "any WxH with both sides multiples of 16, longest side <= 3840, aspect <= 3:1, "
        "655,360 to 8,294,400 pixels; or auto"
    ),
    sizes=(),
    input_fidelities=(),
    flexible_size=True,
)

MODELS: dict[str, OpenAIModel] = {
    "gpt-image-1": _GPT_BASE,
    "gpt-image-1-mini": replace(_GPT_BASE, id="gpt-image-1-mini", input_fidelities=("low",)),
    "gpt-image-1.5": replace(_GPT_BASE, id="gpt-image-1.5"),
    "gpt-image-2": _GPT_FLEX,
    "gpt-image-2-2026-04-21": replace(_GPT_FLEX, id="gpt-image-2-2026-04-21"),
    "chatgpt-image-latest": replace(_GPT_FLEX, id="chatgpt-image-latest"),
    "dall-e-3": OpenAIModel(
        id="dall-e-3",
        description="OpenAI DALL-E 3 (retired by OpenAI 2026-05-12; for compatible endpoints)",
        size_rule="1024x1024, 1792x1024, 1024x1792",
        sizes=("1024x1024", "1792x1024", "1024x1792"),
        aspect_ratios=True,
        images_per_call=1,
        qualities=("standard", "hd"),
        styles=("vivid", "natural"),
        output_formats=("png",),
        default_response_format="url",
        default_size="1024x1024",
        default_quality="standard",
        family="dall-e",
        max_prompt=4_000,
    ),
    "dall-e-2": OpenAIModel(
        id="dall-e-2",
        description="OpenAI DALL-E 2 (retired by OpenAI; for compatible endpoints)",
        size_rule="256x256, 512x512, 1024x1024",
        sizes=("256x256", "512x512", "1024x1024"),
        aspect_ratios=False,
        images_per_call=10,
        edits=True,
        masks=True,
        max_input_images=1,
        qualities=("standard",),
        output_formats=("png",),
        default_response_format="url",
        default_size="1024x1024",
        default_quality="standard",
        family="dall-e",
        max_prompt=1_000,
    ),
}


def passthrough_spec(model_id: str) -> OpenAIModel | None:
    """Newer GPT image ids are passed through as strings, validated like gpt-image-2."""
    if model_id.startswith(("gpt-image-", "chatgpt-image-")):
        return replace(
            _GPT_FLEX, id=model_id, description="OpenAI GPT image model (passed through)"
        )
    return None


def as_openai(spec: ModelSpec) -> OpenAIModel:
    """A spec this provider handed out (`MODELS`, `passthrough_spec`), with its OpenAI fields;
    `TypeError` for any other (a bug: specs come from the provider that serves them)."""
    if not isinstance(spec, OpenAIModel):
        raise TypeError(f"{spec.id} is not an OpenAI model spec")
    return spec
