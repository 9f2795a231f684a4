"""`POST /v1/images/generations` and `POST /v1/images/edits` (OpenAI-compatible)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from image_gateway.api.answer import ACCEPTED_RESPONSE, ANSWER_HEADERS
from image_gateway.api.deps import AnswerDep, ClientDep, FetcherDep
from image_gateway.api.openapi import answered_errors, error_responses
from image_gateway.api.plain_route import PlainRoute
from image_gateway.errors import InvalidRequest
from image_gateway.fetch import ImageFetcher, check_image_value
from image_gateway.schemas import (
    MASK_REF_FIELD,
    GenerationBody,
    ImageRef,
    ImagesResponse,
    InputImage,
    form_value,
    given,
)
from image_gateway.validation import validate_object

# Its dependencies are called from one frame (`PlainRoute`): a synchronous generation keeps its
# route's frames alive for its whole wait.
router = APIRouter(prefix="/v1/images", tags=["images"], route_class=PlainRoute)

MAX_FORM_FILES = 17  # 16 images and a mask
MAX_FORM_FIELDS = 64
MAX_FIELD_BYTES = 1024 * 1024
FILE_FIELDS = ("image", "image[]", "mask")
IMAGE_REF_FIELDS = ("image_url", "file_id")  # of an image reference in a JSON edit

# A generation or an edit can meet every error the gateway has (validation, keys, limits,
# budgets, providers), and may be answered as a job.
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The images (JSON); with `stream: true`, OpenAI's image events as they "
        "come (README, Streaming)",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    202: ACCEPTED_RESPONSE,
    **error_responses(*answered_errors()),
}

# What Swagger UI's "Try it out" sends (the first one by default) and ReDoc shows. Each is sent
# to a running gateway by tests/test_openapi.py: the offline ones answer 200 with no provider
# key configured (development mode), the others 200 with their provider configured.
GENERATION_EXAMPLES: dict[str, dict[str, Any]] = {
    "offline": {
        "summary": "Offline: the built-in local renderer (no provider key needed)",
        "value": {"model": "local/local-art", "prompt": "a lighthouse at dusk", "size": "512x512"},
    },
    "fallbacks": {
        "summary": "OpenAI's body; falls back to local when OpenAI fails or has no key",
        "value": {
            "model": "gpt-image-1",
            "prompt": "a red fox in the snow",
            "size": "1024x1024",
            "n": 1,
            "fallbacks": ["local"],
        },
    },
    "flux": {
        "summary": "FLUX with a provider-specific field (needs BFL_API_KEY)",
        "value": {
            "model": "bfl-flux/flux-pro-1.1",
            "prompt": "a lighthouse at dusk, oil painting",
            "aspect_ratio": "16:9",
            "seed": 42,
            "user_id": "user-123",
            "provider_params": {"prompt_upsampling": False},
        },
    },
}

# A 64x64 PNG as a data: URL: an edit that needs no file upload and no network.
EXAMPLE_IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAIAAAAlC+aJAAAAUUlEQVR42u3PMQ0AMAgA"
    "MJgaNKEOqVPBQdI6aFZPXPbiOAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAYF9"
    "H+niAaLk9zXDAAAAAElFTkSuQmCC"
)
EDIT_EXAMPLES: dict[str, dict[str, Any]] = {
    "offline": {
        "summary": "Offline: local blends its drawing into the input image",
        "value": {
            "model": "local/local-art",
            "prompt": "make it night",
            "images": [{"image_url": EXAMPLE_IMAGE}],
        },
    },
}


def _validate(raw: Any) -> GenerationBody:
    return validate_object(GenerationBody, raw)


@router.post(
    "/generations",
    response_model=ImagesResponse,
    responses=RESPONSES,
    openapi_extra={
        "parameters": ANSWER_HEADERS,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/GenerationBody"},
                    "examples": GENERATION_EXAMPLES,
                }
            },
        },
    },
)
async def create_image(request: Request, client: ClientDep, answer: AnswerDep) -> Response:
    """Generate images. Takes the unified body or the OpenAI Images body."""
    return await answer(request, _validate(await _json_body(request)), client=client)


@router.post(
    "/edits",
    response_model=ImagesResponse,
    responses=RESPONSES,
    openapi_extra={
        "parameters": ANSWER_HEADERS,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["images", "prompt"],
                        "properties": {
                            "images": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {"image_url": {"type": "string"}},
                                },
                            },
                            "mask": {
                                "type": "object",
                                "properties": {"image_url": {"type": "string"}},
                            },
                            "prompt": {"type": "string"},
                            "model": {"type": "string"},
                            "provider_params": {"type": "object"},
                        },
                    },
                    "examples": EDIT_EXAMPLES,
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["prompt"],
                        "description": "An empty value means not given, and so does the text "
                        '"null" in every field but prompt, negative_prompt, user, user_id and '
                        "safety_identifier (free text, where it is the text).",
                        "properties": {
                            "image": {"type": "string", "format": "binary"},
                            "image_url": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": "http(s) or data: URLs the gateway fetches "
                                "(public addresses only); repeatable",
                            },
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
                            "fallbacks": {
                                "type": "string",
                                "description": "models to try if the primary fails: a JSON "
                                "array or comma-separated ids",
                            },
                        },
                    }
                },
            },
        },
    },
)
async def edit_image(
    request: Request,
    client: ClientDep,
    answer: AnswerDep,
    fetcher: FetcherDep,
) -> Response:
    """Edit images. Multipart (OpenAI-compatible: `image` or repeated `image[]` files, `mask`,
    and `image_url` fields the gateway fetches; URL-encoded is fine when there are no files),
    or JSON with `images: [{"image_url": ...}]` and `mask: {"image_url": ...}` (http(s) or
    data: URLs)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        fields, images, mask, refs = await _read_form(request, fetcher)
    elif content_type.startswith("application/json"):
        fields, refs = _json_edit(await _json_body(request))
        images, mask = [], None
    else:
        raise InvalidRequest("edits take multipart/form-data or a JSON body")
    if not images and not any(field != MASK_REF_FIELD for field, _ in refs):
        raise InvalidRequest(
            "an image is required (field 'image', 'image[]' or 'image_url')", param="image"
        )
    if len(images) + len(refs) > MAX_FORM_FILES:
        raise InvalidRequest(f"at most {MAX_FORM_FILES - 1} images and a mask", param="image")
    body = _validate(fields)
    for field, url in refs:  # syntax and scheme; nothing is fetched before admission
        check_image_value(url, field=field, max_bytes=fetcher.max_bytes, allow_raw_base64=False)
    return await answer(
        request,
        body,
        client=client,
        images=images,
        mask=mask,
        # Fetched by the pre-flight once the key is admitted, after the uploaded files.
        refs=[ImageRef(field, url) for field, url in refs],
    )


