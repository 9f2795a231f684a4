"""`IdeogramEmulator`: the Ideogram emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit import cli
from ..kit.results import ResultHostEmulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, UNSAFE, IdeogramApp


class IdeogramEmulator(ResultHostEmulator):
    """Ideogram's API (`base_url` has no path, like `https://api.ideogram.ai`) on one listener,
    its result host (`poll_base_url`, where result URLs point) on a second one.

    `url_ttl`: seconds a result URL stays valid. `max_in_flight`: requests served at once
    (Ideogram's default 10), beyond which a 429. `generation_seconds`: how long a call takes.
    `strict=True` refuses fields an endpoint does not take and a resolution beside an aspect
    ratio (what Ideogram does with either is not documented: lenient by default).
    """

    NAME = "ideogram"
    TITLE = "Ideogram emulator"
    DEFAULT_PORT = 10401
    DEFAULT_POLL_PORT = 10402
    DEFAULT_API_KEY = "ideogram-emulator"
    LENIENT = frozenset({"generate", "edit"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {
            "status": 429,
            "headers": {"retry-after": "1"},
            "body": {"detail": "Too many requests."},
        },
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"created": "2026-11-30", "data": [{"url'},
        "moderated": {"marker": MODERATE},  # 422 "Prompt failed the safety check."
        "moderated_200": {"marker": UNSAFE},  # 200, is_image_safe: false, empty URL
        "quota": {"status": 402, "body": E.no_funds()},  # reject_reason insufficient_funds
    }
    RATE_HELP = None  # Ideogram limits requests in flight, not per minute
    app: IdeogramApp

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        strict: bool = False,
        url_ttl: float = 3600.0,
        max_in_flight: int | None = 10,
        generation_seconds: float = 0.0,
    ) -> None:
        app = IdeogramApp(
            api_key, self.SCENARIO_FAULTS, strict, url_ttl, max_in_flight, generation_seconds
        )
        super().__init__(host=host, port=port, poll_port=poll_port, poll_host=poll_host, app=app)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--max-in-flight",
            type=cli.count,
            default=10,
            help="requests served at once (default 10, Ideogram's); 0 = unlimited",
        )
        parser.add_argument(
            "--generation-seconds", type=cli.amount, default=0.0, help="time a call takes"
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> IdeogramEmulator:
        return cls(
            **cls.standard_options(args),
            **cls.result_options(args),
            max_in_flight=args.max_in_flight or None,
            generation_seconds=args.generation_seconds,
        )
