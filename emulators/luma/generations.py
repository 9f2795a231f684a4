"""Generations on the clock (the kit's `JobBook`): their Generation objects and result files.

A generation is `queued` for `queue_seconds`, `dreaming` for `generation_seconds`, then
`completed` with `assets.image` (a signed file URL on the second listener, expiring `retention`
seconds after it finished: Luma's lifetime is [UNVERIFIED]) or `failed` with `failure_reason`
(markers: `[moderate-output]` a moderation failure, `[fail]` another). A deleted generation is
gone (404). Images: ~1 megapixel at the asked ratio, sides multiples of 16 [UNVERIFIED: Photon's
own sizes are not documented], JPEG (`jpg`) or PNG.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..kit.jobs import Job, JobBook, JobSwitches
from ..kit.placeholder import Look
from . import errors as E

PREFIX = "/files/"
MIME = {"jpg": "image/jpeg", "png": "image/png"}
MODERATE_OUTPUT, FAIL, NEVER = "[moderate-output]", "[fail]", "[never]"
SWITCHES = JobSwitches(
    queue_seconds=0.0,
    generation_seconds=0.3,
    retention=3600.0,
    queue_help="time spent queued",
    generation_help="time spent dreaming",
    retention_help="seconds a result image URL stays valid",
)
LOOK = Look("Luma emulator", (35, 25, 45), (230, 200, 160))
STATE = {"queued": "queued", "generating": "dreaming", "done": "completed", "canceled": "failed"}


@dataclass(kw_only=True)
class Generation(Job):
    request: dict[str, Any]
    model: str
    size: tuple[int, int]
    fmt: str
    marker: str | None = None
    deleted: bool = False


def dimensions(ratio: str) -> tuple[int, int]:
    w, h = (int(x) for x in ratio.split(":"))
    height = math.sqrt(1_000_000 * h / w)
    return max(16, round(height * w / h / 16) * 16), max(16, round(height / 16) * 16)


class Book(JobBook[Generation]):
    def __init__(
        self,
        queue_seconds: float,
        generation_seconds: float,
        retention: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            SWITCHES,
            queue_seconds=queue_seconds,
            generation_seconds=generation_seconds,
            retention=retention,
            look=LOOK,
            clock=clock,
            new_id=lambda: str(uuid.uuid4()),
        )

    def add(
        self, request: dict[str, Any], model: str, ratio: str, fmt: str, marker: str | None
    ) -> Generation:
        return self.create(
            Generation,
            request=request,
            model=model,
            size=dimensions(ratio),
            fmt=fmt,
            marker=marker,
            never=marker == NEVER,
        )

    def find(self, generation_id: str) -> Generation:
        found = self.get(generation_id)
        if found is None or found.deleted:
            raise E.detail(404, "Generation not found")
        return found

    def delete(self, generation: Generation) -> None:
        self.cancel(generation)
        generation.deleted = True

    def body(self, generation: Generation) -> dict[str, Any]:
        """The Generation object (lumaai-python `types/generation.py`)."""
        phase = generation.phase(self.clock())
        state = STATE[phase]
        reason = None
        assets: dict[str, Any] | None = None
        if state == "completed" and generation.marker == MODERATE_OUTPUT:
            state, reason = "failed", E.MODERATED_OUTPUT
        elif state == "completed" and generation.marker == FAIL:
            state, reason = "failed", E.FAILED
        elif state == "completed":
            assets = {"image": self.file_url(generation), "video": None, "progress_video": None}
        return {
            "id": generation.id,
            "generation_type": "image",
            "state": state,
            "failure_reason": reason,
            "created_at": datetime.fromtimestamp(generation.created, UTC).isoformat(),
            "assets": assets,
            "model": generation.model,
            "request": generation.request,
        }

    def file_url(self, generation: Generation) -> str:
        width, height = generation.size
        expires = generation.finished_at() + self.retention
        name = f"{generation.id}.{generation.fmt}"
        params = {"w": width, "h": height, "f": generation.fmt}
        return self.urls.make(self.file_base, PREFIX, name, expires, params)
