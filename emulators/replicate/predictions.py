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

import asyncio
import base64
import io
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from ..kit.label import stamp
from ..kit.signed_urls import SignedUrls
from .catalog import Model

PREFIX = "/xezq/"
FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}
MIME = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
FAILED_NSFW = "NSFW content detected. Try running it again, or try a different prompt."
FAILED_SENSITIVE = (
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
)
FAILED_MODEL = "Prediction failed: the model raised an error (emulated)"
MARKER_ERRORS = {"[nsfw]": FAILED_NSFW, "[sensitive]": FAILED_SENSITIVE, "[fail]": FAILED_MODEL}
NEVER = "[never]"


@dataclass
class Prediction:
    id: str
    model: Model
    input: dict[str, Any]
    created: float  # clock seconds
    queue_seconds: float
    generation_seconds: float
    size: tuple[int, int]
    image_format: str
    count: int
    error: str | None = None  # a marker's failure text
    never: bool = False
    cancel_after: float | None = None  # seconds after creation
    canceled_at: float | None = None
    data_uri: bool = False
    polls: int = field(default=0)

    def status(self, now: float) -> str:
        age = now - self.created
        start, end = self.queue_seconds, self.queue_seconds + self.generation_seconds
        if self.canceled_at is not None and self.canceled_at - self.created < end:
            return "canceled"
        if self.cancel_after is not None and age >= self.cancel_after:
            if self.cancel_after < start:
                return "aborted"
            if self.never or self.cancel_after < end:
                return "canceled"
        if age < start:
            return "starting"
        if self.never or age < end:
            return "processing"
        return "failed" if self.error else "succeeded"


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def render(width: int, height: int, image_format: str) -> bytes:
    img = Image.new("RGB", (width, height), (40, 32, 60))
    img.paste((210, 200, 235), (width // 4, height // 4, width - width // 4, height - height // 4))
    stamp(img, "Replicate emulator", f"not a real image - {width}x{height} {image_format}")
    buf = io.BytesIO()
    img.save(buf, FORMATS[image_format])
    return buf.getvalue()


class Book:
    """The emulator's predictions (oldest dropped beyond `max_predictions`) and output files."""

    def __init__(
        self,
        queue_seconds: float,
        generation_seconds: float,
        retention: float,
        clock: Callable[[], float] = time.time,
        max_predictions: int = 20000,
    ) -> None:
        self.queue_seconds, self.generation_seconds = queue_seconds, generation_seconds
        self.retention, self.clock, self.max = retention, clock, max_predictions
        self.urls = SignedUrls(clock)
        self.api_base = self.file_base = ""  # the two listeners' origins, once bound
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Prediction] = OrderedDict()
        self._images: OrderedDict[tuple[int, int, str], bytes] = OrderedDict()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def add(self, model: Model, data: dict[str, Any], **options: Any) -> Prediction:
        prediction = Prediction(
            secrets.token_hex(13),
            model,
            data,
            self.clock(),
            self.queue_seconds,
            self.generation_seconds,
            **options,
        )
        with self._lock:
            self._items[prediction.id] = prediction
            while len(self._items) > self.max:
                self._items.popitem(last=False)
        return prediction

    def get(self, prediction_id: str) -> Prediction | None:
        with self._lock:
            found = self._items.get(prediction_id)
            if found is not None:
                found.polls += 1
            return found

    def cancel(self, prediction: Prediction) -> None:
        if prediction.status(self.clock()) in ("starting", "processing"):
            prediction.canceled_at = self.clock()

    def remaining(self, prediction: Prediction) -> float:
        """Seconds until the prediction ends (inf when it never does by itself)."""
        end = (
            math.inf
            if prediction.never
            else prediction.queue_seconds + prediction.generation_seconds
        )
        if prediction.cancel_after is not None:
            end = min(end, prediction.cancel_after)
        return max(0.0, prediction.created + end - self.clock())

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
            body["started_at"] = iso(prediction.created + prediction.queue_seconds)
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

    async def image(self, width: int, height: int, image_format: str) -> bytes:
        key = (width, height, image_format)
        with self._lock:
            data = self._images.get(key)
        if data is None:
            data = await asyncio.to_thread(render, width, height, image_format)
            with self._lock:
                self._images[key] = data
                while len(self._images) > 16:
                    self._images.popitem(last=False)
        return data
