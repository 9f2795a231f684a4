"""Bedrock's image models and what each accepts (REFERENCE-MORE §6; AWS-DOCS Nova, Titan and
Stability pages; AWSLABS nova-canvas-mcp-server for Nova's ranges).

Three request shapes (`translate.py`): Nova Canvas and Titan Image Generator share Amazon's
envelope (`taskType`, `<task>Params`, `imageGenerationConfig`); the Stability models take a flat
JSON body. What is verified is enforced before anything is spent; what is [UNVERIFIED] (Titan's
ranges, Stability ids other than `stable-image-ultra-v1:0`) is passed on as asked, and Bedrock's
own 400 `ValidationException` (which costs nothing) answers it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

# Nova Canvas `textToImageParams.style` (REFERENCE-MORE §6.3).
NOVA_STYLES = (
    "3D_ANIMATED_FAMILY_FILM",
    "DESIGN_SKETCH",
    "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION",
    "MAXIMALISM",
    "MIDCENTURY_RETRO",
    "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
)
# Stability's `aspect_ratio` enum (REFERENCE-MORE §2.2, the same fields on Bedrock §6.4).
STABILITY_RATIOS = ("21:9", "16:9", "3:2", "5:4", "1:1", "4:5", "2:3", "9:16", "9:21")
# provider_params of the Amazon envelope: imageGenerationConfig.cfgScale, inPaintingParams.
# maskPrompt, imageVariationParams.similarityStrength (`translate.py` maps the names).
CANVAS_PARAMS = ("cfg_scale", "mask_prompt", "similarity_strength")
# What each takes (rules.py checks the ranges, which differ between Nova and Titan).
PARAM_SCHEMAS: ParamSchemas = {
    "cfg_scale": {"type": "number"},
    "mask_prompt": {"type": "string"},
    "similarity_strength": {"type": "number"},
    "strength": {"type": "number", "minimum": 0, "maximum": 1},
}


@dataclass(frozen=True, kw_only=True)
class BedrockModel(ModelSpec):
    """A Bedrock image model: its request shape (`family`), its longest prompt and negative
    prompt (characters; None: not checked here), its largest seed (the gateway's fan-out
    wraps seeds within it), and for Stability whether it takes an input image."""

    family: Literal["nova", "titan", "stability"]
    max_prompt: int | None
    max_seed: int
    image_to_image: bool = False


NOVA = BedrockModel(
    id="amazon.nova-canvas-v1:0",
    description="Amazon Nova Canvas: text to image; edits as inpainting (a mask, or "
    "provider_params.mask_prompt) or image variation (no mask, 1-5 images)",
    size_rule="any WxH with each side 320-4096 and a multiple of 16, at most 4194304 pixels, "
    "aspect ratio 1:4 to 4:1 (default 1024x1024)",
    aspect_ratios=True,
    images_per_call=5,  # imageGenerationConfig.numberOfImages 1-5
    max_n=10,
    edits=True,
    masks=True,  # inpainting (`inPaintingParams.maskImage`); Titan's too
    max_input_images=5,  # imageVariationParams.images; inpainting takes one
    params=CANVAS_PARAMS,
    qualities=("standard", "premium"),
    styles=NOVA_STYLES,
    seed=True,
    negative_prompt=True,
    output_formats=("png",),
    default_size="1024x1024",
    default_quality="standard",
    family="nova",
    max_prompt=1024,
    max_seed=858_993_459,
)

TITAN = replace(
    NOVA,
    id="amazon.titan-image-generator-v2:0",
    description="Amazon Titan Image Generator v2 (Nova's envelope; its ranges are not "
    "confirmed by AWS's documentation, so Bedrock judges sizes, seeds and prompt lengths)",
    size_rule="any WxH, passed on as asked (Titan's own size list is not verified here)",
    styles=(),
    default_size=None,
    family="titan",
    max_prompt=None,
    max_seed=2**32 - 1,  # not checked: the gateway's own bound
)

_ULTRA = BedrockModel(
    id="stability.stable-image-ultra-v1:1",
    description="Stability AI Stable Image Ultra on Bedrock: text to image, image to image "
    "(an input image and provider_params.strength)",
    size_rule="aspect_ratio 21:9, 16:9, 3:2, 5:4, 1:1, 4:5, 2:3, 9:16 or 9:21, or a size of "
    "one of those ratios (the model picks the pixels, about 1 MP)",
    aspect_ratios=True,
    images_per_call=1,
    max_n=10,
    edits=True,
    max_input_images=1,
    params=("strength",),
    seed=True,
    negative_prompt=True,
    output_formats=("png", "jpeg", "webp"),
    family="stability",
    max_prompt=10_000,
    max_seed=4_294_967_294,
    image_to_image=True,
)
_CORE = replace(
    _ULTRA,
    id="stability.stable-image-core-v1:1",
    description="Stability AI Stable Image Core on Bedrock: text to image",
    size_rule=_ULTRA.size_rule.replace("about 1 MP", "about 1.5 MP"),
    edits=False,
    max_input_images=0,
    params=(),
    image_to_image=False,
)
_SD35 = replace(
    _ULTRA,
    id="stability.sd3-5-large-v1:0",
    description="Stability AI Stable Diffusion 3.5 Large on Bedrock: text to image, image to "
    "image (an input image and provider_params.strength)",
)

# Only `stability.stable-image-ultra-v1:0` is a verified id (AWS-DOCS); the `v1:1` versions,
# Core and SD3.5 Large ids are [UNVERIFIED] (REFERENCE-MORE §6.4): a wrong one is Bedrock's
# 400 "The provided model identifier is invalid" or a 404, never a charge.
MODELS: dict[str, BedrockModel] = {
    model.id: model
    for model in (
        NOVA,
        TITAN,
        replace(_ULTRA, id="stability.stable-image-ultra-v1:0"),
        _ULTRA,
        replace(_CORE, id="stability.stable-image-core-v1:0"),
        _CORE,
        _SD35,
    )
}


def as_bedrock(spec: ModelSpec) -> BedrockModel:
    """A spec this provider handed out; `TypeError` for any other (a bug)."""
    if not isinstance(spec, BedrockModel):
        raise TypeError(f"{spec.id} is not a Bedrock model spec")
    return spec
