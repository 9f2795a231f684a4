"""Emulator state: tasks (lazy, time-based status), concurrency pools, credits and counters.

No per-task timers: a task's status is computed from the clock when it is polled, and the number
of active tasks comes from a min-heap of "becomes inactive at" times, pruned lazily. Task records
are dropped after `task_retention` seconds or beyond `max_tasks` (oldest first).

Prompt markers: `[moderate-request]` → `Request Moderated` at the first poll (never active);
`[moderate-content]` → `Content Moderated` once generation time has passed; `[error]` → `Error`
once generation time has passed; `[never-ready]` → `Pending` forever (stays active).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from .catalog import Endpoint, Plan
from .delivery import Signer
from .faults import FaultQueue

MARKERS = ("[moderate-request]", "[moderate-content]", "[error]", "[never-ready]")
MAX_WEBHOOK_URLS = 1000
MAX_TRACKED_PROMPTS = 10_000  # the benchmark submits many: bound the per-prompt counter


class SubmitRejected(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


class Task:
    __slots__ = (
        "created",
        "endpoint",
        "id",
        "marker",
        "plan",
        "prompt",
        "ready_at",
        "seed",
        "start_wall",
    )

    def __init__(
        self, endpoint: str, prompt: str, seed: int, plan: Plan, marker: str | None, gen: float
    ) -> None:
        self.id = str(uuid.uuid4())
        self.endpoint, self.prompt, self.seed = endpoint, prompt, seed
        self.plan, self.marker = plan, marker
        self.created = time.monotonic()
        self.start_wall = time.time()
        if marker == "[never-ready]":
            self.ready_at = math.inf
        elif marker == "[moderate-request]":
            self.ready_at = self.created
        else:
            self.ready_at = self.created + gen


class Pool:
    """Active tasks of one concurrency pool, as a heap of times at which they stop being active."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.heap: list[tuple[float, int]] = []

    def active(self, now: float) -> int:
        while self.heap and self.heap[0][0] <= now:
            heapq.heappop(self.heap)
        return len(self.heap)

    def retry_after(self, now: float) -> int:
        soonest = self.heap[0][0] if self.heap else now
        return 5 if math.isinf(soonest) else max(1, math.ceil(soonest - now))


