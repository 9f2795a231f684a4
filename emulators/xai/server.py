"""`XAIEmulator`: the xAI Images emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

from typing import ClassVar

from ..kit.results import ResultHostEmulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, MODERATE_IMAGE, XAIApp


class XAIEmulator(ResultHostEmulator):
    """xAI's Images API (`base_url` ends in `/v1`, like `https://api.x.ai/v1`) on one listener,
    its result host (`poll_base_url`, where `url` results point) on a second one.

    `url_ttl`: seconds a result URL stays valid. `rate_limit`: requests per minute, beyond which
    a 429 "Rate limit exceeded" (None: unlimited). xAI silently falls back to defaults for bad
    values and drops reference images sent to `/generations`; `strict=True` refuses each with a
    400 instead (`params.py`).
    """

    NAME = "xai"
    TITLE = "xAI Images emulator"
    DEFAULT_PORT = 9801
    DEFAULT_POLL_PORT = 9802
    DEFAULT_API_KEY = "xai-emulator"
    BASE_PATH = "/v1"
    LENIENT = frozenset({"generate", "edit"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {
            "status": 429,
            "headers": {"retry-after": "1"},
            "body": {"code": E.RESOURCE_EXHAUSTED, "error": "Rate limit exceeded"},
        },
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"data": [{"url": "'},
        "moderated": {"marker": MODERATE},  # 403 "Content violates usage guidelines"
        "moderated_200": {"marker": MODERATE_IMAGE},  # 200, respect_moderation: false
        "quota": {"status": 429, "body": {"code": E.RESOURCE_EXHAUSTED, "error": E.QUOTA_MESSAGE}},
    }
    APP = XAIApp
    app: XAIApp
