"""`RunwayEmulator`: the Runway emulator as a kit `JobEmulator`, its scenarios and switches."""

from __future__ import annotations

from typing import ClassVar

from ..kit.jobs import StandardJobEmulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import RunwayApp
from .tasks import SWITCHES


class RunwayEmulator(StandardJobEmulator):
    """Runway's API (`base_url` like `https://api.dev.runwayml.com`) on one listener, its output
    files (`poll_base_url`, where `output` URLs point, like Runway's CloudFront host) on a
    second one.

    `queue_seconds`/`generation_seconds`: how long a task is PENDING, then RUNNING.
    `retention`: seconds its output URLs stay valid. `rate_limit`: submissions per minute (None:
    unlimited). `strict`: unknown fields are a 400 instead of being dropped.
    """

    NAME = "runway"
    TITLE = "Runway emulator"
    DEFAULT_PORT = 10901
    DEFAULT_POLL_PORT = 10902
    POLL_ROLE = "files"
    POLL_ROLE_HELP = "output file downloads"
    SWITCHES = SWITCHES
    DEFAULT_API_KEY = "key_runway_emulator"
    LENIENT = frozenset({"submit"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {"status": 429, "headers": {"retry-after": "1"}},
        "server_error": {"status": 503},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"id": "'},
        "moderated_200": {"marker": "[safety]"},  # FAILED with SAFETY.INPUT.TEXT
        "quota": {"status": 400, "body": {"error": E.NO_CREDITS}},
    }
    APP = RunwayApp
    app: RunwayApp
