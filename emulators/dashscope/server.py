"""`DashScopeEmulator`: the DashScope emulator as a kit `JobEmulator`, its scenarios, switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit.jobs import JobEmulator, job_options
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, MODERATE_OUTPUT, DashScopeApp
from .tasks import SWITCHES


class DashScopeEmulator(JobEmulator):
    """DashScope's API (`base_url` is the host, like `https://dashscope-intl.aliyuncs.com`;
    routes carry `/api/v1`) on one listener; its result host (`poll_base_url`, where result
    URLs point, like Alibaba Cloud OSS) on a second one.

    `queue_seconds`/`generation_seconds`: how long a task is PENDING, then RUNNING.
    `retention`: seconds a task and its result URLs last (24 h). `rate_limit`: submissions per
    minute (None: unlimited). `strict`: unknown parameters are refused instead of ignored.
    """

    NAME = "dashscope"
    TITLE = "DashScope (Model Studio) emulator"
    DEFAULT_PORT = 10701
    DEFAULT_POLL_PORT = 10702
    POLL_ROLE = "results"
    POLL_ROLE_HELP = "result downloads"
    SWITCHES = SWITCHES
    DEFAULT_API_KEY = "sk-dashscope-emulator"
    LENIENT = frozenset({"submit"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {
            "status": 429,
            "headers": {"retry-after": "1"},
            "body": E.body(
                "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."
            ),
        },
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"output": {"task_id": "'},
        "moderated": {"marker": MODERATE},  # 400 DataInspectionFailed
        "moderated_200": {"marker": MODERATE_OUTPUT},  # task FAILED DataInspectionFailed
        "quota": {"status": 400, "body": E.ARREARAGE},
    }
    app: DashScopeApp

    def __init__(
        self,
        api_key: str = "sk-dashscope-emulator",
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        strict: bool = False,
        queue_seconds: float = SWITCHES.queue_seconds,
        generation_seconds: float = SWITCHES.generation_seconds,
        retention: float = SWITCHES.retention,
        rate_limit: int | None = None,
    ) -> None:
        app = DashScopeApp(
            api_key,
            self.SCENARIO_FAULTS,
            strict,
            queue_seconds=queue_seconds,
            generation_seconds=generation_seconds,
            retention=retention,
            rate_limit=rate_limit,
        )
        super().__init__(
            app, app.book, host=host, port=port, poll_port=poll_port, poll_host=poll_host
        )

    def ready_text(self) -> str:
        return super().ready_text().replace(", polling ", ", results ", 1)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DashScopeEmulator:
        return cls(**cls.standard_options(args), **job_options(args))
