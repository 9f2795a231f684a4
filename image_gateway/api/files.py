"""`GET /v1/images/files/{image_id}` (and `HEAD`: the same headers, no body): stored images.
The unguessable id is the credential; with `IMAGE_URL_TTL_SECONDS` set, the link's signature and
expiry are checked too.

An image is served as what its bytes are (PNG, JPEG or WebP by their magic, whatever the id's
extension says), never sniffed by the browser (`X-Content-Type-Options: nosniff`) and under a
Content-Security-Policy that lets nothing run or load even if it were opened as a document.
Every provider output is checked before it is stored (`providers/common.check_images`); bytes
that are still no image we know (stored before that check existed, or put in the store by hand)
are sent as an `application/octet-stream` attachment, never as a page of our origin.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from image_gateway.api.deps import ImageUrlsDep
from image_gateway.api.openapi import error_responses
from image_gateway.errors import NotFound
from image_gateway.image_format import sniff_image_type

router = APIRouter(prefix="/v1/images/files", tags=["images"])

# An image needs none of it; `sandbox` also makes the document an opaque origin if a browser
# were ever talked into rendering it as one.
CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"


# HEAD answers as GET does, headers only (Content-Length included): Starlette adds HEAD to a
# plain route's GET, FastAPI does not. Two routes (one per method) so that each operation in
# /openapi.json has its own id; uvicorn sends no body for HEAD.
ROUTE: dict[str, Any] = {
    "response_class": Response,
    "responses": {
        200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}},
        **error_responses(NotFound),
    },
}


@router.get("/{image_id}", **ROUTE)
@router.head("/{image_id}", **ROUTE)
async def get_image(
    image_id: str,
    image_urls: ImageUrlsDep,
    expires: Annotated[str | None, Query(max_length=20)] = None,
    sig: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    if not image_urls.allows(image_id, expires, sig):
        raise NotFound("no such image, or the link has expired", param="image_id")
    stored = await image_urls.store.get(image_id)
    if stored is None:
        raise NotFound("no such image, or the link has expired", param="image_id")
    headers = {
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    }
    media_type = sniff_image_type(stored.data)
    if media_type is None:
        media_type = "application/octet-stream"
        headers["Content-Disposition"] = "attachment"
    return Response(stored.data, media_type=media_type, headers=headers)
