"""`FireworksEmulator`: the Fireworks emulator as a kit `JobEmulator`, its scenarios and
switches."""

from __future__ import annotations

from typing import ClassVar

from ..kit.jobs import StandardJobEmulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import FILTERED, SWITCHES, FireworksApp


class FireworksEmulator(StandardJobEmulator):
    """Fireworks' inference API (`base_url` ends in `/inference/v1`, like
    `https://api.fireworks.ai/inference/v1`) on one listener; Kontext samples (`poll_base_url`)
    on a second one.

    `generation_seconds`: how long a Kontext task is Pending; `retention`: how long its sample
    URL stays valid after it finished; `rate_limit`: paid calls per minute (None: unlimited).
    `strict`: unknown fields are a 400 (Fireworks' behaviour for them is not documented).
    """

    NAME = "fireworks"
    TITLE = "Fireworks emulator"
    DEFAULT_PORT = 10601
    DEFAULT_POLL_PORT = 10602
    POLL_ROLE = "results"
    POLL_ROLE_HELP = "Kontext sample downloads"
    SWITCHES = SWITCHES
    DEFAULT_API_KEY = "fw_emulator_key"
    BASE_PATH = "/inference/v1"
    LENIENT = frozenset({"generate", "submit"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {
            "status": 429,
            "headers": {"retry-after": "1"},
            "body": E.body("Request rate limit exceeded", "rate_limit_exceeded"),
        },
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"id": "x", "base64": ["data:image/png'},
        # schnell's HTTP-200 refusal; an HTTP-error moderation is not documented (no form here)
        "moderated_200": {"marker": FILTERED},
        "quota": {"status": 402, "body": E.body(E.PAYMENT_REQUIRED, "payment_required")},
    }
    APP = FireworksApp
    app: FireworksApp