async def _json_body(request: Request) -> Any:
    return _parse_json(await request.body())


def _parse_json(raw_body: bytes) -> Any:
    try:
        return orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not valid JSON (or is nested too deeply)") from None


async def _read_form(
    request: Request, fetcher: ImageFetcher
) -> tuple[dict[str, Any], list[InputImage], InputImage | None, list[tuple[str, str]]]:
    """Multipart edit: body fields, uploaded images and mask (checked), and `image_url`s."""
    async with request.form(
        max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES
    ) as form:
        images: list[InputImage] = []
        mask: InputImage | None = None
        fields: dict[str, Any] = {}
        refs: list[tuple[str, str]] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile) and not value.filename and not value.size:
                continue  # a browser's empty file input: not given
            if isinstance(value, UploadFile):
                field = name.removesuffix("[]")
                if name not in FILE_FIELDS or (name == "mask" and mask is not None):
                    raise InvalidRequest(f"unexpected file field {name!r}", param=name)
                data = await value.read()
                # Type and pixel checks as for fetched images; MAX_REQUEST_BYTES bounds the size.
                mime = await fetcher.check(data, field=field, max_bytes=len(data))
                upload = InputImage(data, mime, value.filename or field)
                if name == "mask":
                    mask = upload
                else:
                    images.append(upload)
            elif name in FILE_FIELDS:  # text where a file belongs; empty or "null": not given
                if form_value(name, value) is not None:
                    raise InvalidRequest(_not_a_file(name), param=name.removesuffix("[]"))
            elif name in ("image_url", "image_url[]"):
                if form_value(name, value) is not None:
                    refs.append(("image_url", value))
            elif name in fields:
                raise InvalidRequest(f"field {name!r} is given more than once", param=name)
            else:
                fields[name] = value
    return _form_to_body(fields), images, mask, refs


