"""`GET /v1/usage`: the usage ledger, aggregated. A key sees only its own rows (scope
`usage`); the admin key sees every key's and may filter by `key_id`."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from image_gateway.access.keys import KEY_ID_RE
from image_gateway.api.deps import ClientDep, UsageDep
from image_gateway.api.openapi import error_responses
from image_gateway.billing.usage_query import GROUPS, UsageQuery
from image_gateway.errors import InvalidRequest, PermissionDenied

router = APIRouter(prefix="/v1", tags=["usage"])

_PROVIDER_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")


@router.get("/usage", responses=error_responses(PermissionDenied))
async def get_usage(
    client: ClientDep,
    store: UsageDep,
    group_by: Annotated[
        str | None,
        Query(max_length=100, description="comma list of day, key, user_id, provider, model"),
    ] = None,
    start: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (UTC)")] = None,
    end: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD, inclusive")] = None,
    user_id: Annotated[str | None, Query(max_length=256)] = None,
    provider: Annotated[str | None, Query(max_length=64)] = None,
    model: Annotated[
        str | None, Query(max_length=200, description="model or provider/model")
    ] = None,
    key_id: Annotated[str | None, Query(max_length=32, description="admin: one key")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    """Requests, images and cost in USD, grouped as asked, with totals."""
    if not client.admin and "usage" not in client.policy.scopes:
        raise PermissionDenied("this key lacks the 'usage' scope", code="missing_scope")
    groups = _groups(group_by)
    first, last = _day(start, "start"), _day(end, "end")
    if first and last and first > last:
        raise InvalidRequest("start is after end", param="start")
    if provider is not None and not _PROVIDER_RE.match(provider):
        raise InvalidRequest("provider: not a provider name", param="provider")
    if model is not None:
        if not _MODEL_RE.match(model):
            raise InvalidRequest("model: not a model id", param="model")
        if "/" in model:
            prefix, model = model.split("/", 1)
            if provider is not None and provider != prefix:
                raise InvalidRequest("model: belongs to another provider", param="model")
            provider = prefix
    if key_id is not None and not KEY_ID_RE.match(key_id):
        raise InvalidRequest("key_id: not a key id", param="key_id")
    query = UsageQuery(
        group_by=groups,
        start=first,
        end=last,
        user_id=user_id,
        provider=provider,
        model=model,
        limit=limit,
        key_id=key_id,
    )
    if not client.admin:
        if key_id is not None and key_id != client.key_id:
            raise PermissionDenied("a key sees only its own usage", param="key_id")
        if client.key_id is not None:
            query = replace(query, key_id=client.key_id)
        else:
            query = replace(query, key_name=client.name, own_env_client=True)
    rows, totals, truncated = await store.aggregate(query)
    body = {
        "object": "usage",
        "scope": "all keys" if client.admin else "this key",
        "group_by": list(groups),
        "start": first,
        "end": last,
        "data": rows,
        "totals": totals,
        "truncated": truncated,
    }
    return Response(orjson.dumps(body), media_type="application/json")


def _groups(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    names = [part.strip() for part in value.split(",") if part.strip()]
    for name in names:
        if name not in GROUPS:
            raise InvalidRequest(
                f"group_by: unknown grouping; use {', '.join(GROUPS)}", param="group_by"
            )
    return tuple(dict.fromkeys(names))


def _day(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidRequest(f"{field}: must be a date, YYYY-MM-DD", param=field) from None
