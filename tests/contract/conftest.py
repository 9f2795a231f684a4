"""Fixtures of the contract suite: one gateway (and the provider's emulator) per provider per
module (`running`, keyed by the module-scoped `provider` parameter), reset before each test
(`served`; `upstream` for tests that need the emulator)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.harness import Served, contract_of, known_bug, serve_provider


@pytest.fixture(scope="module")
def running(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    contract = contract_of(provider)
    with serve_provider(contract, tmp_path_factory.mktemp(f"contract-{provider}")) as served:
        yield served


@pytest.fixture
def served(running: Served, request: pytest.FixtureRequest) -> Served:
    """The module's gateway and emulator (counters, records, faults cleared), for one test."""
    known_bug(request, running.contract.provider)
    if running.emulator is not None:
        running.emulator.reset()
    return running


@pytest.fixture
def upstream(served: Served) -> Served:
    """`served`, for a test that drives the provider's emulator."""
    assert served.emulator is not None, f"{served.contract.provider} has no emulator"
    return served
