"""`GeminiEmulator`: the Gemini API emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import GeminiApp
from .generate import DAILY_QUOTA_SWITCH, IMAGE_SAFETY


class GeminiEmulator(Emulator):
    """The Gemini API (image models) on a loopback socket.

    `base_url` ends in `/v1beta`, like `GEMINI_BASE_URL`. `rate_limit`: requests per minute,
    beyond which a 429 `RESOURCE_EXHAUSTED` with `RetryInfo.retryDelay` (no `Retry-After`
    header, as at Google); `daily_quota`: requests per day, after which every request is a
    429 with a per-day `quotaId` until `reset()` (None: unlimited). Google's parser refuses
    unknown fields itself, so `strict` changes nothing here.
    """

    NAME = "gemini"
    TITLE = "Gemini API emulator"
    DEFAULT_PORT = 9301
    DEFAULT_API_KEY = "AIza-gemini-emulator"
    BASE_PATH = "/v1beta"
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {"status": 429, "body": E.rate_limited(1.0, "gemini").body()},
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {
            "status": 200,
            "body": '{"candidates": [{"content": {"parts": [{"inlineData": {"data": "iVBOR',
        },
        # no "moderated": the Gemini API refuses with HTTP 200 (REFERENCE-MORE §1.4)
        "moderated_200": {"marker": IMAGE_SAFETY},
        "quota": {DAILY_QUOTA_SWITCH: True},
    }
    app: GeminiApp

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: int | None = None,
        daily_quota: int | None = None,
        strict: bool = False,
    ) -> None:
        app = GeminiApp(api_key, self.SCENARIO_FAULTS, rate_limit, daily_quota, strict)
        super().__init__(app, host=host, port=port)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--rate-limit", type=cli.count, default=0, help="requests per minute; 0 = unlimited"
        )
        parser.add_argument(
            "--daily-quota",
            type=cli.count,
            default=0,
            help="requests per day, then 429 until reset; 0 = unlimited",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> GeminiEmulator:
        return cls(
            **cls.standard_options(args),
            rate_limit=args.rate_limit or None,
            daily_quota=args.daily_quota or None,
        )
