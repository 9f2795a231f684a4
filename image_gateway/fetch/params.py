"""Input images named inside a request (provider_params fields, edit `image_url`s): checked
cheaply at validation time, then loaded through the fetcher — concurrently, all or nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pybase64

from image_gateway.errors import InvalidRequest
from image_gateway.fetch.fetcher import ImageFetcher
from image_gateway.fetch.urls import Refused, is_url, parse_target
from image_gateway.schemas import InputImage


def check_image_value(value: Any, *, field: str, max_bytes: int, allow_raw_base64: bool) -> None:
    """Pure, cheap checks (type, URL syntax and scheme, encoded size) before anything is spent;
    addresses are checked when the URL is fetched."""
    if not isinstance(value, str) or not value:
        kinds = "an http(s) URL or base64 image data" if allow_raw_base64 else "an http(s) URL"
        raise InvalidRequest(f"{field} must be {kinds}", param=field)
    try:
        if value[:5].lower() == "data:" or not is_url(value):
            # Only the size here; decoding waits until the request is otherwise valid.
            if len(value) > (max_bytes + 2) // 3 * 4 + 1024 + 64:
                raise Refused(f"is larger than {max_bytes} bytes")
            if not allow_raw_base64 and value[:5].lower() != "data:":
                raise Refused("must be an http(s) URL or a data:image/...;base64 URL")
        else:
            parse_target(value)
    except Refused as exc:
        raise InvalidRequest(f"{field} {exc}", param=field, code="invalid_image") from None


async def load_all(
    fetcher: ImageFetcher, items: Iterable[tuple[str, str]], *, allow_raw_base64: bool
) -> list[InputImage]:
    """Check, then load (field, value) pairs concurrently; the first failure cancels the rest."""
    items = list(items)
    for field, value in items:
        check_image_value(
            value, field=field, max_bytes=fetcher.max_bytes, allow_raw_base64=allow_raw_base64
        )
    tasks = [
        asyncio.ensure_future(fetcher.load(value, field=field, allow_raw_base64=allow_raw_base64))
        for field, value in items
    ]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def resolve_image_params(
    params: dict[str, Any],
    fields: Iterable[str],
    fetcher: ImageFetcher | None,
    *,
    prefix: str = "",
) -> dict[str, Any]:
    """`params` with every image field (URL, data: URL or base64) replaced by the base64 of the
    checked image bytes, so the provider receives data, never a URL to fetch."""
    present = [name for name in fields if name in params]
    if not present:
        return params
    if fetcher is None:  # fail closed: never pass an unchecked image reference on
        raise RuntimeError("input images need the app's ImageFetcher")
    items = [(f"{prefix}{name}", params[name]) for name in present]
    images = await load_all(fetcher, items, allow_raw_base64=True)
    resolved = dict(params)
    for name, image in zip(present, images, strict=True):
        resolved[name] = pybase64.b64encode(image.data).decode("ascii")
    return resolved
