"""A generation's result (`Generation`) and its one rendering as the OpenAI-shaped response body.

Both ways a client gets images use `Renderer`: a synchronous answer renders the images it holds
(`render`); a job keeps them in the image store when it finishes (`keep`) and renders what it
kept whenever it is read (`render_kept`: `GET /v1/jobs/{id}`, its events, its webhook, an
idempotent replay). The body is the same either way:

    {"id": "img_...", "created": <unix s>, "provider", "model", "attempts",
     ["fallback_from"], ["route"], "output_format", <the provider's echoed fields>,
     ["usage"], ["cost"],
     "data": [{"b64_json" | "url", ["revised_prompt"], ["seed"], ["size"]}, ...]}

`id`, `created` and the rest but `data` are the result's shell (`Generation.shell()`); a job
keeps its shell, so every read of a job shows the same `id`. `usage` is only ever OpenAI's token
object (`schemas.token_usage`; a kept shell from before that rule loses any other). `data[i]`
is `b64_json` (the base64 of the image's bytes: the provider's own where the adapter kept it,
else, from `render`, a `schemas.LazyB64` that a synchronous answer encodes as it sends it,
`api/answer.py`, and a stream makes a str; read back from the store for a job; 404
`image_expired` once IMAGE_RETENTION_HOURS removed them) or `url` (a link to the stored bytes,
`blobs.ImageUrls`), as `response_format` asks, else the primary model's default.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pybase64

from image_gateway.blobs import ImageUrls
from image_gateway.errors import NotFound
from image_gateway.ids import unique_id
from image_gateway.schemas import FORMAT_BY_MIME, Base64, GeneratedImage, token_usage

IMAGE_FIELDS = ("revised_prompt", "seed", "size")  # after b64_json or url, in this order


@dataclass(slots=True)
class Generation:
    """What a request produced, before it is rendered."""

    provider: str
    model: str
    attempts: int
    fallback_from: str | None
    route: str | None
    images: list[GeneratedImage]
    usage: dict[str, Any] | None  # OpenAI's token object, or None
    extra: dict[str, Any]
    default_response_format: str
    cost: dict[str, Any] | None = None  # `schemas.Cost`: what the images cost, as recorded
    created: int = field(default_factory=lambda: int(time.time()))

    def shell(self) -> dict[str, Any]:
        """The response without `data`: who served it, how, and the provider's echoes."""
        response: dict[str, Any] = {
            "id": unique_id("img_"),
            "created": self.created,
            "provider": self.provider,
            "model": self.model,
            "attempts": self.attempts,
        }
        if self.fallback_from is not None:
            response["fallback_from"] = self.fallback_from
        if self.route is not None:
            response["route"] = self.route
        response["output_format"] = FORMAT_BY_MIME.get(self.images[0].content_type)
        response.update(self.extra)
        if self.usage:
            response["usage"] = self.usage
        if self.cost is not None:
            response["cost"] = self.cost
        return response


@dataclass(frozen=True, slots=True)
class _Image:
    """One image to render: its bytes (in hand) or its id in the image store (kept)."""

    image_id: str | None
    image: GeneratedImage | None
    extras: tuple[tuple[str, Any], ...]  # IMAGE_FIELDS that have a value


class Renderer:
    """The one renderer of a generation result (see the module docstring)."""

    def __init__(self, image_urls: ImageUrls) -> None:
        self.image_urls = image_urls

    async def render(
        self, generation: Generation, response_format: str | None, public_base_url: str
    ) -> dict[str, Any]:
        """A synchronous answer: `generation`'s images in `response_format` (None: the primary
        model's default); a `url` stores its image first."""
        images = (
            _Image(None, image, _extras(image.revised_prompt, image.seed, image.size))
            for image in generation.images
        )
        return await self._body(
            generation.shell(),
            images,
            response_format or generation.default_response_format,
            public_base_url,
        )

    async def keep(self, generation: Generation, response_format: str | None) -> dict[str, Any]:
        """What a job keeps of a finished generation (JSON, in its row): its images written to
        the image store (kept under IMAGE_RETENTION_HOURS), the shell, the format to render."""
        store = self.image_urls.store
        kept = []
        for image in generation.images:
            kept.append(
                {
                    "image_id": await store.put(image.data, image.content_type),
                    "seed": image.seed,
                    "revised_prompt": image.revised_prompt,
                    "size": image.size,
                }
            )
        return {
            "shell": generation.shell(),
            "images": kept,
            "response_format": response_format or generation.default_response_format,
        }

    async def render_kept(
        self, kept: dict[str, Any], response_format: str | None, public_base_url: str
    ) -> dict[str, Any]:
        """A job's kept result (`keep`) in `response_format` (None: the one kept with it).
        NotFound (404 `image_expired`) when a `b64_json` image is no longer stored."""
        shell = dict(kept["shell"])
        if token_usage(shell.get("usage")) is None:
            # Kept before `usage` was only ever OpenAI's token object (BFL credits went there):
            # the same answer a synchronous request gets now.
            shell.pop("usage", None)
        images = (
            _Image(item["image_id"], None, _extras(*(item.get(n) for n in IMAGE_FIELDS)))
            for item in kept["images"]
        )
        return await self._body(
            shell, images, response_format or kept["response_format"], public_base_url
        )

    async def _body(
        self,
        shell: dict[str, Any],
        images: Iterable[_Image],
        response_format: str,
        public_base_url: str,
    ) -> dict[str, Any]:
        data = []
        for image in images:
            item: dict[str, Any] = {}
            if response_format == "url":
                item["url"] = await self._url(image, public_base_url)
            else:
                item["b64_json"] = await self._b64(image)
            item.update(image.extras)
            data.append(item)
        shell["data"] = data
        return shell

    async def _url(self, image: _Image, public_base_url: str) -> str:
        image_id = image.image_id
        if image_id is None:
            assert image.image is not None
            image_id = await self.image_urls.store.put(image.image.data, image.image.content_type)
        return await self.image_urls.url_for(image_id, public_base_url)

    async def _b64(self, image: _Image) -> Base64:
        if image.image is not None:
            made = image.image
            return made.to_send()  # the provider's base64, or the bytes encoded as they are sent
        assert image.image_id is not None
        stored = await self.image_urls.store.get(image.image_id)
        if stored is None:
            raise NotFound(
                "this job's images are no longer stored (retention)", code="image_expired"
            )
        return pybase64.b64encode(stored.data).decode("ascii")


def _extras(revised_prompt: Any, seed: Any, size: Any) -> tuple[tuple[str, Any], ...]:
    values = zip(IMAGE_FIELDS, (revised_prompt, seed, size), strict=True)
    return tuple((name, value) for name, value in values if value is not None)
