"""`local` settings: only `LOCAL_DEFAULT_MODEL`; it needs no key and calls nobody."""

from __future__ import annotations

from image_gateway.providers.kit.config import KeylessConfig


class LocalConfig(KeylessConfig):
    default_model: str = "local-art"
