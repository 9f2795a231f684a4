"""`fireworks`: one provider whose models have two API shapes, as a small composition.

FLUX.1 [schnell] is one synchronous call (`schnell.SchnellPart`, on `kit/sync`); FLUX.1
Kontext is BFL's task protocol re-hosted (`kontext.KontextPart`, BFL's own adapter on
Fireworks' URLs, on `kit/polling`). Each part keeps its kit base class whole — the journal,
the acceptance rule, polling, downloads, error mapping — so neither machinery is written
twice, and BFL's translations serve both BFL and Fireworks. This class only routes: it lists
the models, and hands each request to the part of its model (`normalize`, `validate`,
`prepare`, `generate`). One class dispatching per model inside a base class would have to
re-implement one of the two kits' `generate`.
"""

from __future__ import annotations

from typing import Any

from image_gateway.fetch import ImageFetcher
from image_gateway.providers.fireworks import DEFINITION
from image_gateway.providers.fireworks.config import FireworksConfig
from image_gateway.providers.fireworks.kontext import KontextPart
from image_gateway.providers.fireworks.models import KONTEXT, MODELS, PARAM_SCHEMAS, SCHNELL
from image_gateway.providers.fireworks.schnell import SchnellPart
from image_gateway.providers.kit.base import Provider
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal
from image_gateway.schemas import ImageTask, ProviderResult
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient


class FireworksProvider(Provider[FireworksConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def __init__(
        self, settings: Settings, http: UpstreamClient, fetcher: ImageFetcher | None = None
    ) -> None:
        super().__init__(settings, http, fetcher)
        parts: dict[str, Provider[Any]] = {SCHNELL.id: SchnellPart(settings, http, fetcher)}
        for model_id in KONTEXT:
            parts[model_id] = KontextPart(settings, http, fetcher, model_id)
        self.parts = parts

    def part(self, spec: ModelSpec) -> Provider[Any]:
        """The part that serves `spec` (KeyError for a model not in the catalogue)."""
        return self.parts[spec.id]

    def normalize(self, task: ImageTask, spec: ModelSpec) -> None:
        self.part(spec).normalize(task, spec)

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        self.part(spec).validate(task, spec)

    async def prepare(self, task: ImageTask, spec: ModelSpec) -> None:
        await self.part(spec).prepare(task, spec)

    async def generate(
        self, task: ImageTask, spec: ModelSpec, journal: CallJournal = NO_JOURNAL
    ) -> ProviderResult:
        return await self.part(spec).generate(task, spec, journal)
