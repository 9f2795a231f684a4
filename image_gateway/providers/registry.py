"""The providers, one line each. Adding one: a folder `providers/<name>/` whose `__init__.py`
exports its `DEFINITION` (CONTRIBUTING.md, "Adding a provider"), and its line here.

Plain data: importing this loads no adapter (`ProviderDefinition.adapter_class` does).
"""

from __future__ import annotations

from image_gateway.providers import bfl, local, openai
from image_gateway.providers.kit.definition import ProviderDefinition

DEFINITIONS: dict[str, ProviderDefinition] = {
    definition.name: definition
    for definition in (
        openai.DEFINITION,
        bfl.DEFINITION,
        local.DEFINITION,
    )
}

# Other names a request or a key's allow-list may use for a provider.
ALIASES: dict[str, str] = {
    alias: definition.name for definition in DEFINITIONS.values() for alias in definition.aliases
}


def canonical(name: str) -> str:
    """The provider's own name for `name` (an alias or the name itself)."""
    return ALIASES.get(name, name)
