"""`StabilityEmulator`: the Stability emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import FILTERED, MODERATE, StabilityApp


class StabilityEmulator(Emulator):
    """Stability's REST v2beta Stable Image API on one listener (`base_url` has no path, like
    `https://api.stability.ai`).

    `rate_limit`: requests per 10 s (Stability's 150 by default), beyond which every request
    is a 429 for `lockout` seconds (60). `strict=True` refuses fields an endpoint does not take
    (Stability's behaviour for them is not documented: lenient by default).
    """

    NAME = "stability"
    TITLE = "Stability emulator"
    DEFAULT_PORT = 10201
    DEFAULT_API_KEY = "sk-stability-emulator"
    LENIENT = frozenset({"generate", "edit"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {
            "status": 429,
            "headers": {"retry-after": "1"},
            "body": {
                "id": "rate_limit_exceeded",
                "name": "rate_limit_exceeded",
                "errors": [E.RATE_LIMIT],
            },
        },
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {
            "status": 200,
            "body": '{"image": "iVBORw0',
            "headers": {"content-type": "application/json; type=image/png"},
        },
        "moderated": {"marker": MODERATE},  # 403 content_moderation
        "moderated_200": {"marker": FILTERED},  # 200 finish_reason CONTENT_FILTERED
        "quota": {"status": 402},  # payment_required [3P]
    }
    app: StabilityApp

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        strict: bool = False,
        rate_limit: int | None = 150,
        lockout: float = 60.0,
    ) -> None:
        app = StabilityApp(api_key, self.SCENARIO_FAULTS, strict, rate_limit, lockout)
        super().__init__(app, host=host, port=port)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--rate-limit",
            type=cli.count,
            default=150,
            help="requests per 10 s (default 150); 0 = unlimited",
        )
        parser.add_argument(
            "--lockout",
            type=cli.amount,
            default=60.0,
            help="seconds every request is refused once over the limit (default 60)",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> StabilityEmulator:
        return cls(
            **cls.standard_options(args),
            rate_limit=args.rate_limit or None,
            lockout=args.lockout,
        )
