"""`RecraftEmulator`: the Recraft emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

from typing import ClassVar

from ..kit.results import ResultHostEmulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, RecraftApp


class RecraftEmulator(ResultHostEmulator):
    """Recraft's API (`base_url` ends in `/v1`, like `https://external.api.recraft.ai/v1`) on
    one listener, its image host (`poll_base_url`, where `url` results point) on a second.

    `url_ttl`: seconds a result URL stays valid (Recraft: "about 24 hours"). `rate_limit`:
    requests per minute, beyond which a 429 with `Retry-After` (None: unlimited; Recraft's own
    limits are not emulated). Recraft rejects or ignores parameters a model does not support;
    lenient (default), the emulator ignores them; `strict=True` refuses each with a 400.
    """

    NAME = "recraft"
    TITLE = "Recraft emulator"
    DEFAULT_PORT = 10301
    DEFAULT_POLL_PORT = 10302
    DEFAULT_API_KEY = "recraft-emulator"
    BASE_PATH = "/v1"
    LENIENT = frozenset({"generate", "edit"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {
            "status": 429,
            "headers": {"retry-after": "1"},
            "body": {"code": "rate_limit_exceeded", "message": "Too many requests"},
        },
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"created": 1, "data": [{"url": "'},
        "moderated": {"marker": MODERATE},  # 400 inappropriate_content
        "quota": {"status": 402, "body": E.no_credits().body()},
    }
    APP = RecraftApp
    URL_TTL = 86400.0
    app: RecraftApp
