"""The answers to an accepted job: the JSON body (`b64_json` or `url` items, GPT image models'
`background/output_format/quality/size/usage`, DALL·E 3's `revised_prompt`) or, with
`stream: true`, the SSE events (`*.partial_image`, `*.completed`, then `data: [DONE]`).

A fault's `image` replaces every image's bytes; its `as_url` switch answers every image as a
`url` on this emulator's `/_files/` (as OpenAI-compatible servers that ignore
`response_format` do).
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from ..kit.faults import Fault
from .files import FileStore
from .images import ImageCache, Rendered, usage
from .params import Job


class Answers:
    def __init__(self, files: FileStore, clock: Callable[[], float] = time.time) -> None:
        self.files = files
        self.images = ImageCache()
        self.clock = clock

    async def body(self, job: Job, base: str, fault: Fault | None = None) -> dict[str, Any]:
        """The JSON answer; `base` is scheme://host:port for result URLs."""
        body: dict[str, Any] = {"created": int(self.clock())}
        as_url = fault is not None and fault.switch("as_url")
        fake = fault.fake_image if fault is not None else None
        if job.spec.gpt:
            image = await self.images.get(
                job.width, job.height, job.output_format, job.transparent, job.compression
            )
            if fake is not None:
                image = Rendered(fake, base64.b64encode(fake).decode("ascii"))
            body["data"] = [
                {"url": base + self.files.put(image.data)} if as_url else {"b64_json": image.b64}
                for _ in range(job.n)
            ]
            body.update(gpt_fields(job))
            body["usage"] = usage(job.prompt, job.quality, job.width, job.height, job.n, job.inputs)
            return body
        image = await self.images.get(job.width, job.height)
        if fake is not None:
            image = Rendered(fake, base64.b64encode(fake).decode("ascii"))
        items: list[dict[str, Any]] = []
        for _ in range(job.n):
            item = (
                {"url": base + self.files.put(image.data)}
                if job.response_format == "url" or as_url
                else {"b64_json": image.b64}
            )
            if job.spec.family == "dall-e-3":
                item["revised_prompt"] = f"A detailed, high-quality illustration of: {job.prompt}"
            items.append(item)
        body["data"] = items
        return body

    async def events(self, job: Job) -> AsyncIterator[bytes]:
        prefix = "image_generation" if job.kind == "generate" else "image_edit"
        fields = gpt_fields(job)
        final = await self.images.get(
            job.width, job.height, job.output_format, job.transparent, job.compression
        )
        for _ in range(job.n):
            for index in range(job.partial_images):
                partial = await self.images.get(
                    job.width,
                    job.height,
                    job.output_format,
                    job.transparent,
                    job.compression,
                    variant=1,
                )
                yield sse(
                    f"{prefix}.partial_image",
                    {
                        "partial_image_index": index,
                        "b64_json": partial.b64,
                        "created_at": int(self.clock()),
                        **fields,
                    },
                )
            job_usage = usage(
                job.prompt, job.quality, job.width, job.height, 1, job.inputs, job.partial_images
            )
            yield sse(
                f"{prefix}.completed",
                {
                    "b64_json": final.b64,
                    "created_at": int(self.clock()),
                    **fields,
                    "usage": job_usage,
                },
            )
        yield b"data: [DONE]\n\n"


def gpt_fields(job: Job) -> dict[str, Any]:
    return {
        "background": "transparent" if job.transparent else "opaque",
        "output_format": job.output_format,
        "quality": job.quality,
        "size": job.size,
    }


def sse(event: str, payload: dict[str, Any]) -> bytes:
    return (
        b"event: "
        + event.encode()
        + b"\ndata: "
        + orjson.dumps({"type": event, **payload})
        + b"\n\n"
    )
