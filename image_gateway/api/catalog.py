"""`GET /v1/models` (OpenAI list format) and `GET /v1/providers` (everything, with capabilities)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..schemas import ModelCard, ModelList
from .deps import ClientDep, DispatcherDep

router = APIRouter(prefix="/v1", tags=["catalog"])


@router.get("/models", response_model=ModelList)
async def list_models(client: ClientDep, dispatcher: DispatcherDep) -> ModelList:
    """Models of the configured providers, as `provider/model` ids, and the operator's named
    routes (ROUTES_FILE), usable as a model too. `model` also takes a bare model id and a
    provider name, meaning that provider's default model (`default_model` in
    `GET /v1/providers`); neither is listed again here."""
    cards = [
        ModelCard(id=f"{provider.name}/{model_id}", owned_by=provider.name)
        for provider in dispatcher.providers.values()
        if provider.configured
        for model_id in provider.catalogue()
    ]
    cards += [ModelCard(id=name, owned_by="route") for name in dispatcher.routes]
    return ModelList(data=cards)


@router.get("/providers")
async def list_providers(client: ClientDep, dispatcher: DispatcherDep) -> dict[str, Any]:
    """Every provider, configured or not, its models and what each accepts."""
    return {
        "object": "list",
        "data": [
            {
                "id": provider.name,
                "label": provider.label,
                "configured": provider.configured,
                "default_model": provider.default_model,
                "models": [spec.card() for spec in provider.catalogue().values()],
            }
            for provider in dispatcher.providers.values()
        ],
    }
