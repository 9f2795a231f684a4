"""BFL's side of submit-and-poll on the kit: a submission checks credits (402) and the
concurrency pool of its endpoint (429, `Retry-After`), becomes a kit task, and its poll answers
BFL's statuses; counters BFL tests read (`submits`, `submits_by_prompt`, `last_submit`, ...).

Prompt markers: `[moderate-request]` → `Request Moderated` at the first poll (never active);
`[moderate-content]` → `Content Moderated` once generation time has passed; `[error]` → `Error`
once generation time has passed; `[never-ready]` → `Pending` forever (stays active).
"""

from __future__ import annotations

import math
import random
import threading
import time
from typing import Any

from ..kit.faults import Fault
from ..kit.limits import ConcurrencyPool, Credits
from ..kit.markers import marker_of
from ..kit.records import RequestLog
from ..kit.signed_urls import SignedUrls
from ..kit.tasks import TaskBook
from .catalog import Endpoint, Plan

MARKERS = ("[moderate-request]", "[moderate-content]", "[error]", "[never-ready]")
MAX_WEBHOOK_URLS = 1000
MAX_TRACKED_PROMPTS = 10_000  # the benchmark submits many: bound the per-prompt counter
COUNTERS = (
    "submits",
    "polls",
    "samples",
    "max_active",
    "rejected_429",
    "auth_failures",
    "rejected_402",
    "rejected_422",
    "sample_requests_with_key",
)


class SubmitRejected(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


class BFLState:
    def __init__(
        self,
        api_key: str,
        log: RequestLog,
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
        self.log = log
        # False: answer submissions as BFL did in 2024-25, `{id, polling_url}` only (REFERENCE
        # §2.4), without `cost`, `input_mp`, `output_mp`.
        self.report_cost = report_cost
        self.generation_seconds = generation_seconds
        self.sample_ttl = sample_ttl
        self.pools = {
            "default": ConcurrencyPool(concurrency_limit),
            "kontext-max": ConcurrencyPool(kontext_max_limit),
        }
        self.credits = Credits(credits)
        self.tasks = TaskBook(task_retention, max_tasks)
        self.poll_base_url = ""
        self.urls = SignedUrls()
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.credits.reset()
            self.tasks.clear()
            for pool in self.pools.values():
                pool.clear()
            self.counters: dict[str, Any] = dict.fromkeys(COUNTERS, 0)
            self.submits_by_endpoint: dict[str, int] = {}
            # Accepted submits per prompt: lets a test prove each job was paid for once.
            self.submits_by_prompt: dict[str, int] = {}
            self.last_submit: dict[str, Any] | None = None
            self.webhook_urls: list[str] = []

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counters[name] += n

    def record_attempt(self, endpoint: str, raw: Any) -> None:
        with self.lock:
            self.last_submit = {"endpoint": endpoint, "json": raw}

    def active(self) -> int:
        return sum(p.active() for p in self.pools.values())

    def submit(
        self,
        ep: Endpoint,
        prompt: str,
        seed: int | None,
        plan: Plan,
        webhook_url: Any,
        fault: Fault | None = None,
    ) -> dict[str, Any]:
        marker = marker_of(prompt, MARKERS, fault)
        gen = self.generation_seconds
        ready = {"[never-ready]": False, "[moderate-request]": True}.get(marker or "")
        until = math.inf if ready is False else time.monotonic() + (0 if ready else gen)
        with self.lock:
            if plan.cost > self.credits.balance:
                self.counters["rejected_402"] += 1
                raise SubmitRejected(402, "Insufficient credits")
            pool = self.pools[ep.pool]
            wait = pool.acquire(until)
            if wait is not None:
                self.counters["rejected_429"] += 1
                detail = (
                    f"You have reached the maximum number of active tasks ({pool.limit}) for this "
                    "key. Please wait for a task to finish before submitting a new one."
                )
                raise SubmitRejected(429, detail, {"Retry-After": str(wait)})
            if seed is None:
                seed = random.randrange(2**32)  # noqa: S311 - not security relevant
            data = {"endpoint": ep.name, "prompt": prompt, "seed": seed, "plan": plan}
            task = self.tasks.add(gen, marker=marker, data=data, ready=ready)
            self.credits.charge(plan.cost)
            self.counters["submits"] += 1
            self.submits_by_endpoint[ep.path] = self.submits_by_endpoint.get(ep.path, 0) + 1
            by_prompt = self.submits_by_prompt
            if len(by_prompt) < MAX_TRACKED_PROMPTS or prompt in by_prompt:
                by_prompt[prompt] = by_prompt.get(prompt, 0) + 1
            self.counters["max_active"] = max(self.counters["max_active"], self.active())
            if webhook_url is not None and len(self.webhook_urls) < MAX_WEBHOOK_URLS:
                self.webhook_urls.append(str(webhook_url))
        self.log.submitted()
        answer: dict[str, Any] = {
            "id": task.id,
            "polling_url": f"{self.poll_base_url}/v1/get_result?id={task.id}",
        }
        if self.report_cost:
            answer.update(cost=plan.cost, input_mp=plan.input_mp, output_mp=plan.output_mp)
        return answer

    def poll(self, task_id: str) -> dict[str, Any]:
        self.count("polls")
        task = self.tasks.get(task_id)
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
        elif task.pending(now):
            out["status"] = "Pending"
            out["progress"] = task.progress(now)
        elif task.marker == "[moderate-content]":
            out["status"] = "Content Moderated"
            out["details"] = {"Moderation Reasons": ["Emulated output moderation"]}
        elif task.marker == "[error]":
            out["status"] = "Error"
            out["details"] = {"error": "Emulated generation failure ([error])"}
        else:
            end_wall = task.started_wall + task.duration
            plan: Plan = task.data["plan"]
            name = f"{task.id}.{plan.output_format}"
            sample = self.urls.make(
                self.poll_base_url,
                "/delivery/",
                name,
                end_wall + self.sample_ttl,
                {"w": plan.width, "h": plan.height},
            )
            out["status"] = "Ready"
            out["result"] = {
                "sample": sample,
                "prompt": task.data["prompt"],
                "seed": task.data["seed"],
                "start_time": task.started_wall,
                "end_time": end_wall,
                "duration": task.duration,
            }
        return out

    def stats(self) -> dict[str, Any]:
        with self.lock:
            out = dict(self.counters)
            out.update(
                submits_by_endpoint=dict(self.submits_by_endpoint),
                submits_by_prompt=dict(self.submits_by_prompt),
                last_submit=self.last_submit,
                webhook_urls=list(self.webhook_urls),
            )
        out.update(
            polls_by_task=self.tasks.polls(),
            active=self.active(),
            credits=self.credits.balance,
            tasks=len(self.tasks),
        )
        return out
