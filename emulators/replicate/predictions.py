"""Predictions: their life on the clock, their JSON, and the output files they point at.

A prediction is `starting` for `queue_seconds`, `processing` for `generation_seconds`, then
`succeeded` (or `failed`, by marker). `POST urls.cancel` makes an unfinished one `canceled`; a
`Cancel-After` deadline reached before it started makes it `aborted`, while it ran `canceled`
(REFERENCE-MORE §4.3). After `retention` seconds its `output` is null and `data_removed` true
("removed after an hour", the default). Nothing runs in the background: a prediction's state
is computed from the clock whenever it is read.

Output files are PNG, JPEG or WebP (the `output_format` asked for, else the model's default) on
the file host, the second listener: `/xezq/<id>/out-<i>.<ext>?se=&w=&h=&f=&sig=`, signed and
expiring with the data (the kit's `SignedUrls`), like `replicate.delivery`'s. A `data:` URI
instead when asked (the `data_uri` switch: REPL-JS README, "a remote URL or a data-uri").
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..kit.jobs import Job, JobBook, JobSwitches
from ..kit.placeholder import Look
from .catalog import Model

PREFIX = "/xezq/"
MIME = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
FAILED_NSFW = "NSFW content detected. Try running it again, or try a different prompt."
FAILED_SENSITIVE = (
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
)
FAILED_MODEL = "Prediction failed: the model raised an error (emulated)"
MARKER_ERRORS = {"[nsfw]": FAILED_NSFW, "[sensitive]": FAILED_SENSITIVE, "[fail]": FAILED_MODEL}
NEVER = "[never]"


SWITCHES = JobSwitches(
    queue_seconds=0.0,
    generation_seconds=0.5,
    retention=3600.0,
    queue_help="time spent `starting`",
    generation_help="time spent `processing`",
    retention_help="seconds before data is removed",
    rate_help="creations per minute; 0 = unlimited",
)
LOOK = Look("Replicate emulator", (40, 32, 60), (210, 200, 235))
STATUS = {"queued": "starting", "generating": "processing"}


@dataclass(kw_only=True)
class Prediction(Job):
    model: Model
    input: dict[str, Any]
    size: tuple[int, int]
    image_format: str
    count: int
    error: str | None = None  # a marker's failure text
    cancel_after: float | None = None  # seconds after creation
    data_uri: bool = False

    def status(self, now: float) -> str:
        phase = self.phase(now)
        if phase == "canceled":
            return "canceled"
        if self.cancel_after is not None and now - self.created >= self.cancel_after:
            if self.cancel_after < self.queue_seconds:
                return "aborted"
            if self.created + self.cancel_after < self.ends():
                return "canceled"
        if phase in STATUS:
            return STATUS[phase]
        return "failed" if self.error else "succeeded"


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


class Book(JobBook[Prediction]):
    """The emulator's predictions (the kit's `JobBook`) and output files."""

    def __init__(
        self,
        queue_seconds: float,
        generation_seconds: float,
        retention: float,
        clock: Callable[[], float] = time.time,
        max_predictions: int = 20000,
    ) -> None:
        super().__init__(
            SWITCHES,
            queue_seconds=queue_seconds,
            generation_seconds=generation_seconds,
            retention=retention,
            look=LOOK,
            clock=clock,
            max_jobs=max_predictions,
            new_id=lambda: secrets.token_hex(13),
        )

    def add(self, model: Model, data: dict[str, Any], **options: Any) -> Prediction:
        return self.create(Prediction, model=model, input=data, **options)

    def cancel(self, job: Prediction) -> bool:
        """`POST urls.cancel`: only a prediction still starting or processing (one a
        `Cancel-After` deadline ended stays `aborted` or `canceled`)."""
        if job.status(self.clock()) not in ("starting", "processing"):
            return False
        return super().cancel(job)

    def remaining(self, prediction: Prediction) -> float:
        """Seconds until the prediction ends (inf when it never does by itself)."""
        end = prediction.ends()
        if prediction.cancel_after is not None:
            end = min(end, prediction.created + prediction.cancel_after)
        return max(0.0, end - self.clock())

    async def answer(self, prediction: Prediction, fake: bytes | None = None) -> dict[str, Any]:
        """The prediction's JSON as Replicate's API gives it (REPL-PY `types/prediction.py`)."""
        now = self.clock()
        status = prediction.status(now)
        removed = now - prediction.created > self.retention
        get = f"{self.api_base}/v1/predictions/{prediction.id}"
        body: dict[str, Any] = {
            "id": prediction.id,
            "model": prediction.model.name,
            "version": prediction.model.version,
            "input": {} if removed else prediction.input,
            "logs": "",
            "output": None,
            "error": prediction.error if status == "failed" else None,
            "status": status,
            "created_at": iso(prediction.created),
            "data_removed": removed,
            "urls": {
                "get": get,
                "cancel": f"{get}/cancel",
                "web": f"https://replicate.com/p/{prediction.id}",
            },
        }
        if status not in ("starting", "aborted"):
            body["started_at"] = iso(prediction.started)
        if status in ("succeeded", "failed", "canceled", "aborted"):
            body["completed_at"] = iso(now)
            body["metrics"] = {"predict_time": prediction.generation_seconds}
        if status == "succeeded" and not removed:
            outputs = [await self._output(prediction, i, fake) for i in range(prediction.count)]
            body["output"] = outputs if prediction.model.output == "list" else outputs[0]
        return body

    async def _output(self, prediction: Prediction, index: int, fake: bytes | None) -> str:
        width, height = prediction.size
        if prediction.data_uri:
            data = (
                fake
                if fake is not None
                else await self.image(width, height, prediction.image_format)
            )
            mime = MIME[prediction.image_format]
            return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        name = f"{prediction.id}/out-{index}.{prediction.image_format}"
        expires = prediction.created + self.retention
        params = {"w": width, "h": height, "f": prediction.image_format}
        return self.urls.make(self.file_base, PREFIX, name, expires, params)
