"""`RecraftEmulator`: the Recraft emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, RecraftApp


class RecraftEmulator(Emulator):
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
    POLL_ROLE = "results"
    POLL_ROLE_HELP = "result downloads"
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
    app: RecraftApp

    def __init__(
        self,
        api_key: str = "recraft-emulator",
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        strict: bool = False,
        url_ttl: float = 86400.0,
        rate_limit: int | None = None,
    ) -> None:
        app = RecraftApp(api_key, self.SCENARIO_FAULTS, strict, url_ttl, rate_limit)
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
    def from_args(cls, args: argparse.Namespace) -> RecraftEmulator:
        return cls(
            **cls.standard_options(args),
            url_ttl=args.url_ttl,
            rate_limit=args.rate_limit or None,
        )
