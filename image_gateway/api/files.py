"""`GET /v1/images/files/{image_id}`: stored images. The unguessable id is the credential."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..errors import NotFound

router = APIRouter(prefix="/v1/images/files", tags=["images"])


@router.get(
    "/{image_id}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
)
async def get_image(image_id: str, request: Request) -> Response:
    stored = await request.app.state.store.get(image_id)
    if stored is None:
        raise NotFound("no such image", param="image_id")
    return Response(
        stored.data,
        media_type=stored.content_type,
        headers={
            "Cache-Control": "private, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
