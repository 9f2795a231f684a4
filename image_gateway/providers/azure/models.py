"""Azure OpenAI image models: OpenAI's specs (`openai/models.py`) as Azure serves them.

What differs from OpenAI (Azure's 2025-04-01-preview inference reference, AZ-SPEC; AZ-DOCS
how-to):
- `output_format` is `png` or `jpeg` (no `webp` in Azure's `imagesOutputFormat`);
- no `moderation` parameter (Azure moderates with its own content filters, configured per
  deployment); `safety_identifier` is not in Azure's reference either (`adapter.py` refuses it);
- DALL-E 3 answers `url` on `*.blob.core.windows.net` (valid 24 h) unless asked for
  `b64_json`, as the gateway does.

Availability [UNVERIFIED]: gpt-image-1, -1-mini and -1.5 are "limited access" (apply with
Microsoft's form, AZ-DOCS 2025; REFERENCE-MORE §5); gpt-image-2 is listed as a public preview
by a copy of the how-to page [3P]; the same copy says dall-e-3 was retired on Azure on
2026-03-04 (kept for resources whose deployment still answers). Newer `gpt-image-*` ids pass
through, validated like gpt-image-2, as on `openai`.
"""

from __future__ import annotations

from dataclasses import replace

from image_gateway.providers.openai.models import MODELS as OPENAI_MODELS
from image_gateway.providers.openai.models import OpenAIModel, passthrough_spec

OUTPUT_FORMATS = ("png", "jpeg")
SERVED = ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2", "dall-e-3")


def on_azure(spec: OpenAIModel) -> OpenAIModel:
    """An OpenAI model as Azure serves it (the module docstring)."""
    if spec.family == "dall-e":
        return replace(
            spec,
            description=f"{spec.id} on Azure OpenAI (retired 2026-03-04, per a third-party source)",
        )
    return replace(
        spec,
        description=f"{spec.id} on Azure OpenAI (limited access)",
        moderations=(),
        output_formats=OUTPUT_FORMATS,
        streams=False,  # not documented for Azure (shared/providers/REFERENCE-MORE.md)
    )


MODELS: dict[str, OpenAIModel] = {name: on_azure(OPENAI_MODELS[name]) for name in SERVED}


def spec_for(model_id: str) -> OpenAIModel | None:
    """The catalogue's spec, or a newer `gpt-image-*` id passed through; None otherwise."""
    if model_id in MODELS:
        return MODELS[model_id]
    passed = passthrough_spec(model_id) if model_id.startswith("gpt-image-") else None
    return on_azure(passed) if passed is not None else None
