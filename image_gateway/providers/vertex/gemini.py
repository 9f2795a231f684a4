"""The Gemini image models on Vertex AI (`:generateContent`): the `gemini` provider's catalogue
and translations (`gemini/models.py`, `gemini/translate.py`: the same body and answers, any
`promptFeedback.blockReason` a content refusal, Vertex's `MODEL_ARMOR` and `JAILBREAK`
included), plus what only Vertex takes (python-genai `_ImageConfig_to_vertex`, `types.py`
`ImageConfig`; REFERENCE-MORE §1.3, §1.8):

    "generationConfig": {"imageConfig": {..., "personGeneration": "ALLOW_ADULT",
                                         "prominentPeople": "BLOCK_PROMINENT_PEOPLE",
                                         "imageOutputOptions": {"mimeType": "image/jpeg",
                                                                "compressionQuality": 80}}}

- `provider_params.personGeneration`: `ALLOW_ALL`, `ALLOW_ADULT`, `ALLOW_NONE` (`ImageConfig.
  person_generation`; any case, sent upper-case); `provider_params.prominentPeople`:
  `ALLOW_PROMINENT_PEOPLE`, `BLOCK_PROMINENT_PEOPLE` (`ProminentPeople`);
- `output_format` `jpeg` (or `png`) as `imageOutputOptions.mimeType`, with `output_compression`
  as its `compressionQuality` ("for image/jpeg only"): on the Gemini API the server decides.

Pure: no host, settings or auth.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from image_gateway.errors import InvalidRequest
from image_gateway.providers.gemini import translate
from image_gateway.providers.gemini.models import MODELS as GEMINI_MODELS
from image_gateway.providers.gemini.models import GeminiModel, passthrough_spec
from image_gateway.schemas import ImageTask

CHOICES: dict[str, tuple[str, ...]] = {
    "personGeneration": ("ALLOW_ALL", "ALLOW_ADULT", "ALLOW_NONE"),
    "prominentPeople": ("ALLOW_PROMINENT_PEOPLE", "BLOCK_PROMINENT_PEOPLE"),
}
MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}


def on_vertex(spec: GeminiModel) -> GeminiModel:
    """A Gemini image model as Vertex serves it: JPEG output and Vertex's `imageConfig` fields
    besides what the Gemini API takes."""
    return replace(
        spec,
        description=f"{spec.description}; on Vertex AI",
        output_formats=("png", "jpeg"),
        output_compression=True,
        params=(*spec.params, *CHOICES),
    )


MODELS: dict[str, GeminiModel] = {name: on_vertex(spec) for name, spec in GEMINI_MODELS.items()}


def passthrough(model_id: str) -> GeminiModel | None:
    """A newer Gemini image id, validated as the `gemini` provider validates it."""
    spec = passthrough_spec(model_id)
    return None if spec is None else on_vertex(spec)


def check(task: ImageTask, spec: GeminiModel) -> None:
    """The `gemini` provider's checks, then Vertex's fields; `InvalidRequest` naming one."""
    translate.check_task(task, spec)
    for name, values in CHOICES.items():
        value = task.params.get(name)
        if name in task.params and (not isinstance(value, str) or value.upper() not in values):
            raise InvalidRequest(
                f"provider_params.{name} must be one of {', '.join(values)}",
                param=f"provider_params.{name}",
            )


def to_vendor(task: ImageTask, spec: GeminiModel) -> dict[str, Any]:
    """The `generateContent` body of the `gemini` provider, with Vertex's `imageConfig`."""
    body = translate.to_vendor(task, spec)
    extra: dict[str, Any] = {
        name: str(task.params[name]).upper() for name in CHOICES if name in task.params
    }
    if task.output_format is not None:
        options: dict[str, Any] = {"mimeType": MIME_TYPES[task.output_format]}
        if task.output_compression is not None:
            options["compressionQuality"] = task.output_compression
        extra["imageOutputOptions"] = options
    if extra:
        body["generationConfig"].setdefault("imageConfig", {}).update(extra)
    return body
