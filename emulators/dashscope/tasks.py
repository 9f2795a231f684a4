"""DashScope tasks on the kit's clock (`kit/jobs.py`), as `GET /api/v1/tasks/{id}` shows them.

Phases map to DashScope's `task_status` (DASH-PY `TaskStatus`): queued PENDING, generating
RUNNING, done SUCCEEDED (or FAILED, by marker), canceled CANCELED; a task the book does not
know, or one older than `retention` (24 h: how long DashScope keeps tasks and result URLs
[3P doc excerpt]), is UNKNOWN. Results are PNG files on the second listener, signed URLs that
expire with the task: `/dashscope-result/<task>/<n>.png?se=&w=&h=&sig=`.
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
from . import errors as E

PREFIX = "/dashscope-result/"
SWITCHES = JobSwitches(
    queue_seconds=0.0,
    generation_seconds=1.0,
    retention=86400.0,
    queue_help="time a task is PENDING",
    generation_help="time a task is RUNNING",
    retention_help="seconds a task and its result URLs are kept",
    rate_help="submissions per minute; 0 = unlimited (then 429 Throttling.RateQuota)",
)
LOOK = Look("DashScope emulator", (24, 36, 52), (255, 106, 0), block="corner")
STATUS = {"queued": "PENDING", "generating": "RUNNING", "canceled": "CANCELED"}


@dataclass(kw_only=True)
class Task(Job):
    model: str
    prompt: str
    n: int
    size: tuple[int, int]
    failure: tuple[str, str] | None = None  # (code, message): the task FAILED
    failed_results: int = 0  # the first results that failed (inspection), the rest made


def stamp(seconds: float) -> str:
    """DashScope's time format: `2025-01-08 16:03:59.840`."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


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
            look=LOOK,
            clock=clock,
            new_id=lambda: str(uuid.uuid4()),
        )

    def status(self, task: Task) -> str:
        phase = task.phase(self.clock())
        if phase != "done":
            return STATUS[phase]
        if task.failure is not None or task.failed_results >= task.n:
            return "FAILED"
        return "SUCCEEDED"

    def answer(self, task: Task | None, task_id: str) -> dict[str, Any]:
        """The task's JSON, as DashScope answers a query (or a synchronous call)."""
        if task is None or self.expired(task):
            return {"request_id": E.request_id(), "output": {"task_id": task_id,
                    "task_status": "UNKNOWN"}}  # fmt: skip
        status = self.status(task)
        output: dict[str, Any] = {
            "task_id": task.id,
            "task_status": status,
            "submit_time": stamp(task.created),
        }
        if status != "PENDING":
            output["scheduled_time"] = stamp(task.started)
        answer: dict[str, Any] = {"request_id": E.request_id(), "output": output}
        if status in ("SUCCEEDED", "FAILED", "CANCELED"):
            output["end_time"] = stamp(min(task.finished_at(), self.clock()))
        made = 0 if status != "SUCCEEDED" else task.n - task.failed_results
        if status == "FAILED":
            code, message = task.failure or ("DataInspectionFailed", E.OUTPUT_INSPECTION)
            output.update(code=code, message=message)
        if status in ("RUNNING", "SUCCEEDED", "FAILED"):
            output["task_metrics"] = {
                "TOTAL": task.n,
                "SUCCEEDED": made,
                "FAILED": task.n - made if status != "RUNNING" else 0,
            }
        if status == "SUCCEEDED":
            output["results"] = [self._result(task, i) for i in range(task.n)]
            answer["usage"] = {"image_count": made}
        return answer

    def _result(self, task: Task, index: int) -> dict[str, Any]:
        if index < task.failed_results:
            return {"code": "DataInspectionFailed", "message": E.OUTPUT_INSPECTION}
        width, height = task.size
        expires = task.finished_at() + self.retention
        name = f"{task.id}/{index}.png"
        url = self.urls.make(self.file_base, PREFIX, name, expires, {"w": width, "h": height})
        return {"orig_prompt": task.prompt, "actual_prompt": task.prompt, "url": url}
