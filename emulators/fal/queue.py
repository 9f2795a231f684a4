"""Queued requests: their life on the clock, their status and result documents, and the files
their results point at.

A request is IN_QUEUE for `queue_seconds` (its `queue_position` counting down, one place per
quarter second left), IN_PROGRESS for `generation_seconds`, then COMPLETED. Its status, result
and cancel URLs name only the endpoint's owner and app (`/fal-ai/flux/requests/{id}` for
`fal-ai/flux/dev`), as fal's do (REFERENCE-MORE §3.2). Its result is kept `retention` seconds
after completion, `large_retention` when the document is 10 KB or more (fal: 1 hour, 6
minutes). A cancelled request ends COMPLETED with an error. Nothing runs in the background:
state is computed from the clock whenever it is read.

Markers: `[nsfw]` (every image flagged in `has_nsfw_concepts`, and black), `[nsfw-first]` (the
first only), `[policy]` (the result is fal's 422 `content_policy_violation`), `[fail]` (COMPLETED
carrying `error`/`error_type`, the result a 500), `[never]` (never completes by itself).
Images are files on the second listener (like `v3.fal.media`), signed, expiring with the result.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from ..kit.jobs import Job, JobBook, JobSwitches
from ..kit.placeholder import Look
from .catalog import Model

PREFIX = "/files/"
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
MARKERS = ("[nsfw-first]", "[nsfw]", "[policy]", "[fail]", "[never]")
FAILED = "Runner disconnected while processing the request (emulated)"
LARGE = 10 * 1024  # results this big are kept `large_retention` only


SWITCHES = JobSwitches(
    queue_seconds=0.0,
    generation_seconds=0.3,
    retention=3600.0,
    queue_help="time spent IN_QUEUE",
    generation_help="time spent IN_PROGRESS",
    retention_help="seconds a result is kept",
)
LOOK = Look("fal emulator", (30, 60, 50), (200, 235, 215))
STATUS = {"queued": "IN_QUEUE", "generating": "IN_PROGRESS", "done": "COMPLETED",
          "canceled": "COMPLETED"}  # fmt: skip


@dataclass(kw_only=True)
class Request(Job):
    model: Model
    input: dict[str, Any]
    size: tuple[int, int]
    image_format: str
    count: int
    marker: str | None = None

    @property
    def app(self) -> str:
        """The endpoint's owner/app: what its request URLs keep (`fal-ai/flux`)."""
        return "/".join(self.model.id.split("/")[:2])

    def status(self, now: float) -> str:
        return STATUS[self.phase(now)]


def new_id() -> str:
    return f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"


class Book(JobBook[Request]):
    """The emulator's requests (the kit's `JobBook`) and result files."""

    def __init__(
        self,
        queue_seconds: float,
        generation_seconds: float,
        retention: float,
        large_retention: float,
        clock: Callable[[], float] = time.time,
        max_requests: int = 20000,
    ) -> None:
        super().__init__(
            SWITCHES,
            queue_seconds=queue_seconds,
            generation_seconds=generation_seconds,
            retention=retention,
            look=LOOK,
            clock=clock,
            max_jobs=max_requests,
            new_id=new_id,
        )
        self.large_retention = large_retention

    def add(self, model: Model, data: dict[str, Any], **options: Any) -> Request:
        never = options.get("marker") == "[never]"
        return self.create(Request, model=model, input=data, never=never, **options)

    def urls_of(self, request: Request) -> dict[str, str]:
        base = f"{self.api_base}/{request.app}/requests/{request.id}"
        return {
            "response_url": base,
            "status_url": f"{base}/status",
            "cancel_url": f"{base}/cancel",
        }

    def submitted(self, request: Request) -> dict[str, Any]:
        """The submission's answer (REFERENCE-MORE §3.2)."""
        return {
            "request_id": request.id,
            **self.urls_of(request),
            "status": "IN_QUEUE",
            "queue_position": self._position(request, self.clock()),
        }

    def status(self, request: Request) -> tuple[int, dict[str, Any]]:
        """The status answer: 202 while queued or running, 200 once COMPLETED."""
        now = self.clock()
        status = request.status(now)
        body: dict[str, Any] = {"status": status, **self.urls_of(request)}
        if status == "IN_QUEUE":
            body["queue_position"] = self._position(request, now)
            return 202, body
        body["logs"] = None
        if status == "IN_PROGRESS":
            return 202, body
        body["metrics"] = {"inference_time": request.generation_seconds}
        if request.canceled_at is not None:
            body.update(error="Request was cancelled", error_type="request_cancelled")
        elif request.marker == "[fail]":
            body.update(error=FAILED, error_type="runner_disconnected")
        return 200, body

    def cancel_answer(self, request: Request) -> tuple[int, dict[str, Any]]:
        status = request.status(self.clock())
        if not super().cancel(request):
            return 400, {"status": "ALREADY_COMPLETED"}
        if status == "IN_QUEUE":
            return 200, {"status": "OK"}
        return 202, {"status": "CANCELLATION_REQUESTED"}

    def expired_result(self, request: Request, size: int) -> bool:
        """Past retention (`large_retention` for a result of `size` >= 10 KB)."""
        return self.expired(request, self.large_retention if size >= LARGE else None)

    async def result(self, request: Request) -> tuple[int, Any]:
        """The result: the model's output, or its error (the model's own status)."""
        if request.canceled_at is not None:
            return 400, {"detail": "Request was cancelled"}
        if request.marker == "[fail]":
            return 500, {"detail": FAILED, "error_type": "runner_disconnected"}
        if request.marker == "[policy]":
            from .errors import content_policy

            return 422, content_policy()
        width, height = request.size
        flags = [request.marker == "[nsfw]" or (i == 0 and request.marker == "[nsfw-first]")
                 for i in range(request.count)]  # fmt: skip
        expires = request.finished_at() + self.retention
        images = []
        for i, flagged in enumerate(flags):
            ext = "jpg" if request.image_format == "jpeg" else request.image_format
            name = f"{request.id}/{i}.{ext}"
            params = {"w": width, "h": height, "f": request.image_format, "b": int(flagged)}
            images.append(
                {
                    "url": self.urls.make(self.file_base, PREFIX, name, expires, params),
                    "width": width,
                    "height": height,
                    "content_type": MIME[request.image_format],
                }
            )
        body: dict[str, Any] = {"prompt": request.input.get("prompt", "")}
        if request.model.single:
            body["image"] = images[0]
        else:
            body["images"] = images
        if request.model.seed:
            seed = request.input.get("seed")
            body["seed"] = seed if isinstance(seed, int) else 1234567
        if request.model.nsfw_flags:
            body["has_nsfw_concepts"] = flags
        body["timings"] = {"inference": request.generation_seconds}
        return 200, body

    def _position(self, request: Request, now: float) -> int:
        return max(0, math.ceil(request.queue_left(now) / 0.25) - 1)


def size_of(body: Any) -> int:
    return len(orjson.dumps(body))
