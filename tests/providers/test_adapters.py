"""`providers/adapters.py`: an adapter is made when a request reaches its provider, and the
start-up log's list of configured providers is what the adapters themselves say."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from image_gateway.providers.adapters import Adapters, _untouched
from image_gateway.providers.registry import DEFINITIONS
from image_gateway.settings import Settings
from tests.conftest import RunningGateway


def adapters(**values: Any) -> Adapters:
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    return Adapters(settings, None)  # type: ignore[arg-type]


def test_a_provider_given_no_setting_is_configured_only_when_it_needs_no_key() -> None:
    every = adapters()
    untouched = [n for n, d in DEFINITIONS.items() if _untouched(every.settings, d)]
    assert "local" in untouched and "openai" in untouched  # unless this process's env sets it
    for name in untouched:
        needs_key = "api_key" in DEFINITIONS[name].config.model_fields
        assert every[name].configured is not needs_key, name


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"openai_api_key": "sk-test-0123456789", "bfl_flux_api_key": "bfl_0123456789"},
        {"vertex_ai_project": "p", "azure_base_url": "https://r.openai.azure.com"},
        {"bedrock_region": "us-east-1", "openai_base_url": "https://proxy.example/v1"},
    ],
)
def test_start_log_lists_what_the_adapters_say(values: dict[str, Any]) -> None:
    lazy, every = adapters(**values), adapters(**values)
    assert lazy.configured_at_start() == [n for n, p in every.items() if p.configured]
    assert sorted(every.made()) == sorted(DEFINITIONS)
    given = {n for n, d in DEFINITIONS.items() if not _untouched(lazy.settings, d)}
    assert set(lazy.made()) <= given


def made(gw: RunningGateway) -> list[str]:
    providers: Adapters = gw.server.server.config.app.state.dispatcher.providers
    return providers.made()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"model": "local/local-art"}, ["local"]),
        ({"provider": "local"}, ["local"]),
        ({}, ["local"]),  # the default provider
        # A bare id: registry order up to its first configured owner.
        ({"model": "local-art"}, ["openai", "bfl-flux", "local"]),
    ],
)
def test_a_request_makes_only_the_adapters_it_reaches(
    start_gateway: Callable[..., RunningGateway], body: dict[str, Any], expected: list[str]
) -> None:
    gw = start_gateway()
    # Made at start: the providers with a setting given (the test settings' BFL poll timing).
    assert made(gw) == ["bfl-flux"]
    with gw.client() as http:
        answer = http.post("/v1/images/generations", json={"prompt": "x", "size": "64x64", **body})
    assert answer.status_code == 200, answer.text
    assert answer.json()["provider"] == "local"
    assert made(gw) == ["bfl-flux", *(n for n in expected if n != "bfl-flux")]
    with gw.client() as http:
        assert http.get("/v1/models").status_code == 200
    assert sorted(made(gw)) == sorted(DEFINITIONS)  # the catalogue lists every provider


def test_readiness_lists_every_provider_and_makes_no_adapter(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    """An early probe (`/readyz`, polled from a process's first second) costs no adapter import;
    it says of each provider what its adapter would (`configured`)."""
    gw = start_gateway(openai_api_key="sk-test-0123456789")
    before = made(gw)
    with gw.client() as http:
        ready = http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert made(gw) == before
    every = Adapters(gw.settings, None)  # type: ignore[arg-type]
    providers = ready.json()["providers"]
    assert list(providers) == list(DEFINITIONS)
    assert providers["openai"] is True and providers["local"] is True
    assert providers == {name: p.configured for name, p in every.items()}
