"""`GET /v1/models` (OpenAI list format) and `GET /v1/providers` (everything, with capabilities)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from image_gateway.api.deps import ClientDep, DispatcherDep
from image_gateway.api.openapi import error_responses
from image_gateway.errors import InvalidRequest, NotFound
from image_gateway.schemas import ModelCard, ModelList

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


@router.get(
    "/models/{model:path}",
    response_model=ModelCard,
    responses=error_responses(NotFound),
)
async def retrieve_model(model: str, client: ClientDep, dispatcher: DispatcherDep) -> ModelCard:
    """One model as `GET /v1/models` lists it (OpenAI's `GET /v1/models/{model}`, the SDK's
    `models.retrieve`). `model` is named as a request's `model` may be: `provider/model`, a bare
    model id, a provider name (its default model) or a route. 404 `model_not_found` otherwise,
    and for a model whose provider has no key (the list shows configured providers only)."""
    if model in dispatcher.routes:
        return ModelCard(id=model, owned_by="route")
    # The name is not echoed: it comes from the path, which can hold anything a client pasted
    # into it, a key included (unmatched paths are not echoed either).
    try:
        provider, spec = dispatcher.resolve(None, model)
    except (NotFound, InvalidRequest):
        raise _model_not_found("no such model") from None
    if not provider.configured:
        raise _model_not_found(f"{provider.name} is not configured")
    return ModelCard(id=f"{provider.name}/{spec.id}", owned_by=provider.name)


def _model_not_found(why: str) -> NotFound:
    return NotFound(
        f"{why}; GET /v1/models lists the models", param="model", code="model_not_found"
    )


@router.get("/providers")
async def list_providers(client: ClientDep, dispatcher: DispatcherDep) -> dict[str, Any]:
    """Every provider, configured or not, its models and what each accepts (`ModelSpec.card`:
    the common fields, and `provider_params` with `provider_params_schema`, a JSON Schema
    fragment per name, so the playground builds its form from it)."""
    return {
        "object": "list",
        "data": [
            {
                "id": provider.name,
                "label": provider.label,
                "configured": provider.configured,
                "default_model": provider.default_model,
                "models": [
                    spec.card(provider.param_schemas) for spec in provider.catalogue().values()
                ],
            }
            for provider in dispatcher.providers.values()
        ],
    }
