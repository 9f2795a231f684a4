"""The explicit list of providers. Adding one = one adapter module + one line here."""

from __future__ import annotations

from .base import Provider
from .bfl import BFLProvider
from .local import LocalProvider
from .openai import OpenAIProvider

PROVIDER_CLASSES: dict[str, type[Provider]] = {
    cls.name: cls for cls in (OpenAIProvider, BFLProvider, LocalProvider)
}
