"""`OpenAIEmulator`: the OpenAI Images emulator as a kit `Emulator`, its scenarios and its
command-line switches."""

from __future__ import annotations

import argparse
from typing import Any, ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import OpenAIApp
from .params import MODERATION_MARKER

DEFAULT_PORT = 9101


class OpenAIEmulator(Emulator):
    """An OpenAI Images API emulator on a real loopback socket.

    `base_url` ends in `/v1`, like OpenAI's, so it can be handed to `openai.OpenAI(base_url=...)`.
    `rate_limit`: requests per minute per key, beyond which a 429 `rate_limit_exceeded` with
    `retry-after` and `retry-after-ms` (None: unlimited). OpenAI refuses unknown fields itself
    (`Unknown parameter`), so `strict` changes nothing here.
    """

    NAME = "openai"
    TITLE = "OpenAI Images emulator"
    DEFAULT_PORT = DEFAULT_PORT
    DEFAULT_API_KEY = "sk-emulator"
    BASE_PATH = "/v1"
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        # openai-python reads retry-after-ms, then retry-after.
        "rate_limited": {"status": 429, "headers": {"retry-after": "1", "retry-after-ms": "1000"}},
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {
            "status": 200,
            "body": '{"created": 1700000000, "data": [{"b64_json": "',
        },
        "moderated": {"marker": MODERATION_MARKER},  # 400 moderation_blocked / content_policy
        # no "moderated_200": OpenAI refuses with an HTTP error only
        "quota": {"status": 429, "body": E.INSUFFICIENT_QUOTA.body()},
    }

    app: OpenAIApp

    def __init__(
        self,
        api_key: str = "sk-emulator",
        latency: float = 0.0,
        url_ttl: float = 3600,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: int | None = None,
        strict: bool = False,
        partial_interval: float = 0.05,
    ) -> None:
        app = OpenAIApp(
            api_key=api_key,
            latency=latency,
            url_ttl=url_ttl,
            rate_limit=rate_limit,
            scenarios=self.SCENARIO_FAULTS,
            strict=strict,
            partial_interval=partial_interval,
        )
        super().__init__(app, host=host, port=port)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--latency", type=cli.amount, default=0.0, help="seconds added before each image answer"
        )
        parser.add_argument(
            "--url-ttl",
            type=cli.amount,
            default=3600.0,
            help="lifetime of DALL-E result URLs, seconds",
        )
        parser.add_argument(
            "--rate-limit", type=cli.count, default=0, help="requests per minute; 0 = unlimited"
        )
        parser.add_argument(
            "--partial-interval",
            type=cli.amount,
            default=0.05,
            help="seconds before each event of a streamed answer (stream: true)",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> OpenAIEmulator:
        options: dict[str, Any] = cls.standard_options(args)
        return cls(
            **options,
            latency=args.latency,
            url_ttl=args.url_ttl,
            rate_limit=args.rate_limit or None,
            partial_interval=args.partial_interval,
        )


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    OpenAIEmulator.add_cli_arguments(parser)


def run_cli(args: argparse.Namespace) -> None:
    """Serve until interrupted; print one line with the base URL once it serves."""
    OpenAIEmulator.run_cli(args)
