"""`Adapters`: the providers of one app, each adapter imported and made when first looked up.

The registry (`registry.py`) names every provider's adapter by import path; this mapping is
the only place that turns a name into a `Provider`. Its keys are the registry's, in its order,
and cost nothing; `adapters["openai"]` imports `providers/openai/adapter.py` (with its
catalogue, translations and the kit's base classes) and builds the adapter once. A process
that serves only `local` never imports the other eighteen (issue 16: their modules were about
a quarter of `import main`), and a readiness probe makes none; only the providers with a
setting given are made with the mapping, so that a bad combination is still refused at start.
Iterating `values()` or `items()` builds each provider in turn, so a caller that can stop early
(`generation/candidates.py`) loads only the ones it reached.

Errors: `ConfigurationError` from an adapter made with the mapping (a bad combination of
its settings); `KeyError` for a name the registry does not hold (callers resolve aliases
first, `registry.canonical`); `TypeError` from `kit.base.adapter_class` for a definition whose
adapter path names no `Provider` of that definition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from image_gateway.fetch import ImageFetcher
from image_gateway.providers.kit.base import Provider, adapter_class
from image_gateway.providers.kit.config import view
from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.registry import DEFINITIONS
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient


class Adapters(Mapping[str, Provider]):
    """Provider name -> its adapter, made with `settings`, `http` and `fetcher` on first use."""

    def __init__(
        self,
        settings: Settings,
        http: UpstreamClient,
        fetcher: ImageFetcher | None = None,
        definitions: Mapping[str, ProviderDefinition] = DEFINITIONS,
    ) -> None:
        self.settings = settings
        self.http = http
        self.fetcher = fetcher
        self.definitions = definitions
        self._made: dict[str, Provider] = {}
        # The providers the operator gave a setting are made now: an adapter refuses a bad
        # combination when it is made (`ConfigurationError`: Azure's key and token both set),
        # and that stays a refusal at start. One with every setting at its default is valid.
        for name, definition in definitions.items():
            if not _untouched(settings, definition):
                self[name]

    def __getitem__(self, name: str) -> Provider:
        made = self._made.get(name)
        if made is None:
            cls = adapter_class(self.definitions[name])  # KeyError: not registered
            made = self._made[name] = cls(self.settings, self.http, self.fetcher)
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self.definitions)

    def __len__(self) -> int:
        return len(self.definitions)

    def made(self) -> list[str]:
        """The names whose adapter exists so far, in the order they were made."""
        return list(self._made)

    def configured_at_start(self) -> list[str]:
        """The providers that can serve requests (the start-up log, `/readyz`), in registry
        order, making no adapter: the ones with a setting given are made, and one whose settings are
        all at their defaults is configured exactly when it needs no key (no `api_key` field:
        `local`), which `tests/providers/test_adapters.py` checks for every provider."""
        names = []
        for name, definition in self.definitions.items():
            if _untouched(self.settings, definition):
                if "api_key" not in definition.config.model_fields:
                    names.append(name)
            elif self[name].configured:
                names.append(name)
        return names


def _untouched(settings: Settings, definition: ProviderDefinition) -> bool:
    given: dict[str, object] = view(settings, definition).__dict__
    return given == definition.config.model_construct().__dict__
