"""The contract suite's one table: how to run each registered provider against its emulator.

Every provider in `image_gateway.providers.registry.DEFINITIONS` needs an entry here, or the
suite fails (`test_registry.py`): a new provider cannot skip the contract. An entry says

- `emulator`: how to build the provider's emulator (an `emulators.kit.Emulator`, given the key
  it must accept), started in strict mode where the emulator has one, so a field sent under a
  wrong name is an error instead of being silently ignored; None only for a provider that calls
  nobody (`offline`, which must say why, and whose settings must have no key);
- `model`: the model the scenarios run on (cheap, plain text-to-image);
- `submit_kinds`: the emulator's request kinds of a paid submission (`stats()["requests"]`),
  so the suite counts how many submissions reached the provider;
- `edit_model`: a model that takes an input image, for the same checks on
  `POST /v1/images/edits`; None only when no model of the provider does (its edit cases are
  then skipped, "<provider> has no model that edits", and it documents no edit delivery);
- `deliveries`: documented fields and what must reach the provider for each, under the
  provider's own name (`Delivery`);
- `cost_basis`: what the gateway's `cost.basis` must be for `model` (`billing/pricing.py`);
- `no_form`: the standard scenarios (`emulators.kit.SCENARIOS`) the provider has no form of
  (OpenAI has no HTTP-200 moderation answer); the suite checks the emulator agrees;
- `model_params`: `provider_params` a model cannot be asked without (a fine-tune's id);
- `edit_params`: `provider_params` an edit cannot be asked without, added to every edit the
  suite sends (Recraft's image to image requires `strength`, which a generation refuses);
- `settings`: gateway settings beyond the generic ones (`harness.provider_settings`: key,
  base URL, trusted polling origin, short timeouts), given the started emulator;
- `known_bugs`: a contract check (a test function's name) the provider fails today, with why:
  that check is marked `xfail(strict=True)`, so fixing the bug makes the suite say so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulators.kit import Emulator

# The ledger's and the response's `cost.basis` values (README, "cost").
COST_BASES = ("provider", "tokens", "price_table", "estimate", "unpriced")
# A `Delivery.wire` value: the field must be there, whatever its value (an uploaded image).
PRESENT = "<present>"


@dataclass(frozen=True)
class Delivery:
    """A documented request field and what the provider must receive for it.

    `sent` is merged into a generation request's JSON body (common fields or
    `provider_params`); `wire` maps each field the provider's submission must carry (its own
    name; a dotted path for a nested one, `input.prompt`, a number indexing a list,
    `contents.0.parts.0.text`) to the value it must have
    (`PRESENT`: any). `model`: the model to ask, when not the entry's; `edit`: sent to
    `POST /v1/images/edits` (multipart, with an input image) instead; `prompt_field`: where
    this submission carries the prompt, when not where the entry says (a model or an edit of
    another shape: Bedrock's)."""

    sent: Mapping[str, Any]
    wire: Mapping[str, Any]
    model: str | None = None
    edit: bool = False
    prompt_field: str | None = None


@dataclass(frozen=True)
class Contract:
    provider: str
    model: str
    emulator: Callable[[str], Emulator] | None
    submit_kinds: tuple[str, ...] = ()
    edit_model: str | None = None
    deliveries: tuple[Delivery, ...] = ()
    cost_basis: str = "price_table"
    no_form: frozenset[str] = frozenset()
    model_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    edit_params: Mapping[str, Any] = field(default_factory=dict)
    settings: Callable[[Emulator], dict[str, Any]] | None = None
    offline: str = ""  # why a provider without an emulator calls nobody
    known_bugs: Mapping[str, str] = field(default_factory=dict)
    # Where the provider takes the prompt: dotted when nested, a number indexing a list.
    prompt_field: str = "prompt"


def _openai(key: str) -> Emulator:
    from emulators.openai_images import OpenAIEmulator

    return OpenAIEmulator(api_key=key, strict=True)


def _azure(key: str) -> Emulator:
    from emulators.azure import AzureEmulator

    return AzureEmulator(api_key=key, strict=True)


def _bfl(key: str) -> Emulator:
    from emulators.bfl import BFLEmulator

    return BFLEmulator(api_key=key, generation_seconds=0.05, strict=True)


def _gemini(key: str) -> Emulator:
    from emulators.gemini import GeminiEmulator

    return GeminiEmulator(api_key=key, strict=True)


_IMAGE_CONFIG = "generationConfig.imageConfig"


def _fal(key: str) -> Emulator:
    from emulators.fal import FalEmulator

    return FalEmulator(api_key=key, generation_seconds=0.05, strict=True)


def _xai(key: str) -> Emulator:
    from emulators.xai import XAIEmulator

    return XAIEmulator(api_key=key, strict=True)


def _replicate(key: str) -> Emulator:
    from emulators.replicate import ReplicateEmulator

    return ReplicateEmulator(api_key=key, generation_seconds=0.05, strict=True)


def _fireworks(key: str) -> Emulator:
    from emulators.fireworks import FireworksEmulator

    return FireworksEmulator(api_key=key, strict=True)


def _ideogram(key: str) -> Emulator:
    from emulators.ideogram import IdeogramEmulator

    return IdeogramEmulator(api_key=key, strict=True)


def _recraft(key: str) -> Emulator:
    from emulators.recraft import RecraftEmulator

    return RecraftEmulator(api_key=key, strict=True)


def _runway(key: str) -> Emulator:
    from emulators.runway import RunwayEmulator

    return RunwayEmulator(api_key=key, generation_seconds=0.05, strict=True)


def _stability(key: str) -> Emulator:
    from emulators.stability import StabilityEmulator

    return StabilityEmulator(api_key=key, strict=True)


def _together(key: str) -> Emulator:
    from emulators.together import TogetherEmulator

    return TogetherEmulator(api_key=key, strict=True)


def _dashscope(key: str) -> Emulator:
    from emulators.dashscope import DashScopeEmulator

    return DashScopeEmulator(api_key=key, generation_seconds=0.05, strict=True)


def _seedream(key: str) -> Emulator:
    from emulators.seedream import SeedreamEmulator

    return SeedreamEmulator(api_key=key, strict=True)


def _luma(key: str) -> Emulator:
    from emulators.luma import LumaEmulator

    return LumaEmulator(api_key=key, generation_seconds=0.05, strict=True)


def _vertex(key: str) -> Emulator:
    from emulators.vertex import VertexEmulator

    return VertexEmulator(api_key=key, strict=True)


def _vertex_settings(emulator: Emulator) -> dict[str, Any]:
    """OAuth, as in production: the emulator's service-account key file and project, and no
    express-mode key (the harness sets one from the emulator's `api_key`)."""
    from emulators.vertex import VertexEmulator

    assert isinstance(emulator, VertexEmulator)
    return {
        "vertex_ai_api_key": None,
        "vertex_ai_project": emulator.project,
        "vertex_ai_location": "us-central1",
        "vertex_ai_credentials_file": str(emulator.credentials_file),
    }


def _bedrock(key: str) -> Emulator:
    from emulators.bedrock import BedrockEmulator

    return BedrockEmulator(api_key=key, strict=True)


def _bedrock_sigv4(emulator: Emulator) -> dict[str, Any]:
    """SigV4 with the emulator's access key (its `api_key` is the secret), not an API key."""
    from emulators.bedrock import ACCESS_KEY_ID

    return {
        "bedrock_api_key": None,
        "bedrock_access_key_id": ACCESS_KEY_ID,
        "bedrock_secret_access_key": emulator.api_key,
        "bedrock_region": "us-east-1",
    }


CONTRACTS: dict[str, Contract] = {
    contract.provider: contract
    for contract in (
        Contract(
            provider="openai",
            model="gpt-image-1",
            emulator=_openai,
            submit_kinds=("generate", "edit"),
            edit_model="gpt-image-1",
            cost_basis="tokens",  # the emulator reports GPT image token usage, as OpenAI does
            no_form=frozenset({"moderated_200"}),
            deliveries=(
                Delivery({"size": "1536x1024"}, {"size": "1536x1024"}),
                Delivery({"quality": "low", "n": 2}, {"quality": "low", "n": 2}),
                Delivery(
                    {"output_format": "webp", "output_compression": 40},
                    {"output_format": "webp", "output_compression": 40},
                ),
                Delivery({"background": "transparent"}, {"background": "transparent"}),
                Delivery({"moderation": "low"}, {"moderation": "low"}),
                Delivery(
                    {"user": "end-user-7", "safety_identifier": "hashed-user-7"},
                    {"user": "end-user-7", "safety_identifier": "hashed-user-7"},
                ),
                Delivery({"aspect_ratio": "3:2"}, {"size": "1536x1024"}),
                Delivery(
                    {"style": "natural", "quality": "hd"},
                    {"style": "natural", "quality": "hd", "response_format": "b64_json"},
                    model="dall-e-3",
                ),
                Delivery(
                    {"input_fidelity": "high", "quality": "medium"},
                    {"input_fidelity": "high", "quality": "medium", "image": PRESENT},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="bfl-flux",
            model="flux-dev",
            emulator=_bfl,
            submit_kinds=("submit",),
            edit_model="flux-kontext-pro",
            cost_basis="provider",  # BFL's `cost` (credits) in its submit answer
            no_form=frozenset({"moderated"}),  # BFL moderates with an HTTP-200 poll status
            model_params={
                "flux-pro-1.1-ultra-finetuned": {"finetune_id": "ft-contract"},
                "flux-pro-1.0-fill-finetuned": {"finetune_id": "ft-contract"},
            },
            deliveries=(
                Delivery({"size": "1024x768"}, {"width": 1024, "height": 768}),
                Delivery(
                    {"seed": 42, "output_format": "png"}, {"seed": 42, "output_format": "png"}
                ),
                Delivery(
                    {"provider_params": {"safety_tolerance": 4, "prompt_upsampling": True}},
                    {"safety_tolerance": 4, "prompt_upsampling": True},
                    model="flux-pro-1.1",
                ),
                Delivery(
                    {"aspect_ratio": "16:9", "provider_params": {"raw": True}},
                    {"aspect_ratio": "16:9", "raw": True},
                    model="flux-pro-1.1-ultra",
                ),
                Delivery(
                    {"size": "1920x1080"}, {"width": 1920, "height": 1088}, model="flux-2-pro"
                ),
                Delivery(
                    {"aspect_ratio": "4:3", "seed": 3},
                    {"input_image": PRESENT, "aspect_ratio": "4:3", "seed": 3},
                    model="flux-kontext-pro",
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="gemini",
            model="gemini-2.5-flash-image",
            emulator=_gemini,
            submit_kinds=("generate",),
            edit_model="gemini-3.1-flash-image",
            cost_basis="price_table",  # per image by size (REFERENCE-MORE §9, [3P])
            no_form=frozenset({"moderated"}),  # Gemini refuses with HTTP 200 (§1.4)
            prompt_field="contents.0.parts.0.text",
            deliveries=(
                Delivery({"size": "1536x672"}, {f"{_IMAGE_CONFIG}.aspectRatio": "21:9"}),
                Delivery(
                    {"size": "2752x1536"},
                    {f"{_IMAGE_CONFIG}.aspectRatio": "16:9", f"{_IMAGE_CONFIG}.imageSize": "2K"},
                    model="gemini-3-pro-image",
                ),
                Delivery(
                    {"aspect_ratio": "1:8", "provider_params": {"image_size": "512"}},
                    {f"{_IMAGE_CONFIG}.aspectRatio": "1:8", f"{_IMAGE_CONFIG}.imageSize": "512"},
                    model="gemini-3.1-flash-image",
                ),
                # 2k, not 4k: the emulator's first 4K image takes over the contract's 1-s
                # submission timeout to encode on a loaded machine (a 504 under load).
                Delivery(
                    {"provider_params": {"thinking_level": "minimal", "image_size": "2k"}},
                    {
                        "generationConfig.thinkingConfig.thinkingLevel": "MINIMAL",
                        f"{_IMAGE_CONFIG}.imageSize": "2K",
                    },
                    model="gemini-3.1-flash-image",
                ),
                Delivery(
                    {"provider_params": {"response_modalities": ["IMAGE"]}},
                    {"generationConfig.responseModalities": ["IMAGE"]},
                ),
                Delivery(
                    {"aspect_ratio": "4:3"},
                    {
                        "contents.0.parts.1.inlineData.mimeType": "image/png",
                        "contents.0.parts.1.inlineData.data": PRESENT,
                        f"{_IMAGE_CONFIG}.aspectRatio": "4:3",
                        f"{_IMAGE_CONFIG}.imageSize": "1K",
                    },
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="xai",
            model="grok-imagine-image",
            emulator=_xai,
            submit_kinds=("generate", "edit"),
            edit_model="grok-imagine-image",
            cost_basis="provider",  # xAI's `usage.cost_in_usd_ticks` in its answer
            deliveries=(
                Delivery(
                    {"aspect_ratio": "16:9", "provider_params": {"resolution": "2k"}},
                    {"aspect_ratio": "16:9", "resolution": "2k", "response_format": "url"},
                ),
                Delivery({"aspect_ratio": "6:13"}, {"aspect_ratio": "9:19.5"}),
                Delivery({"n": 3, "user": "end-user-7"}, {"n": 3, "user": "end-user-7"}),
                Delivery({"safety_identifier": "hashed-7"}, {"user": "hashed-7"}),
                Delivery(
                    {"quality": "low"},
                    {"quality": "low", "model": "grok-imagine-image-2.0"},
                    model="grok-imagine-image-2.0",
                ),
                Delivery(
                    {"provider_params": {"resolution": "1K"}},
                    {"resolution": "1k", "model": "grok-imagine-image-quality"},
                    model="grok-imagine-image-quality",
                ),
                Delivery(
                    {"n": 2}, {"n": 2, "model": "grok-2-image-1212"}, model="grok-2-image-1212"
                ),
                Delivery(
                    {"aspect_ratio": "4:3", "provider_params": {"resolution": "2k"}},
                    {"image": PRESENT, "aspect_ratio": "4:3", "resolution": "2k"},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="stability",
            model="stable-image-core",
            emulator=_stability,
            submit_kinds=("generate", "edit"),
            edit_model="stable-image-inpaint",
            cost_basis="price_table",  # credits per endpoint (REFERENCE-MORE §9)
            model_params={  # what these edit modes cannot be asked without
                "stable-image-outpaint": {"left": 64},
                "stable-image-search-and-replace": {"search_prompt": "a cat"},
            },
            # Multipart form fields arrive as text.
            deliveries=(
                Delivery({"size": "1536x1024"}, {"aspect_ratio": "3:2"}),
                Delivery(
                    {
                        "aspect_ratio": "21:9",
                        "seed": 42,
                        "negative_prompt": "fog",
                        "output_format": "webp",
                    },
                    {
                        "aspect_ratio": "21:9",
                        "seed": "42",
                        "negative_prompt": "fog",
                        "output_format": "webp",
                    },
                ),
                Delivery({"provider_params": {"style_preset": "anime"}}, {"style_preset": "anime"}),
                Delivery(
                    {"provider_params": {"cfg_scale": 1.5}},
                    {"model": "sd3.5-large-turbo", "cfg_scale": "1.5"},
                    model="sd3.5-large-turbo",
                ),
                Delivery(
                    {"provider_params": {"grow_mask": 10}},
                    {"image": PRESENT, "grow_mask": "10"},
                    edit=True,
                ),
                Delivery(
                    {"provider_params": {"strength": 0.5}},
                    {"image": PRESENT, "strength": "0.5", "mode": "image-to-image"},
                    model="sd3.5-medium",
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="vertex-ai",
            model="imagen-4.0-fast-generate-001",
            emulator=_vertex,
            submit_kinds=("predict", "generate"),
            edit_model="gemini-2.5-flash-image",  # Imagen's generate models take no image
            cost_basis="price_table",
            settings=_vertex_settings,
            prompt_field="instances.0.prompt",
            deliveries=(
                Delivery(
                    {"size": "1408x768", "n": 2},
                    {"parameters.aspectRatio": "16:9", "parameters.sampleCount": 2},
                ),
                Delivery(
                    {"size": "2816x1536"},
                    {"parameters.aspectRatio": "16:9", "parameters.sampleImageSize": "2K"},
                    model="imagen-4.0-generate-001",
                ),
                Delivery({"aspect_ratio": "3:4"}, {"parameters.aspectRatio": "3:4"}),
                Delivery(
                    {"seed": 42, "output_format": "jpeg", "output_compression": 80},
                    {
                        "parameters.seed": 42,
                        "parameters.addWatermark": False,
                        "parameters.outputOptions": {
                            "mimeType": "image/jpeg",
                            "compressionQuality": 80,
                        },
                    },
                ),
                Delivery(
                    {
                        "provider_params": {
                            "personGeneration": "dont_allow",
                            "safetySetting": "block_only_high",
                            "enhancePrompt": False,
                            "language": "en",
                            "labels": {"team": "art"},
                        }
                    },
                    {
                        "parameters.personGeneration": "dont_allow",
                        "parameters.safetySetting": "block_only_high",
                        "parameters.enhancePrompt": False,
                        "parameters.language": "en",
                        "parameters.includeRaiReason": True,
                        "labels": {"team": "art"},
                    },
                ),
                Delivery(
                    {
                        "size": "1344x768",
                        "output_format": "jpeg",
                        "output_compression": 70,
                        "provider_params": {
                            "personGeneration": "allow_adult",
                            "prominentPeople": "block_prominent_people",
                        },
                    },
                    {
                        f"{_IMAGE_CONFIG}.aspectRatio": "16:9",
                        f"{_IMAGE_CONFIG}.personGeneration": "ALLOW_ADULT",
                        f"{_IMAGE_CONFIG}.prominentPeople": "BLOCK_PROMINENT_PEOPLE",
                        f"{_IMAGE_CONFIG}.imageOutputOptions": {
                            "mimeType": "image/jpeg",
                            "compressionQuality": 70,
                        },
                    },
                    model="gemini-2.5-flash-image",
                    prompt_field="contents.0.parts.0.text",
                ),
                Delivery(
                    {"aspect_ratio": "4:3", "provider_params": {"personGeneration": "allow_none"}},
                    {
                        "contents.0.parts.1.inlineData.mimeType": "image/png",
                        "contents.0.parts.1.inlineData.data": PRESENT,
                        f"{_IMAGE_CONFIG}.aspectRatio": "4:3",
                        f"{_IMAGE_CONFIG}.personGeneration": "ALLOW_NONE",
                    },
                    edit=True,
                    prompt_field="contents.0.parts.0.text",
                ),
            ),
        ),
        Contract(
            provider="bedrock",
            model="amazon.nova-canvas-v1:0",
            emulator=_bedrock,
            submit_kinds=("invoke",),
            edit_model="amazon.nova-canvas-v1:0",
            cost_basis="unpriced",  # Bedrock's prices are not collected (REFERENCE-MORE §9)
            # The scenarios run on Nova Canvas, which refuses with a 400; Bedrock's HTTP-200
            # refusal is Stability's `finish_reasons` (tests/providers/test_bedrock.py).
            no_form=frozenset({"moderated_200"}),
            settings=_bedrock_sigv4,
            prompt_field="textToImageParams.text",
            deliveries=(
                Delivery(
                    {"size": "1024x768", "n": 2},
                    {
                        "taskType": "TEXT_IMAGE",
                        "imageGenerationConfig.width": 1024,
                        "imageGenerationConfig.height": 768,
                        "imageGenerationConfig.numberOfImages": 2,
                    },
                ),
                Delivery(
                    {"quality": "premium", "seed": 42, "negative_prompt": "fog"},
                    {
                        "imageGenerationConfig.quality": "premium",
                        "imageGenerationConfig.seed": 42,
                        "textToImageParams.negativeText": "fog",
                    },
                ),
                Delivery(
                    {"style": "PHOTOREALISM", "provider_params": {"cfg_scale": 6.5}},
                    {
                        "textToImageParams.style": "PHOTOREALISM",
                        "imageGenerationConfig.cfgScale": 6.5,
                    },
                ),
                Delivery(
                    {"aspect_ratio": "16:9"},
                    {"imageGenerationConfig.width": 1328, "imageGenerationConfig.height": 752},
                ),
                Delivery(
                    {"size": "512x512"},
                    {"imageGenerationConfig.width": 512},
                    model="amazon.titan-image-generator-v2:0",
                ),
                Delivery(
                    {"aspect_ratio": "3:2", "seed": 7, "output_format": "jpeg"},
                    {"aspect_ratio": "3:2", "seed": 7, "output_format": "jpeg"},
                    model="stability.stable-image-ultra-v1:0",
                    prompt_field="prompt",
                ),
                Delivery(
                    {"size": "1536x1024", "negative_prompt": "fog"},
                    {"aspect_ratio": "3:2", "negative_prompt": "fog"},
                    model="stability.stable-image-core-v1:1",
                    prompt_field="prompt",
                ),
                Delivery(
                    {"provider_params": {"similarity_strength": 0.5}, "quality": "premium"},
                    {
                        "taskType": "IMAGE_VARIATION",
                        "imageVariationParams.images": PRESENT,
                        "imageVariationParams.similarityStrength": 0.5,
                        "imageGenerationConfig.quality": "premium",
                    },
                    edit=True,
                    prompt_field="imageVariationParams.text",
                ),
                Delivery(
                    {"provider_params": {"mask_prompt": "the sky"}},
                    {
                        "taskType": "INPAINTING",
                        "inPaintingParams.image": PRESENT,
                        "inPaintingParams.maskPrompt": "the sky",
                    },
                    edit=True,
                    prompt_field="inPaintingParams.text",
                ),
                Delivery(
                    {"provider_params": {"strength": 0.4}},
                    {"mode": "image-to-image", "image": PRESENT, "strength": 0.4},
                    model="stability.stable-image-ultra-v1:0",
                    edit=True,
                    prompt_field="prompt",
                ),
            ),
        ),
        Contract(
            provider="azure",
            model="gpt-image-1",
            emulator=_azure,
            submit_kinds=("generate", "edit"),
            edit_model="gpt-image-1",
            cost_basis="unpriced",  # Azure prices per region and SKU: not collected
            no_form=frozenset({"quota"}),  # Azure bills afterwards; its quotas are 429s
            deliveries=(
                Delivery(
                    {"size": "1536x1024", "quality": "low", "n": 2},
                    {"size": "1536x1024", "quality": "low", "n": 2, "model": "gpt-image-1"},
                ),
                Delivery(
                    {"output_format": "jpeg", "output_compression": 40},
                    {"output_format": "jpeg", "output_compression": 40},
                ),
                Delivery({"background": "transparent"}, {"background": "transparent"}),
                Delivery({"user": "end-user-7"}, {"user": "end-user-7"}),
                Delivery({"aspect_ratio": "3:2"}, {"size": "1536x1024"}),
                Delivery(
                    {"style": "natural", "quality": "hd"},
                    {"style": "natural", "quality": "hd", "response_format": "b64_json"},
                    model="dall-e-3",
                ),
                Delivery(
                    {"input_fidelity": "high", "quality": "medium"},
                    {"input_fidelity": "high", "quality": "medium", "image": PRESENT},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="replicate",
            model="black-forest-labs/flux-schnell",
            emulator=_replicate,
            submit_kinds=("create",),
            edit_model="black-forest-labs/flux-kontext-pro",
            cost_basis="price_table",  # Replicate's answers carry no cost (REFERENCE §4 prices)
            no_form=frozenset({"moderated"}),  # a refusal is a failed prediction (HTTP 200)
            prompt_field="input.prompt",
            deliveries=(
                Delivery(
                    {"size": "1536x1024", "n": 3},
                    {"input.aspect_ratio": "3:2", "input.num_outputs": 3},
                ),
                Delivery(
                    {"seed": 42, "output_format": "jpeg", "output_compression": 70},
                    {"input.seed": 42, "input.output_format": "jpg", "input.output_quality": 70},
                ),
                Delivery(
                    {"provider_params": {"go_fast": False, "megapixels": "0.25"}},
                    {"input.go_fast": False, "input.megapixels": "0.25"},
                ),
                Delivery(
                    {"size": "1000x700", "provider_params": {"safety_tolerance": 5}},
                    {
                        "input.aspect_ratio": "custom",
                        "input.width": 992,
                        "input.height": 704,
                        "input.safety_tolerance": 5,
                    },
                    model="black-forest-labs/flux-1.1-pro",
                ),
                Delivery(
                    {"size": "1365x1024", "provider_params": {"style": "digital_illustration"}},
                    {"input.size": "1365x1024", "input.style": "digital_illustration"},
                    model="recraft-ai/recraft-v3",
                ),
                Delivery(
                    {"aspect_ratio": "16:10", "provider_params": {"magic_prompt_option": "Off"}},
                    {"input.aspect_ratio": "16:10", "input.magic_prompt_option": "Off"},
                    model="ideogram-ai/ideogram-v3-turbo",
                ),
                Delivery(
                    {"seed": 3},
                    {"input.input_image": PRESENT, "input.aspect_ratio": "match_input_image"},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="fal",
            model="fal-ai/flux/schnell",
            emulator=_fal,
            submit_kinds=("submit",),
            edit_model="fal-ai/flux-pro/kontext",
            cost_basis="price_table",  # fal's answers carry no cost (REFERENCE section 4 prices)
            deliveries=(
                Delivery(
                    {"size": "1536x1024", "n": 3},
                    {"image_size.width": 1536, "image_size.height": 1024, "num_images": 3},
                ),
                Delivery({"aspect_ratio": "16:9"}, {"image_size": "landscape_16_9"}),
                Delivery({"size": "1024x1024"}, {"image_size": "square_hd"}),
                Delivery(
                    {"seed": 42, "output_format": "png"},
                    {"seed": 42, "output_format": "png"},
                ),
                Delivery(
                    {"provider_params": {"num_inference_steps": 2, "acceleration": "high"}},
                    {"num_inference_steps": 2, "acceleration": "high"},
                ),
                Delivery(
                    {"size": "1536x1024", "provider_params": {"raw": True}},
                    {"aspect_ratio": "3:2", "raw": True},
                    model="fal-ai/flux-pro/v1.1-ultra",
                ),
                Delivery(
                    {"aspect_ratio": "5:4", "provider_params": {"resolution": "2K"}},
                    {"aspect_ratio": "5:4", "resolution": "2K"},
                    model="fal-ai/nano-banana",
                ),
                Delivery(
                    {"seed": 3, "provider_params": {"guidance_scale": 4.5}},
                    {"image_url": PRESENT, "seed": 3, "guidance_scale": 4.5},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="together",
            model="black-forest-labs/FLUX.1-schnell",
            emulator=_together,
            submit_kinds=("generate",),
            edit_model="black-forest-labs/FLUX.1-kontext-pro",
            cost_basis="price_table",  # per megapixel at 4 steps ([3P] workflowlab)
            no_form=frozenset({"moderated_200"}),  # Together documents no HTTP-200 refusal
            deliveries=(
                Delivery(
                    {"size": "1536x1024", "n": 3},
                    {"width": 1536, "height": 1024, "n": 3, "response_format": "base64"},
                ),
                Delivery({"aspect_ratio": "16:9"}, {"width": 1328, "height": 752}),
                Delivery(
                    {"seed": 42, "output_format": "png", "provider_params": {"steps": 4}},
                    {"seed": 42, "output_format": "png", "steps": 4},
                ),
                Delivery(
                    {"provider_params": {"guidance_scale": 4.5, "disable_safety_checker": True}},
                    {
                        "model": "black-forest-labs/FLUX.1-dev",
                        "guidance_scale": 4.5,
                        "disable_safety_checker": True,
                    },
                    model="black-forest-labs/FLUX.1-dev",
                ),
                Delivery(
                    {"size": "1024x768", "provider_params": {"guidance_scale": 3}},
                    {"image_url": PRESENT, "width": 1024, "height": 768, "guidance_scale": 3},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="seedream",
            model="seedream-4-0-250828",
            emulator=_seedream,
            submit_kinds=("generate",),  # generations and edits share Ark's one route
            edit_model="seedream-4-0-250828",
            cost_basis="price_table",  # a flat price per image (BytePlus's docs)
            deliveries=(
                Delivery({"size": "1920x1080"}, {"size": "1920x1080", "response_format": "url"}),
                Delivery({"aspect_ratio": "16:9"}, {"size": "2736x1536"}),
                Delivery(
                    {"provider_params": {"resolution": "1K", "watermark": False}},
                    {"size": "1K", "watermark": False},
                ),
                Delivery(
                    {"seed": 42, "size": "768x512", "provider_params": {"guidance_scale": 3.5}},
                    {"model": "seedream-3-0-t2i-250415", "seed": 42, "guidance_scale": 3.5},
                    model="seedream-3-0-t2i-250415",
                ),
                Delivery(
                    {"output_format": "png", "provider_params": {"resolution": "2K"}},
                    {"model": "seedream-5-0-260128", "output_format": "png", "size": "2K"},
                    model="seedream-5-0-260128",
                ),
                Delivery(
                    {"provider_params": {"watermark": False}},
                    {"image": PRESENT, "watermark": False},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="ideogram",
            model="ideogram-3-turbo",
            emulator=_ideogram,
            submit_kinds=("generate", "edit"),
            edit_model="ideogram-3-turbo",
            cost_basis="price_table",  # per output image by rendering speed (REFERENCE section 4)
            # Multipart form fields arrive as text.
            deliveries=(
                Delivery(
                    {"size": "1536x640", "n": 3},
                    {"resolution": "1536x640", "num_images": "3", "rendering_speed": "TURBO"},
                ),
                Delivery(
                    {"aspect_ratio": "16:10", "seed": 42, "negative_prompt": "fog"},
                    {"aspect_ratio": "16x10", "seed": "42", "negative_prompt": "fog"},
                ),
                Delivery(
                    {"provider_params": {"magic_prompt": "OFF", "style_type": "DESIGN"}},
                    {"magic_prompt": "OFF", "style_type": "DESIGN"},
                ),
                Delivery(
                    {"seed": 7},
                    {"rendering_speed": "FLASH", "seed": "7"},
                    model="ideogram-3-flash",
                ),
                Delivery(
                    {"aspect_ratio": "16:9"},
                    {"resolution": "2560x1440", "rendering_speed": "QUALITY"},
                    model="ideogram-4-quality",
                    prompt_field="text_prompt",
                ),
                Delivery(
                    {"provider_params": {"image_weight": 30}},
                    {"image": PRESENT, "image_weight": "30", "rendering_speed": "TURBO"},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="recraft",
            model="recraftv4_1",
            emulator=_recraft,
            submit_kinds=("generate", "edit"),
            edit_model="recraftv3",
            edit_params={"strength": 0.4},  # Recraft's image to image requires it
            cost_basis="provider",  # Recraft's `credits` (API units) in its answer
            no_form=frozenset({"moderated_200"}),
            deliveries=(
                Delivery({"size": "1344x768", "n": 2}, {"size": "1344x768", "n": 2}),
                Delivery({"aspect_ratio": "3:5"}, {"size": "832x1344", "model": "recraftv4_1"}),
                Delivery(
                    {"aspect_ratio": "16:9"},
                    {"size": "2688x1536", "model": "recraftv4_pro"},
                    model="recraftv4_pro",
                ),
                Delivery(
                    {
                        "style": "digital_illustration",
                        "negative_prompt": "fog",
                        "seed": 7,
                        "provider_params": {"substyle": "2d_art_poster"},
                    },
                    {
                        "style": "digital_illustration",
                        "negative_prompt": "fog",
                        "random_seed": 7,
                        "substyle": "2d_art_poster",
                    },
                    model="recraftv3",
                ),
                Delivery(
                    {"output_format": "webp", "provider_params": {"controls": {"no_text": True}}},
                    {"image_format": "webp", "controls": {"no_text": True}},
                ),
                Delivery(
                    {"provider_params": {"strength": 0.7}},
                    {"image": PRESENT, "strength": "0.7", "model": "recraftv3"},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="runway",
            model="gen4_image",
            emulator=_runway,
            submit_kinds=("submit",),
            edit_model="gen4_image",
            cost_basis="price_table",  # credits by size (runwayml/skills API reference)
            no_form=frozenset({"moderated"}),  # Runway refuses content by a FAILED task only
            prompt_field="promptText",
            deliveries=(
                Delivery({"size": "1920x1080"}, {"ratio": "1920:1080", "model": "gen4_image"}),
                Delivery({"aspect_ratio": "16:9"}, {"ratio": "1920:1080"}),
                Delivery({}, {"ratio": "1024:1024"}),
                Delivery(
                    {"seed": 42, "provider_params": {"publicFigureThreshold": "low"}},
                    {"seed": 42, "contentModeration.publicFigureThreshold": "low"},
                ),
                Delivery(
                    {"n": 3, "quality": "low", "background": "opaque"},
                    {"outputCount": 3, "quality": "low", "background": "opaque", "ratio": "auto"},
                    model="gpt_image_2",
                ),
                Delivery(
                    {"output_format": "jpeg"},
                    {"outputFormat": "jpeg", "ratio": "2048:2048"},
                    model="seedream5_lite",
                ),
                Delivery(
                    {"provider_params": {"reference_tags": ["cat"]}},
                    {"referenceImages.0.tag": "cat", "referenceImages.0.uri": PRESENT},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="fireworks",
            model="flux-1-schnell-fp8",
            emulator=_fireworks,
            submit_kinds=("generate", "submit"),
            edit_model="flux-kontext-pro",
            cost_basis="price_table",  # per step ([3P] lumenfall, fireworks.ai/pricing)
            # An HTTP-error moderation is not documented (402 is: FW-DOCS inference error codes).
            no_form=frozenset({"moderated"}),
            deliveries=(
                Delivery(
                    {"aspect_ratio": "21:9", "seed": 42}, {"aspect_ratio": "21:9", "seed": 42}
                ),
                Delivery({"size": "1536x1024"}, {"aspect_ratio": "3:2"}),
                Delivery(
                    {"provider_params": {"guidance_scale": 2.5, "num_inference_steps": 6}},
                    {"guidance_scale": 2.5, "num_inference_steps": 6},
                ),
                Delivery(
                    {"aspect_ratio": "16:9", "provider_params": {"safety_tolerance": 4}},
                    {"aspect_ratio": "16:9", "safety_tolerance": 4},
                    model="flux-kontext-max",
                ),
                Delivery(
                    {"seed": 3, "provider_params": {"prompt_upsampling": True}},
                    {"input_image": PRESENT, "seed": 3, "prompt_upsampling": True},
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="dashscope",
            model="wan2.2-t2i-flash",
            emulator=_dashscope,
            submit_kinds=("submit",),
            edit_model="wan2.5-i2i-preview",
            cost_basis="unpriced",  # Wan 2.2 has no primary price source (wanx2.1 has)
            prompt_field="input.prompt",
            deliveries=(
                Delivery(
                    {"size": "1280x720", "n": 2, "seed": 9, "negative_prompt": "fog"},
                    {
                        "parameters.size": "1280*720",
                        "parameters.n": 2,
                        "parameters.seed": 9,
                        "input.negative_prompt": "fog",
                    },
                ),
                Delivery({"aspect_ratio": "16:9"}, {"parameters.size": "1360*768"}),
                Delivery(
                    {"provider_params": {"prompt_extend": False, "watermark": True}},
                    {"parameters.prompt_extend": False, "parameters.watermark": True},
                ),
                Delivery(
                    {"aspect_ratio": "16:9"},
                    {"model": "qwen-image", "parameters.size": "1664*928", "parameters.n": 1},
                    model="qwen-image",
                ),
                Delivery(
                    {"size": "768x2304"},
                    {"model": "wan2.5-t2i-preview", "parameters.size": "768*2304"},
                    model="wan2.5-t2i-preview",
                ),
                Delivery({"seed": 4}, {"input.images": PRESENT, "parameters.seed": 4}, edit=True),
                Delivery(
                    {"provider_params": {"function": "stylization_all"}},
                    {"input.function": "stylization_all", "input.base_image_url": PRESENT},
                    model="wanx2.1-imageedit",
                    edit=True,
                ),
            ),
        ),
        Contract(
            provider="luma",
            model="photon-flash-1",
            emulator=_luma,
            submit_kinds=("submit",),
            edit_model=None,  # Luma reads input images only from URLs (provider_params refs)
            cost_basis="price_table",  # per 10**6 pixels ([3P] Comfy-Org docs)
            deliveries=(
                Delivery({"size": "1536x864"}, {"aspect_ratio": "16:9"}),
                Delivery(
                    {"aspect_ratio": "9:21", "output_format": "png"},
                    {"aspect_ratio": "9:21", "format": "png", "model": "photon-1"},
                    model="photon-1",
                ),
                Delivery({"output_format": "jpeg"}, {"format": "jpg"}),
                Delivery(
                    {
                        "provider_params": {
                            "modify_image_ref": {"url": "https://example.com/a.png", "weight": 0.8}
                        }
                    },
                    {
                        "modify_image_ref.url": "https://example.com/a.png",
                        "modify_image_ref.weight": 0.8,
                    },
                ),
                Delivery(
                    {
                        "provider_params": {
                            "image_ref": [{"url": "https://example.com/b.jpg", "weight": 0.5}],
                            "character_ref": {
                                "identity0": {"images": ["https://example.com/c.jpg"]}
                            },
                        }
                    },
                    {
                        "image_ref.0.url": "https://example.com/b.jpg",
                        "character_ref.identity0.images.0": "https://example.com/c.jpg",
                    },
                ),
            ),
        ),
        Contract(
            provider="local",
            model="local-art",
            edit_model="local-art",
            emulator=None,
            cost_basis="price_table",
            offline="draws with Pillow in the gateway's own process: there is no upstream",
        ),
    )
}
