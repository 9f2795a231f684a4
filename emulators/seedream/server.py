"""`SeedreamEmulator`: the Ark Images emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, MODERATE_200, SeedreamApp


class SeedreamEmulator(Emulator):
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
    POLL_ROLE = "results"
    POLL_ROLE_HELP = "result downloads"
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
    app: SeedreamApp

    def __init__(
        self,
        api_key: str = "ark-emulator-key",
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        strict: bool = False,
        url_ttl: float = 86400.0,
        rate_limit: int | None = None,
    ) -> None:
        app = SeedreamApp(api_key, self.SCENARIO_FAULTS, strict, url_ttl, rate_limit)
        super().__init__(app, host=host, port=port, poll_port=poll_port, poll_host=poll_host)

    def bound(self) -> None:
        self.app.result_base = self.poll_base_url

    def ready_text(self) -> str:
        return super().ready_text().replace(", polling ", ", results ", 1)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--url-ttl", type=cli.amount, default=86400.0, help="result URL lifetime (s)"
        )
        parser.add_argument(
            "--rate-limit", type=cli.count, default=0, help="requests per minute; 0 = unlimited"
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SeedreamEmulator:
        return cls(
            **cls.standard_options(args),
            url_ttl=args.url_ttl,
            rate_limit=args.rate_limit or None,
        )
