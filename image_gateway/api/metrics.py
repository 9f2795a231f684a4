"""`GET /metrics`: the Prometheus text exposition of this app's registry.

Open by default (nothing secret is in it: no keys, prompts or client names); with
`METRICS_TOKEN` set, a scraper must send `Authorization: Bearer <token>`. `METRICS_ENABLED=false`
turns the route (and the request counters) off: it answers 404 like any unknown route.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response

from image_gateway.api.deps import MetricsDep, SettingsDep
from image_gateway.errors import AuthenticationFailed, NotFound
from image_gateway.observability.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep, registry: MetricsDep) -> Response:
    if not settings.metrics_enabled:
        raise NotFound("no route for GET /metrics")
    if settings.metrics_token is not None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        expected = settings.metrics_token.get_secret_value()
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            hashlib.sha256(presented.strip().encode()).digest(),
            hashlib.sha256(expected.encode()).digest(),
        ):
            raise AuthenticationFailed("GET /metrics needs 'Authorization: Bearer <METRICS_TOKEN>'")
    return Response(registry.render(), media_type=CONTENT_TYPE)
