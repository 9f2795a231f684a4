"""`TogetherEmulator`: the Together Images emulator as a kit `Emulator`, its scenarios."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, TogetherApp


class TogetherEmulator(Emulator):
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
    POLL_ROLE = "results"
    POLL_ROLE_HELP = "result downloads"
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
    app: TogetherApp

    def __init__(
        self,
        api_key: str = "together-emulator",
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        strict: bool = False,
        url_ttl: float = 3600.0,
        rate_limit: int | None = None,
    ) -> None:
        app = TogetherApp(api_key, self.SCENARIO_FAULTS, strict, url_ttl, rate_limit)
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
    def from_args(cls, args: argparse.Namespace) -> TogetherEmulator:
        return cls(
            **cls.standard_options(args),
            url_ttl=args.url_ttl,
            rate_limit=args.rate_limit or None,
        )
