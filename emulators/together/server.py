"""`TogetherEmulator`: the Together Images emulator as a kit `Emulator`, its scenarios."""

from __future__ import annotations

from typing import ClassVar

from ..kit.results import ResultHostEmulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, TogetherApp


class TogetherEmulator(ResultHostEmulator):
    """Together's Images API (`base_url` ends in `/v1`, like `https://api.together.xyz/v1`) on
    one listener, its result host (`poll_base_url`, where `url` results point) on a second.

    `url_ttl`: seconds a result URL stays valid. `rate_limit`: requests per minute, beyond which
    a 429 with `retry-after` (None: unlimited). Together passes unknown fields through its SDKs
    and is taken to ignore them; `strict=True` refuses them with a 400 (`params.py`).
    """

    NAME = "together"
    TITLE = "Together AI Images emulator"
    DEFAULT_PORT = 10501
    DEFAULT_POLL_PORT = 10502
    DEFAULT_API_KEY = "together-emulator"
    BASE_PATH = "/v1"
    LENIENT = frozenset({"generate"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {
            "status": 429,
            "headers": {"retry-after": "1"},
            "body": E.body(E.RATE_MESSAGE, "rate_limit_exceeded", code="rate_limit_exceeded"),
        },
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"data": [{"index": 0, "b64_json": "'},
        "moderated": {"marker": MODERATE},  # 422 naming NSFW content [UNVERIFIED form]
        "quota": {
            "status": 402,
            "body": E.body(E.QUOTA_MESSAGE, "credit_limit", code="credit_limit"),
        },
    }
    APP = TogetherApp
    app: TogetherApp
