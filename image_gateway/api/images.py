"""`POST /v1/images/generations` and `POST /v1/images/edits` (OpenAI-compatible)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from ..errors import InvalidRequest
from ..providers.common import sniff_image_type
from ..schemas import GenerationBody, ImagesResponse, InputImage
from .deps import BaseUrlDep, ClientDep, DispatcherDep
from .validation import invalid_request_from

router = APIRouter(prefix="/v1/images", tags=["images"])

MAX_FORM_FILES = 17  # 16 images and a mask
MAX_FORM_FIELDS = 64
MAX_FIELD_BYTES = 1024 * 1024


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _respond(request: Request, payload: dict[str, Any]) -> Response:
    request.state.provider, request.state.model = payload["provider"], payload["model"]
    return Response(orjson.dumps(payload), media_type="application/json")


def _validate(raw: Any) -> GenerationBody:
    if not isinstance(raw, dict):
        raise InvalidRequest("the body must be a JSON object")
    try:
        return GenerationBody.model_validate(raw)
    except ValidationError as exc:
        raise invalid_request_from(exc) from None


@router.post(
    "/generations",
    response_model=ImagesResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/GenerationBody"}}
            },
        }
    },
)
async def create_image(
    request: Request, client: ClientDep, dispatcher: DispatcherDep, base_url: BaseUrlDep
) -> Response:
    """Generate images. Takes the unified body or the OpenAI Images body."""
    try:
        raw = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not valid JSON (or is nested too deeply)") from None
    body = _validate(raw)
    payload = await dispatcher.run(
        body, client=client, public_base_url=base_url, request_id=_request_id(request)
    )
    return _respond(request, payload)


@router.post(
    "/edits",
    response_model=ImagesResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["image", "prompt"],
                        "properties": {
                            "image": {"type": "string", "format": "binary"},
                            "image[]": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                            "mask": {"type": "string", "format": "binary"},
                            "prompt": {"type": "string"},
                            "model": {"type": "string"},
                            "provider": {"type": "string"},
                            "n": {"type": "integer"},
                            "size": {"type": "string"},
                            "response_format": {"type": "string"},
                            "provider_params": {"type": "string", "description": "a JSON object"},
                        },
                    }
                }
            },
        }
    },
)
async def edit_image(
    request: Request, client: ClientDep, dispatcher: DispatcherDep, base_url: BaseUrlDep
) -> Response:
    """Edit images (multipart, OpenAI-compatible: `image` or repeated `image[]`, `mask`)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidRequest("edits take multipart/form-data")
    async with request.form(
        max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES
    ) as form:
        images: list[InputImage] = []
        mask: InputImage | None = None
        fields: dict[str, Any] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                mime = sniff_image_type(data)
                if mime is None:
                    raise InvalidRequest(
                        f"{name} must be a PNG, JPEG or WebP image", param=name.rstrip("[]")
                    )
                upload = InputImage(data, mime, value.filename or name.rstrip("[]"))
                if name in ("image", "image[]"):
                    images.append(upload)
                elif name == "mask" and mask is None:
                    mask = upload
                else:
                    raise InvalidRequest(f"unexpected file field {name!r}", param=name)
            elif name in fields:
                raise InvalidRequest(f"field {name!r} is given more than once", param=name)
            else:
                fields[name] = value
    if not images:
        raise InvalidRequest("an image is required (field 'image' or 'image[]')", param="image")
    body = _validate(_form_to_body(fields))
    payload = await dispatcher.run(
        body,
        client=client,
        public_base_url=base_url,
        request_id=_request_id(request),
        images=images,
        mask=mask,
    )
    return _respond(request, payload)


def _form_to_body(fields: dict[str, Any]) -> dict[str, Any]:
    """Form fields are strings: decode `provider_params` and move OpenAI's `input_fidelity`."""
    raw: dict[str, Any] = dict(fields)
    params: dict[str, Any] = {}
    if "provider_params" in raw:
        try:
            params = orjson.loads(raw.pop("provider_params"))
        except orjson.JSONDecodeError:
            raise InvalidRequest(
                "provider_params must be a JSON object", param="provider_params"
            ) from None
        if not isinstance(params, dict):
            raise InvalidRequest("provider_params must be a JSON object", param="provider_params")
    if "input_fidelity" in raw:
        params["input_fidelity"] = raw.pop("input_fidelity")
    raw["provider_params"] = params
    return raw
