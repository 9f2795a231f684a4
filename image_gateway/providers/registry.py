"""The providers, one line each. Adding one: a folder `providers/<folder>/` (a package name:
`bfl-flux` is in `bfl/`) whose `__init__.py` exports its `DEFINITION` (CONTRIBUTING.md,
"Adding a provider"), and its line here.

Plain data: importing this loads no adapter (`adapters.Adapters` does, for a provider a request
first reaches).

The list is checked on import (`checked`): a provider must not take another's requests or
settings, which a plain dict and the flattened `Settings` would let happen silently. Refused,
with `RegistryError` naming both providers:

- a name registered twice (a dict keeps the last);
- an alias that is a provider's name (`canonical` would send that provider's requests to the
  alias's owner), or one alias of two providers;
- a settings prefix (the name's, `bfl-flux` -> `BFL_FLUX_*`, or an `env_aliases` one, `BFL_*`)
  of two providers: a provider named `bfl` would read bfl-flux's `BFL_API_KEY`;
- one settings field or variable read by two providers, however their prefixes and field
  names split it: `openai`'s field `x_api_key` and `openai-x`'s `api_key` are both
  `OPENAI_X_API_KEY` (`kit/config.flat_fields`: every name a field is read under, with the SDK
  key variables such as `FAL_KEY`).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import AliasChoices

from image_gateway.providers import (
    azure,
    bedrock,
    bfl,
    dashscope,
    fal,
    fireworks,
    gemini,
    ideogram,
    local,
    luma,
    openai,
    recraft,
    replicate,
    runway,
    seedream,
    stability,
    together,
    vertex,
    xai,
)
from image_gateway.providers.kit.config import flat_fields
from image_gateway.providers.kit.definition import ProviderDefinition


class RegistryError(ValueError):
    """Two provider definitions claim the same name, alias, settings prefix or variable."""


def checked(definitions: Iterable[ProviderDefinition]) -> dict[str, ProviderDefinition]:
    """The definitions by name; `RegistryError` when two of them collide (module docstring)."""
    by_name: dict[str, ProviderDefinition] = {}
    for definition in definitions:
        if definition.name in by_name:
            raise RegistryError(f"provider {definition.name!r} is registered twice")
        by_name[definition.name] = definition
    _check_aliases(by_name)
    _check_settings(by_name)
    return by_name


def _check_aliases(by_name: dict[str, ProviderDefinition]) -> None:
    owners: dict[str, str] = {}
    for definition in by_name.values():
        for alias in definition.aliases:
            if alias in by_name:
                raise RegistryError(
                    f"alias {alias!r} of provider {definition.name!r} is the name of provider "
                    f"{alias!r}: requests for {alias!r} would go to {definition.name!r}"
                )
            if alias in owners and owners[alias] != definition.name:
                raise RegistryError(
                    f"alias {alias!r} is claimed by providers {owners[alias]!r} and "
                    f"{definition.name!r}"
                )
            owners[alias] = definition.name


def _check_settings(by_name: dict[str, ProviderDefinition]) -> None:
    prefixes: dict[str, str] = {}
    variables: dict[str, tuple[str, str]] = {}  # variable -> (provider, its field)
    for definition in by_name.values():
        for prefix in dict.fromkeys(
            p.lower() for p in (definition.prefix, *definition.env_aliases)
        ):
            other = prefixes.setdefault(prefix, definition.name)
            if other != definition.name:
                raise RegistryError(
                    f"providers {other!r} and {definition.name!r} both read settings under "
                    f"{prefix.upper()}_* (a name or env_aliases prefix)"
                )
        for flat, (_, info) in flat_fields(definition).items():
            field = flat.removeprefix(f"{definition.prefix}_")
            alias = info.validation_alias
            names = alias.choices if isinstance(alias, AliasChoices) else ()
            for name in dict.fromkeys(str(n).lower() for n in (flat, *names)):
                other_provider, other_field = variables.setdefault(name, (definition.name, field))
                if other_provider != definition.name:
                    raise RegistryError(
                        f"{name.upper()} would set both provider {other_provider!r}'s field "
                        f"{other_field!r} and provider {definition.name!r}'s field {field!r}"
                    )


DEFINITIONS: dict[str, ProviderDefinition] = checked(
    (
        openai.DEFINITION,
        bfl.DEFINITION,
        local.DEFINITION,
        gemini.DEFINITION,
        xai.DEFINITION,
        vertex.DEFINITION,
        bedrock.DEFINITION,
        azure.DEFINITION,
        replicate.DEFINITION,
        stability.DEFINITION,
        fal.DEFINITION,
        together.DEFINITION,
        seedream.DEFINITION,
        ideogram.DEFINITION,
        recraft.DEFINITION,
        runway.DEFINITION,
        fireworks.DEFINITION,
        dashscope.DEFINITION,
        luma.DEFINITION,
    )
)

# Other names a request or a key's allow-list may use for a provider.
ALIASES: dict[str, str] = {
    alias: definition.name for definition in DEFINITIONS.values() for alias in definition.aliases
}


def canonical(name: str) -> str:
    """The provider's own name for `name` (an alias or the name itself)."""
    return ALIASES.get(name, name)
