"""Polling tasks with set durations, for any submit-and-poll provider: a submission becomes a
task that is pending for `duration` seconds (with a progress fraction), then done; tasks are
kept `retention` seconds or up to `max_tasks` (oldest dropped first), after which a poll finds
nothing (the provider's own "task not found").

No timers: a task's phase is computed from the clock when it is polled. What a finished task
answers (a result URL, a moderation status, an error) is the provider's to say, from the task's
`data` and `marker`.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Task:
    id: str
    created: float  # monotonic seconds
    ready_at: float  # monotonic seconds; inf: never
    started_wall: float  # unix seconds, for the provider's start_time / end_time
    duration: float
    marker: str | None = None
    data: Any = None
    polls: int = field(default=0)

    def pending(self, now: float) -> bool:
        return now < self.ready_at

    def progress(self, now: float) -> float:
        """0..0.99 while pending (never 1 before it is done)."""
        return round(min(0.99, (now - self.created) / max(self.duration, 1e-9)), 3)


class TaskBook:
    """The tasks of one emulator. Thread-safe."""

    def __init__(
        self,
        retention: float = 3600.0,
        max_tasks: int = 20000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.retention = retention
        self.max_tasks = max_tasks
        self.clock = clock
        self._lock = threading.Lock()
        self._tasks: OrderedDict[str, Task] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tasks)

    def clear(self) -> None:
        with self._lock:
            self._tasks.clear()

    def add(
        self,
        duration: float,
        *,
        marker: str | None = None,
        data: Any = None,
        ready: bool | None = None,
    ) -> Task:
        """A new task, done after `duration` seconds (`ready=True`: at once; False: never)."""
        now = self.clock()
        ready_at = now if ready else math.inf if ready is False else now + duration
        task = Task(str(uuid.uuid4()), now, ready_at, time.time(), duration, marker, data)
        with self._lock:
            self._tasks[task.id] = task
            self._prune(now)
        return task

    def get(self, task_id: str) -> Task | None:
        """The task, counting this as one poll of it; None when unknown or dropped."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is not None:
                task.polls += 1
            return task

    def polls(self) -> dict[str, int]:
        with self._lock:
            return {t.id: t.polls for t in self._tasks.values() if t.polls}

    def _prune(self, now: float) -> None:
        tasks = self._tasks
        while tasks:
            oldest = next(iter(tasks.values()))
            if len(tasks) <= self.max_tasks and oldest.created > now - self.retention:
                break
            tasks.popitem(last=False)
