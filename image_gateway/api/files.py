"""`GET /v1/images/files/{image_id}`: stored images. The unguessable id is the credential;
with `IMAGE_URL_TTL_SECONDS` set, the link's signature and expiry are checked too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..errors import NotFound
from .openapi import error_responses

router = APIRouter(prefix="/v1/images/files", tags=["images"])


@router.get(
    "/{image_id}",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}},
        **error_responses(NotFound),
    },
)
async def get_image(
    image_id: str,
    request: Request,
    expires: Annotated[str | None, Query(max_length=20)] = None,
    sig: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    if not request.app.state.image_urls.allows(image_id, expires, sig):
        raise NotFound("no such image, or the link has expired", param="image_id")
    stored = await request.app.state.store.get(image_id)
    if stored is None:
        raise NotFound("no such image, or the link has expired", param="image_id")
    return Response(
        stored.data,
        media_type=stored.content_type,
        headers={
            "Cache-Control": "private, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
