"""`LumaEmulator`: the Luma Dream Machine (images) emulator as a kit `JobEmulator`."""

from __future__ import annotations

from typing import ClassVar

from ..kit.jobs import StandardJobEmulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, LumaApp
from .generations import MODERATE_OUTPUT, SWITCHES


class LumaEmulator(StandardJobEmulator):
    """Luma's API (`base_url` ends in `/dream-machine/v1`, like `https://api.lumalabs.ai/
    dream-machine/v1`) on one listener, its result files (`poll_base_url`) on a second.

    `queue_seconds`/`generation_seconds`: how long a generation is `queued`, then `dreaming`.
    `retention`: seconds a result URL stays valid after the generation finished. `rate_limit`:
    submissions per minute (None: unlimited). `strict`: unknown fields are a 422.
    """

    NAME = "luma"
    TITLE = "Luma Dream Machine emulator"
    DEFAULT_PORT = 11001
    DEFAULT_POLL_PORT = 11002
    POLL_ROLE = "files"
    POLL_ROLE_HELP = "result image downloads"
    SWITCHES = SWITCHES
    DEFAULT_API_KEY = "luma-emulator-key"
    BASE_PATH = "/dream-machine/v1"
    LENIENT = frozenset({"submit"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {"status": 429, "headers": {"retry-after": "1"}},
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"id": "'},
        "moderated": {"marker": MODERATE},  # 400 naming moderation
        "moderated_200": {"marker": MODERATE_OUTPUT},  # polls: failed, moderation
        "quota": {"status": 402, "body": {"detail": E.QUOTA}},
    }
    APP = LumaApp
    app: LumaApp
