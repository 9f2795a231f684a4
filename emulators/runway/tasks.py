"""Runway tasks on the kit's clock (`kit/jobs.py`): PENDING while queued (THROTTLED under the
`[throttle]` marker), RUNNING with `progress` while generating, then SUCCEEDED with `output`
URLs on the second listener (signed, expiring `retention` seconds after the task ended: Runway's
"within 24-48 hours"), or FAILED with a `failureCode` under a marker, or CANCELLED once
`DELETE /v1/tasks/{id}` stopped it; deleting a finished task removes it (a later GET is 404).

Markers: `[safety]` FAILED `SAFETY.INPUT.TEXT`, `[safety-output]` FAILED `SAFETY.OUTPUT.IMAGE`,
`[preprocessing-safety]` FAILED `INPUT_PREPROCESSING.SAFETY.TEXT`, `[preprocessing-fail]`
FAILED `INPUT_PREPROCESSING.INTERNAL` (docs.dev.runwayml.com api-details/task-failures),
`[fail]` FAILED `INTERNAL.BAD_OUTPUT.CODE01`, `[cancelled]` CANCELLED once out of the queue
(as a task deleted by another client of the organization is), `[throttle]` THROTTLED while
queued, `[never]` never finishes by itself.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..kit.jobs import Job, JobBook, JobSwitches
from ..kit.placeholder import Look

PREFIX = "/outputs/"
MARKERS = (
    "[safety-output]",
    "[safety]",
    "[preprocessing-safety]",
    "[preprocessing-fail]",
    "[fail]",
    "[cancelled]",
    "[throttle]",
    "[never]",
)
FAILURES = {
    "[safety]": ("SAFETY.INPUT.TEXT", "The prompt was flagged by content moderation."),
    "[safety-output]": ("SAFETY.OUTPUT.IMAGE", "The output was flagged by content moderation."),
    "[preprocessing-safety]": (
        "INPUT_PREPROCESSING.SAFETY.TEXT",
        "The prompt was rejected for content moderation reasons.",
    ),
    "[preprocessing-fail]": (
        "INPUT_PREPROCESSING.INTERNAL",
        "There was a problem performing content moderation.",
    ),
    "[fail]": ("INTERNAL.BAD_OUTPUT.CODE01", "An error occurred while generating the output."),
}
SWITCHES = JobSwitches(
    queue_seconds=0.0,
    generation_seconds=0.3,
    retention=86400.0,
    queue_help="time spent PENDING",
    generation_help="time spent RUNNING",
    retention_help="seconds output URLs stay valid",
)


@dataclass(kw_only=True)
class Task(Job):
    model: str
    size: tuple[int, int]
    image_format: str
    count: int
    marker: str | None = None
    deleted: bool = False


class Book(JobBook[Task]):
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
            look=Look("Runway emulator", (20, 20, 30), (200, 200, 220)),
            clock=clock,
            new_id=lambda: str(uuid.uuid4()),
        )

    def status(self, task: Task) -> dict[str, Any]:
        """The task as `GET /v1/tasks/{id}` answers it."""
        now = self.clock()
        created = datetime.fromtimestamp(task.created, UTC).isoformat().replace("+00:00", "Z")
        body: dict[str, Any] = {"id": task.id, "createdAt": created}
        phase = task.phase(now)
        if phase == "canceled" or (phase != "queued" and task.marker == "[cancelled]"):
            return {**body, "status": "CANCELLED"}
        if phase == "queued":
            return {**body, "status": "THROTTLED" if task.marker == "[throttle]" else "PENDING"}
        if phase == "generating":
            return {**body, "status": "RUNNING", "progress": task.progress(now)}
        if task.marker in FAILURES:
            code, failure = FAILURES[task.marker]
            return {**body, "status": "FAILED", "failure": failure, "failureCode": code}
        expires = task.finished_at() + self.retention
        width, height = task.size
        params = {"w": width, "h": height, "f": task.image_format}
        output = [
            self.urls.make(self.file_base, PREFIX, f"{task.id}/{i}.{task.image_format}", expires,
                           params)
            for i in range(task.count)
        ]  # fmt: skip
        return {**body, "status": "SUCCEEDED", "output": output}

    def delete(self, task: Task) -> None:
        """Cancel a running task, or delete a finished one (sdk-python `tasks.delete`)."""
        if not self.cancel(task):
            task.deleted = True
