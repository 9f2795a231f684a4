"""`SeedreamEmulator`: the Ark Images emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

from typing import ClassVar

from ..kit.results import ResultHostEmulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, MODERATE_200, SeedreamApp


class SeedreamEmulator(ResultHostEmulator):
    """Ark's Images API (`base_url` is the host, like `https://ark.ap-southeast.bytepluses.com`;
    the route carries `/api/v3`) on one listener, its result host (`poll_base_url`, where `url`
    results point) on a second one.

    `url_ttl`: seconds a result URL stays valid (24 h [UNVERIFIED]). `rate_limit`: requests per
    minute, beyond which a 429 `RateLimitExceeded.EndpointRPMExceeded` (None: unlimited).
    Ark ignores fields it does not know and some a model does not take (`params.py`);
    `strict=True` refuses each with a 400 instead.
    """

    NAME = "seedream"
    TITLE = "Seedream (Ark Images) emulator"
    DEFAULT_PORT = 10801
    DEFAULT_POLL_PORT = 10802
    DEFAULT_API_KEY = "ark-emulator-key"
    LENIENT = frozenset({"generate"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {
            "status": 429,
            "headers": {"retry-after": "1"},
            "body": E.rate_limited(1).body(),
        },
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"model": "seedream", "data": [{"url": "'},
        "moderated": {"marker": MODERATE},  # 400 InputTextSensitiveContentDetected
        "moderated_200": {"marker": MODERATE_200},  # 200, a data entry with `error`
        "quota": {"status": 403, "body": E.QUOTA},  # AccountOverdueError
    }
    APP = SeedreamApp
    URL_TTL = 86400.0
    app: SeedreamApp
