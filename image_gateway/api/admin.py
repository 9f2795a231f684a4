"""`/v1/admin/keys`: create, list, read and revoke gateway keys (the admin key only).

Only the admin key mints keys, so no client key can create one wider than itself. The key's
text is in the creation response and nowhere else, ever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from image_gateway.access.keys import KEY_ID_RE, NewKey, check_catalogue, parse_new_key
from image_gateway.access.stored_keys import StoredKey
from image_gateway.api.deps import AdminDep, AuthenticatorDep, DispatcherDep, KeysDep
from image_gateway.api.openapi import error_responses
from image_gateway.errors import InvalidRequest, NotFound

if TYPE_CHECKING:
    from image_gateway.access.key_store import KeyStore

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _json(payload: dict[str, Any], status_code: int = 200) -> Response:
    return Response(
        orjson.dumps(payload),
        status_code=status_code,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def _existing(keys: KeyStore, key_id: str) -> StoredKey:
    # An id that cannot exist is refused without a query.
    stored = await keys.get(key_id) if KEY_ID_RE.match(key_id) else None
    if stored is None:
        raise NotFound("no such key", param="key_id", code="key_not_found")
    return stored


@router.post(
    "/keys",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": NewKey.model_json_schema(),
                    "examples": {
                        "limited": {
                            "summary": "A key for one app: local and OpenAI, 60 requests/min",
                            "value": {
                                "name": "mobile-app",
                                "scopes": ["generate", "edit"],
                                "allowed_providers": ["local", "openai"],
                                "requests_per_minute": 60,
                                "max_concurrent": 4,
                                "monthly_budget_usd": 25,
                            },
                        }
                    },
                }
            },
        }
    },
)
async def create_key(
    request: Request, admin: AdminDep, keys: KeysDep, dispatcher: DispatcherDep
) -> Response:
    """Create a key. The response's `key` is shown this once: store it now."""
    try:
        raw = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not valid JSON") from None
    new = check_catalogue(parse_new_key(raw), dispatcher.providers)
    stored, text = await keys.create(new)
    return _json({**stored.public(), "key": text}, status_code=201)


@router.get("/keys")
async def list_keys(admin: AdminDep, keys: KeysDep) -> Response:
    """Every key, revoked ones included (never the key text or its hash)."""
    listed = await keys.list_keys()
    return _json({"object": "list", "data": [k.public() for k in listed]})


@router.get("/keys/{key_id}", responses=error_responses(NotFound))
async def get_key(key_id: str, admin: AdminDep, keys: KeysDep) -> Response:
    return _json((await _existing(keys, key_id)).public())


@router.post("/keys/{key_id}/revoke", responses=error_responses(NotFound))
async def revoke_key(
    key_id: str, admin: AdminDep, keys: KeysDep, authenticator: AuthenticatorDep
) -> Response:
    """Revoke a key: refused at once on this instance, within KEY_CACHE_SECONDS elsewhere."""
    await _existing(keys, key_id)
    revoked = await keys.revoke(key_id)
    authenticator.forget()
    if revoked is None:
        raise NotFound("no such key", param="key_id", code="key_not_found")
    return _json(revoked.public())
