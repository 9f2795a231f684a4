"""The one table of emulators: a command-line name and where its `Emulator` class lives.
Adding a provider's emulator is one line here (`python -m emulators <name>` then serves it)."""

from __future__ import annotations

import importlib

from .kit.emulator import Emulator

EMULATORS: dict[str, tuple[str, str]] = {
    # name: (module:class, what `python -m emulators --help` says)
    "openai": ("emulators.openai_images:OpenAIEmulator", "emulate the OpenAI Images API"),
    "bfl": ("emulators.bfl:BFLEmulator", "emulate the Black Forest Labs FLUX API"),
    "gemini": ("emulators.gemini:GeminiEmulator", "emulate the Gemini API's image models"),
    "xai": ("emulators.xai:XAIEmulator", "emulate xAI's Images API (Grok Imagine)"),
    "vertex": ("emulators.vertex:VertexEmulator", "emulate Google Vertex AI (Imagen, OAuth)"),
    "bedrock": ("emulators.bedrock:BedrockEmulator", "emulate Amazon Bedrock's InvokeModel"),
    "azure": ("emulators.azure:AzureEmulator", "emulate Azure OpenAI's image API"),
    "replicate": ("emulators.replicate:ReplicateEmulator", "emulate Replicate's predictions API"),
    "stability": (
        "emulators.stability:StabilityEmulator",
        "emulate Stability AI's Stable Image API",
    ),
    "fal": ("emulators.fal:FalEmulator", "emulate fal.ai's queue API"),
    "together": ("emulators.together:TogetherEmulator", "emulate Together AI's Images API"),
    "dashscope": (
        "emulators.dashscope:DashScopeEmulator",
        "emulate Alibaba Model Studio's DashScope image synthesis (Wan, Qwen-Image)",
    ),
    "seedream": (
        "emulators.seedream:SeedreamEmulator",
        "emulate BytePlus ModelArk's Images API (Seedream)",
    ),
    "ideogram": ("emulators.ideogram:IdeogramEmulator", "emulate Ideogram's API (3.0, 4.0)"),
    "recraft": ("emulators.recraft:RecraftEmulator", "emulate Recraft's image API"),
    "runway": ("emulators.runway:RunwayEmulator", "emulate Runway's image API (tasks)"),
    "fireworks": (
        "emulators.fireworks:FireworksEmulator",
        "emulate Fireworks AI's FLUX workflows (schnell, Kontext)",
    ),
    "luma": ("emulators.luma:LumaEmulator", "emulate Luma's Dream Machine API (Photon images)"),
}


def load(name: str) -> type[Emulator]:
    """The emulator class registered as `name` (KeyError when there is none)."""
    module_name, _, class_name = EMULATORS[name][0].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert isinstance(cls, type) and issubclass(cls, Emulator)
    return cls
