"""The contract covers the registry: every registered provider has an entry in
`tests/contract/providers.py` (and every entry a registered provider), an entry without an
emulator belongs to a provider that calls nobody, and what an entry names exists."""

from __future__ import annotations

import pytest

from emulators.kit import SCENARIOS
from emulators.registry import EMULATORS
from image_gateway.providers.kit.base import adapter_class
from image_gateway.providers.registry import DEFINITIONS
from tests.contract import test_failures, test_secrets_and_cost, test_validation, test_wire
from tests.contract.harness import canary_key, contract_of, each_provider
from tests.contract.providers import CONTRACTS, COST_BASES

CONTRACT_TESTS = {
    name
    for module in (test_failures, test_secrets_and_cost, test_validation, test_wire)
    for name in vars(module)
    if name.startswith("test_")
}


def test_every_registered_provider_has_an_entry_and_no_entry_is_stale() -> None:
    missing = sorted(set(DEFINITIONS) - set(CONTRACTS))
    assert not missing, f"registered without a contract entry (tests/contract/README.md): {missing}"
    assert sorted(set(CONTRACTS) - set(DEFINITIONS)) == [], "entries of unregistered providers"


@pytest.mark.parametrize("provider", each_provider(upstream=False))
def test_the_entry_names_what_exists(provider: str) -> None:
    contract = contract_of(provider)
    definition = DEFINITIONS[provider]
    models = adapter_class(definition).models
    assert contract.model in models
    assert set(contract.model_params) <= set(models)
    assert {d.model for d in contract.deliveries if d.model} <= set(models)
    assert contract.cost_basis in COST_BASES
    if contract.edit_model is None:
        editing = sorted(m for m, spec in models.items() if spec.edits)
        assert not editing, f"{provider} edits with {editing}: name one as edit_model"
        edits = [dict(d.sent) for d in contract.deliveries if d.edit]
        assert not edits, f"{provider} has no edit_model but documents edit deliveries {edits}"
    else:
        assert models[contract.edit_model].edits
    assert contract.no_form <= set(SCENARIOS)
    assert set(contract.known_bugs) <= CONTRACT_TESTS, "a known bug names no contract test"
    config_fields = definition.config.model_fields
    if contract.emulator is None:
        # Only a provider that calls nobody runs without an emulator, and the entry says why.
        assert contract.offline, f"{provider}: no emulator and no reason"
        assert not {"api_key", "base_url"} & set(config_fields), (
            f"{provider} has a key or a base URL: it calls an upstream, so it needs an emulator"
        )
        return
    assert not contract.offline
    emulator = contract.emulator(canary_key(definition))
    assert type(emulator).NAME in EMULATORS, "the emulator is not in emulators/registry.py"
    kinds = emulator.stats()["requests"]
    assert contract.submit_kinds and set(contract.submit_kinds) <= set(kinds), kinds
    assert contract.deliveries, "an upstream provider documents at least one field delivery"