class EmulatorState:
    def __init__(
        self,
        api_key: str,
        generation_seconds: float,
        sample_ttl: float,
        concurrency_limit: int | None,
        kontext_max_limit: int | None,
        credits: float,
        task_retention: float = 3600.0,
        max_tasks: int = 20000,
        report_cost: bool = True,
    ) -> None:
        self.api_key = api_key
        # False: answer submissions as BFL did in 2024-25, `{id, polling_url}` only (REFERENCE
        # §2.4), without `cost`, `input_mp`, `output_mp`.
        self.report_cost = report_cost
        self.generation_seconds = generation_seconds
        self.sample_ttl = sample_ttl
        self.limits = {"default": concurrency_limit, "kontext-max": kontext_max_limit}
        self.initial_credits = credits
        self.task_retention = task_retention
        self.max_tasks = max_tasks
        self.poll_base_url = ""
        self.signer = Signer()
        self.faults = FaultQueue()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self._seq = itertools.count()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.credits = self.initial_credits
            self.tasks: OrderedDict[str, Task] = OrderedDict()
            self.pools = {name: Pool(limit) for name, limit in self.limits.items()}
            self.counters: dict[str, Any] = {
                "submits": 0,
                "polls": 0,
                "samples": 0,
                "max_active": 0,
                "rejected_429": 0,
                "auth_failures": 0,
                "rejected_402": 0,
                "rejected_422": 0,
                "faults_triggered": 0,
                "sample_requests_with_key": 0,
            }
            self.submits_by_endpoint: dict[str, int] = {}
            # Accepted submits per prompt: lets a test prove each job was paid for once.
            self.submits_by_prompt: dict[str, int] = {}
            self.polls_by_task: dict[str, int] = {}
            self.last_submit: dict[str, Any] | None = None
            self.webhook_urls: list[str] = []
        self.faults.clear()

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counters[name] += n

    def record_attempt(self, endpoint: str, raw: Any) -> None:
        with self.lock:
            self.last_submit = {"endpoint": endpoint, "json": raw}

    def _active(self, now: float) -> int:
        return sum(p.active(now) for p in self.pools.values())

    def submit(
        self, ep: Endpoint, prompt: str, seed: int | None, plan: Plan, webhook_url: Any
    ) -> dict[str, Any]:
        marker = next((m for m in MARKERS if m in prompt), None)
        now = time.monotonic()
        with self.lock:
            if plan.cost > self.credits:
                self.counters["rejected_402"] += 1
                raise SubmitRejected(402, "Insufficient credits")
            pool = self.pools[ep.pool]
            if pool.limit is not None and pool.active(now) >= pool.limit:
                self.counters["rejected_429"] += 1
                detail = (
                    f"You have reached the maximum number of active tasks ({pool.limit}) for this "
                    "key. Please wait for a task to finish before submitting a new one."
                )
                raise SubmitRejected(429, detail, {"Retry-After": str(pool.retry_after(now))})
            if seed is None:
                seed = random.randrange(2**32)  # noqa: S311 - not security relevant
            task = Task(ep.name, prompt, seed, plan, marker, self.generation_seconds)
            self.tasks[task.id] = task
            if task.ready_at > now:
                heapq.heappush(pool.heap, (task.ready_at, next(self._seq)))
            self.credits -= plan.cost
            self.counters["submits"] += 1
            self.submits_by_endpoint[ep.path] = self.submits_by_endpoint.get(ep.path, 0) + 1
            by_prompt = self.submits_by_prompt
            if len(by_prompt) < MAX_TRACKED_PROMPTS or prompt in by_prompt:
                by_prompt[prompt] = by_prompt.get(prompt, 0) + 1
            self.counters["max_active"] = max(self.counters["max_active"], self._active(now))
            if webhook_url is not None and len(self.webhook_urls) < MAX_WEBHOOK_URLS:
                self.webhook_urls.append(str(webhook_url))
            self._prune(now)
        answer: dict[str, Any] = {
            "id": task.id,
            "polling_url": f"{self.poll_base_url}/v1/get_result?id={task.id}",
        }
        if self.report_cost:
            answer.update(cost=plan.cost, input_mp=plan.input_mp, output_mp=plan.output_mp)
        return answer

    def _prune(self, now: float) -> None:
        tasks = self.tasks
        while tasks:
            oldest = next(iter(tasks.values()))
            if len(tasks) <= self.max_tasks and oldest.created > now - self.task_retention:
                break
            tasks.popitem(last=False)
            self.polls_by_task.pop(oldest.id, None)

    def poll(self, task_id: str) -> dict[str, Any]:
        with self.lock:
            self.counters["polls"] += 1
            task = self.tasks.get(task_id)
            if task is not None:
                self.polls_by_task[task_id] = self.polls_by_task.get(task_id, 0) + 1
        out: dict[str, Any] = {
            "id": task_id,
            "status": "Task not found",
            "result": None,
            "progress": None,
            "details": None,
            "preview": None,
        }
        if task is None:
            return out
        now = time.monotonic()
        if task.marker == "[moderate-request]":
            out["status"] = "Request Moderated"
            out["details"] = {"Moderation Reasons": ["Emulated input moderation"]}
        elif now < task.ready_at:
            out["status"] = "Pending"
            elapsed = now - task.created
            out["progress"] = round(min(0.99, elapsed / max(self.generation_seconds, 1e-9)), 3)
        elif task.marker == "[moderate-content]":
            out["status"] = "Content Moderated"
            out["details"] = {"Moderation Reasons": ["Emulated output moderation"]}
        elif task.marker == "[error]":
            out["status"] = "Error"
            out["details"] = {"error": "Emulated generation failure ([error])"}
        else:
            end_wall = task.start_wall + self.generation_seconds
            plan = task.plan
            sample = self.signer.url(
                self.poll_base_url,
                task.id,
                plan.output_format,
                plan.width,
                plan.height,
                end_wall + self.sample_ttl,
            )
            out["status"] = "Ready"
            out["result"] = {
                "sample": sample,
                "prompt": task.prompt,
                "seed": task.seed,
                "start_time": task.start_wall,
                "end_time": end_wall,
                "duration": self.generation_seconds,
            }
        return out

    def stats(self) -> dict[str, Any]:
        now = time.monotonic()
        with self.lock:
            out = dict(self.counters)
            out.update(
                submits_by_endpoint=dict(self.submits_by_endpoint),
                submits_by_prompt=dict(self.submits_by_prompt),
                polls_by_task=dict(self.polls_by_task),
                active=self._active(now),
                last_submit=self.last_submit,
                webhook_urls=list(self.webhook_urls),
                credits=self.credits,
                tasks=len(self.tasks),
                faults_pending=len(self.faults.pending()),
            )
        return out
