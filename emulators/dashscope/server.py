"""`DashScopeEmulator`: the DashScope emulator as a kit `JobEmulator`, its scenarios, switches."""

from __future__ import annotations

from typing import ClassVar

from ..kit.jobs import StandardJobEmulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, MODERATE_OUTPUT, DashScopeApp
from .tasks import SWITCHES


class DashScopeEmulator(StandardJobEmulator):
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
    APP = DashScopeApp
    app: DashScopeApp

    def ready_text(self) -> str:
        return super().ready_text().replace(", polling ", ", results ", 1)
