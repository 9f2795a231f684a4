"""The registry refuses definitions that would take another provider's requests or settings
(`providers/registry.checked`), with definitions built here: the real list is left alone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from image_gateway.providers import bfl, openai
from image_gateway.providers.kit.config import KeylessConfig, ProviderConfig
from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.registry import DEFINITIONS, RegistryError, checked
from image_gateway.providers.registry import canonical as real_canonical

REAL = tuple(DEFINITIONS.values())  # every registered provider, in the registry's order


def provider(
    name: str, config: type[BaseModel] = ProviderConfig, **fields: Any
) -> ProviderDefinition:
    return ProviderDefinition(
        name=name,
        label=name,
        config=config,
        adapter=f"tests.nowhere:{name}",
        **fields,
    )


def refusal(*definitions: ProviderDefinition) -> str:
    with pytest.raises(RegistryError) as err:
        checked(definitions)
    return str(err.value)


def test_the_real_registry_passes_and_keeps_its_order() -> None:
    assert list(checked(REAL)) == list(DEFINITIONS)
    assert list(DEFINITIONS)[:3] == ["openai", "bfl-flux", "local"]  # new ones are appended
    assert real_canonical("flux") == "bfl-flux"


def test_a_name_registered_twice_is_refused() -> None:
    assert "'openai' is registered twice" in refusal(*REAL, provider("openai"))


def test_an_alias_that_is_another_providers_name_is_refused() -> None:
    message = refusal(*REAL, provider("acme", aliases=("openai",)))
    assert "alias 'openai' of provider 'acme' is the name of provider 'openai'" in message


def test_an_alias_of_two_providers_is_refused() -> None:
    message = refusal(*REAL, provider("acme", aliases=("flux",)))
    assert "alias 'flux' is claimed by providers 'bfl-flux' and 'acme'" in message


def test_a_provider_named_as_anothers_env_alias_is_refused() -> None:
    """`bfl` would read bfl-flux's BFL_API_KEY, BFL_BASE_URL, ... (bfl-flux's env_aliases),
    whether or not bfl-flux also keeps `bfl` as an alias (refused first, as above)."""
    assert "alias 'bfl' of provider 'bfl-flux'" in refusal(*REAL, provider("bfl"))
    flux = replace(bfl.DEFINITION, aliases=("flux",))
    message = refusal(openai.DEFINITION, flux, provider("bfl"))
    assert "'bfl-flux' and 'bfl' both read settings under BFL_*" in message


def test_an_env_alias_on_another_providers_prefix_is_refused() -> None:
    message = refusal(*REAL, provider("acme", env_aliases=("OPENAI",)))
    assert "'openai' and 'acme' both read settings under OPENAI_*" in message


def test_one_variable_split_two_ways_is_refused() -> None:
    """`openai` with a field `x_api_key` and a provider `openai-x`: both OPENAI_X_API_KEY."""

    class WithX(ProviderConfig):
        x_api_key: SecretStr | None = None

    message = refusal(provider("openai", WithX), provider("openai-x"))
    assert (
        "OPENAI_X_API_KEY would set both provider 'openai''s field 'x_api_key' and provider "
        "'openai-x''s field 'api_key'"
    ) in message


def test_a_key_variable_of_two_providers_is_refused() -> None:
    message = refusal(
        provider("fal", key_variables=("FAL_KEY",)),
        provider("fal-mirror", key_variables=("FAL_KEY",)),
    )
    assert "FAL_KEY would set both provider 'fal''s field 'api_key'" in message
    message = refusal(*REAL, provider("acme", key_variables=("OPENAI_API_KEY",)))
    assert "OPENAI_API_KEY would set both provider 'openai''s field 'api_key'" in message
    # An SDK's name for another field (`sdk_variables`) counts the same.
    message = refusal(
        *REAL, provider("acme", sdk_variables={"base_url": ("AZURE_OPENAI_ENDPOINT",)})
    )
    assert "AZURE_OPENAI_ENDPOINT would set both provider 'azure''s field 'base_url'" in message


def test_close_names_whose_variables_do_not_meet_are_accepted() -> None:
    """A prefix inside another is no collision by itself: `openai-x` reads OPENAI_X_*, which
    no field of today's `openai` is named."""
    registry = checked((*REAL, provider("openai-x"), provider("local-2", KeylessConfig)))
    assert list(registry)[-2:] == ["openai-x", "local-2"]
