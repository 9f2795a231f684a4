"""The answers to an accepted job: the JSON body (`b64_json` or `url` items, GPT image models'
`background/output_format/quality/size/usage`, DALL·E 3's `revised_prompt`) or, with
`stream: true`, the SSE events (`*.partial_image`, `*.completed`, then `data: [DONE]`).

A stream (REFERENCE §1.7; shapes: the SDK's `image_gen_*_event.py`, `image_edit_*_event.py`)
sends, per image, `partial_images` partial events then one completed event whose `usage` is
that image's; each event waits `StreamPlan.interval` seconds first, so partials arrive over
time. A fault's `stream_fail_after` ends it after that many events, with an `error` event in
the shape the SDK raises on (`{"type": "error", "error": {message, type, param, code}}`), or
with the connection dropped (`CUT`) when the fault also sets `stream_reset`.

A fault's `image` replaces every image's bytes; its `as_url` switch answers every image as a
`url` on this emulator's `/_files/` (as OpenAI-compatible servers that ignore
`response_format` do).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson

from ..kit.faults import Fault
from ..kit.placeholder import Rendered
from . import errors as E
from .files import FileStore
from .images import ImageCache, usage
from .params import Job

CUT: Final = b""  # what `Answers.events` yields where the connection is to be dropped
STREAM_FAILURE = E.APIError(
    500,
    "The server had an error while processing your request. Sorry about that!",
    type="server_error",
)


@dataclass(frozen=True)
class StreamPlan:
    """How a stream is paced and whether it fails: `interval` seconds before each event;
    after `fail_after` events (None: never) an `error` event, or a dropped connection (`cut`)."""

    interval: float = 0.0
    fail_after: int | None = None
    cut: bool = False

    @classmethod
    def of(cls, interval: float, fault: Fault | None) -> StreamPlan:
        """The emulator's pacing, overridden by a fault's `stream_interval`,
        `stream_fail_after` and `stream_reset` (a reset alone fails after the first event)."""
        if fault is None:
            return cls(interval)
        paced = fault.number("stream_interval")
        fail_after = fault.number("stream_fail_after")
        cut = fault.switch("stream_reset")
        if cut and fail_after is None:
            fail_after = 1
        return cls(
            interval if paced is None else paced,
            None if fail_after is None else int(fail_after),
            cut,
        )


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

    async def events(
        self, job: Job, plan: StreamPlan = StreamPlan(), fault: Fault | None = None
    ) -> AsyncIterator[bytes]:
        """The SSE frames of a stream (module docstring), `CUT` where it is to be dropped.
        Per image: its partials (`partial_image_index` 0..) then its completed event."""
        order: list[int | None] = []
        for _ in range(job.n):
            order.extend([*range(job.partial_images), None])
        for sent in range(len(order) + 1):  # the events, then `[DONE]`
            if plan.fail_after is not None and sent >= plan.fail_after:
                yield CUT if plan.cut else sse("error", {"error": STREAM_FAILURE.body()["error"]})
                return
            if sent == len(order):
                yield b"data: [DONE]\n\n"
                return
            if plan.interval:
                await asyncio.sleep(plan.interval)
            yield await self._event(job, order[sent], fault)

    async def _event(self, job: Job, index: int | None, fault: Fault | None) -> bytes:
        """Partial image `index`, or (None) the completed event with that image's `usage`."""
        prefix = "image_generation" if job.kind == "generate" else "image_edit"
        image = await self.images.get(
            job.width,
            job.height,
            job.output_format,
            job.transparent,
            job.compression,
            variant=0 if index is None else 1,
        )
        fake = fault.fake_image if fault is not None else None
        b64 = image.b64 if fake is None else base64.b64encode(fake).decode("ascii")
        fields = {"b64_json": b64, "created_at": int(self.clock()), **gpt_fields(job)}
        if index is not None:
            return sse(f"{prefix}.partial_image", {"partial_image_index": index, **fields})
        image_usage = usage(
            job.prompt, job.quality, job.width, job.height, 1, job.inputs, job.partial_images
        )
        return sse(f"{prefix}.completed", {**fields, "usage": image_usage})


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