def _json_edit(raw: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """JSON edit (OpenAI's newer form): image references by URL; `file_id` is not offered."""
    if not isinstance(raw, dict):
        raise InvalidRequest("the body must be a JSON object")
    fields = dict(raw)
    refs: list[tuple[str, str]] = []
    items = fields.pop("images", None)
    if not isinstance(items, list) or not items:
        raise InvalidRequest(
            'images must be a non-empty list of {"image_url": "..."}', param="images"
        )
    if len(items) > MAX_FORM_FILES - 1:
        raise InvalidRequest(f"at most {MAX_FORM_FILES - 1} images", param="images")
    for index, item in enumerate(items):
        refs.append((f"images[{index}].image_url", _image_url(item, f"images[{index}]")))
    mask = fields.pop("mask", None)
    if isinstance(mask, dict) and not given(mask, IMAGE_REF_FIELDS):
        mask = None  # every field null: no mask, as `"mask": null`
    if mask is not None:
        refs.append((MASK_REF_FIELD, _image_url(mask, "mask")))
    return fields, refs


def _image_url(item: Any, field: str) -> str:
    """The URL of an image reference `{"image_url": ...}`; a null field is one not given."""
    if isinstance(item, dict):
        item = given(item, IMAGE_REF_FIELDS)
        if set(item) == {"image_url"} and isinstance(item["image_url"], str):
            return str(item["image_url"])
        if "file_id" in item:
            raise InvalidRequest(f"{field}.file_id is not supported; use image_url", param=field)
    raise InvalidRequest(f'{field} must be {{"image_url": "<http(s) or data: URL>"}}', param=field)


def _not_a_file(name: str) -> str:
    if name == "mask":
        return (
            "mask must be an uploaded image file (or, in a JSON edit, mask.image_url); "
            "leave it out, empty or null for no mask"
        )
    return f"{name} must be an uploaded image file; send image URLs as image_url"


BOOL_TEXT: dict[str, Any] = {"true": True, "false": False}
FORM_TYPED: dict[str, dict[str, Any]] = {
    "stream": BOOL_TEXT,
    "partial_images": {str(i): i for i in range(10)},
}


def _form_to_body(fields: dict[str, Any]) -> dict[str, Any]:
    """Form fields are strings (the body model reads `"false"`, `"0"`, `"100"` as JSON's values;
    `schemas.form_value` says which mean null): decode `provider_params`, and gather the SDK's
    `svg[model]`-style fields into `svg`."""
    raw: dict[str, Any] = {}
    for name, text in fields.items():
        value = form_value(name, text)
        if name.startswith("svg["):
            if value is not None:
                raw.setdefault("svg", {})[name] = value
        else:
            raw[name] = value
    # JSON types from the texts a form sends for them (`stream=true`, `partial_images=2`); any
    # other text stays a string, which the body's strict types refuse by name.
    for name, texts in FORM_TYPED.items():
        if isinstance(raw.get(name), str) and raw[name] in texts:
            raw[name] = texts[raw[name]]
    options = {k[15:-1]: raw.pop(k) for k in list(raw) if k.startswith("stream_options[")}
    if options:  # the SDK's extra_body={"stream_options": {...}} in a multipart request
        raw["stream_options"] = {k: BOOL_TEXT.get(v, v) for k, v in options.items()}
    params: dict[str, Any] = {}
    if raw.get("provider_params") is not None:
        try:
            params = orjson.loads(raw.pop("provider_params"))
        except orjson.JSONDecodeError:
            raise InvalidRequest(
                "provider_params must be a JSON object", param="provider_params"
            ) from None
        if not isinstance(params, dict):
            raise InvalidRequest("provider_params must be a JSON object", param="provider_params")
    raw["provider_params"] = params
    return raw
