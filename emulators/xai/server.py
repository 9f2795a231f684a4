"""`XAIEmulator`: the xAI Images emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, MODERATE_IMAGE, XAIApp


class XAIEmulator(Emulator):
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
    POLL_ROLE = "results"  # the second listener only serves generated images (no polling)
    POLL_ROLE_HELP = "result downloads"
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
    app: XAIApp

    def __init__(
        self,
        api_key: str = "xai-emulator",
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        strict: bool = False,
        url_ttl: float = 3600.0,
        rate_limit: int | None = None,
    ) -> None:
        app = XAIApp(api_key, self.SCENARIO_FAULTS, strict, url_ttl, rate_limit)
        super().__init__(app, host=host, port=port, poll_port=poll_port, poll_host=poll_host)

    def bound(self) -> None:
        self.app.result_base = self.poll_base_url

    def ready_text(self) -> str:
        return super().ready_text().replace(", polling ", ", results ", 1)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--url-ttl", type=cli.amount, default=3600.0, help="result URL lifetime (s)"
        )
        parser.add_argument(
            "--rate-limit", type=cli.count, default=0, help="requests per minute; 0 = unlimited"
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> XAIEmulator:
        return cls(
            **cls.standard_options(args),
            url_ttl=args.url_ttl,
            rate_limit=args.rate_limit or None,
        )
