"""Fireworks' FLUX models (REFERENCE-MORE §8; FW-DOCS; vercel/ai `fireworks-image-model.ts`).

| model                | shape | path after `{base}/workflows/accounts/fireworks/models/` |
|----------------------|-------|----------------------------------------------------------|
| `flux-1-schnell-fp8` | sync  | `flux-1-schnell-fp8/text_to_image`                       |
| `flux-kontext-pro`   | task  | `flux-kontext-pro` (polled at `.../get_result`)          |
| `flux-kontext-max`   | task  | `flux-kontext-max` (polled at `.../get_result`)          |

FLUX.1 [schnell]: JSON `{prompt, aspect_ratio, seed, guidance_scale, num_inference_steps}`, one
image a call (vercel/ai: `maxImagesPerCall = 1`); no width/height (vercel/ai warns "does not
support the `size` option"): a size is sent as its aspect ratio, which must be listed
(`SCHNELL_RATIOS`, Fireworks' FLUX list [3P]). PNG by default, JPEG when asked (`Accept`).

FLUX.1 Kontext [pro]/[max]: BFL's own specs (`bfl.models`), since Fireworks re-hosts BFL's
protocol: the same body (prompt, `input_image` and up to 3 more references, `aspect_ratio`,
`seed`, `output_format`, `safety_tolerance`, `prompt_upsampling`) and statuses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from image_gateway.providers.bfl.models import MODELS as BFL_MODELS
from image_gateway.providers.bfl.models import PARAM_SCHEMAS as BFL_SCHEMAS
from image_gateway.providers.bfl.models import BFLModel
from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

ACCOUNT_MODELS = "accounts/fireworks/models/"
SCHNELL_RATIOS = ("1:1", "21:9", "16:9", "3:2", "5:4", "4:5", "2:3", "9:16", "9:21")


@dataclass(frozen=True, kw_only=True)
class SchnellModel(ModelSpec):
    """A synchronous workflow model: its path after `{base}/workflows/`."""

    path: str


SCHNELL = SchnellModel(
    id="flux-1-schnell-fp8",
    description="FLUX.1 [schnell] (FP8) on Fireworks, synchronous: text to image",
    size_rule="aspect_ratio " + ", ".join(SCHNELL_RATIOS) + " (a size of one of them picks it)",
    aspect_ratios=True,
    seed=True,
    output_formats=("png", "jpeg"),
    params=("guidance_scale", "num_inference_steps"),
    path=f"{ACCOUNT_MODELS}flux-1-schnell-fp8/text_to_image",
)


def _kontext(model_id: str) -> BFLModel:
    spec = BFL_MODELS[model_id]
    return replace(
        spec,
        description=spec.description + " on Fireworks (BFL's task protocol)",
        path=f"{ACCOUNT_MODELS}{model_id}",
    )


KONTEXT: dict[str, BFLModel] = {m: _kontext(m) for m in ("flux-kontext-pro", "flux-kontext-max")}
MODELS: dict[str, ModelSpec] = {SCHNELL.id: SCHNELL, **KONTEXT}

SCHNELL_SCHEMAS: ParamSchemas = {
    "guidance_scale": {"type": "number", "minimum": 0, "description": "prompt adherence"},
    "num_inference_steps": {"type": "integer", "minimum": 1},
}
PARAM_SCHEMAS: ParamSchemas = {
    **SCHNELL_SCHEMAS,
    **{
        name: BFL_SCHEMAS[name]
        for spec in KONTEXT.values()
        for name in spec.params
        if name in BFL_SCHEMAS
    },
}
