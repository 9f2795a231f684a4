"""The explicit list of providers. Adding one = one adapter module + one line here."""

from __future__ import annotations

from image_gateway.providers.base import Provider
from image_gateway.providers.bfl import BFLProvider
from image_gateway.providers.local import LocalProvider
from image_gateway.providers.openai import OpenAIProvider

PROVIDER_CLASSES: dict[str, type[Provider]] = {
    cls.name: cls for cls in (OpenAIProvider, BFLProvider, LocalProvider)
}
