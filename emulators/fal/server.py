"""`FalEmulator`: the fal emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit import cli
from ..kit.jobs import JobEmulator, job_options
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import FalApp
from .queue import SWITCHES


class FalEmulator(JobEmulator):
    """fal's queue (`base_url` like `https://queue.fal.run`) on one listener; its CDN
    (`poll_base_url`, where result images are, like `v3.fal.media`) on a second one.

    `queue_seconds`/`generation_seconds`: how long a request is IN_QUEUE, then IN_PROGRESS.
    `retention`/`large_retention`: seconds a result is kept after completion (fal: an hour; 6
    minutes for a result of 10 KB or more). `rate_limit`: submissions per minute (None:
    unlimited; fal's queue absorbs concurrency, REFERENCE-MORE §10.3). `strict`: unknown input
    fields are a 422.
    """

    NAME = "fal"
    TITLE = "fal emulator"
    DEFAULT_PORT = 10101
    DEFAULT_POLL_PORT = 10102
    POLL_ROLE = "files"
    POLL_ROLE_HELP = "result image downloads"
    SWITCHES = SWITCHES
    DEFAULT_API_KEY = "fal-emulator-key"
    LENIENT = frozenset({"submit"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {"status": 429, "headers": {"retry-after": "1"}},
        "server_error": {"status": 503},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"request_id": "'},
        "moderated": {"status": 422, "body": E.content_policy()},
        "moderated_200": {"marker": "[nsfw]"},
        "quota": {"status": 403},
    }
    app: FalApp

    def __init__(
        self,
        api_key: str = "fal-emulator-key",
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        strict: bool = False,
        queue_seconds: float = SWITCHES.queue_seconds,
        generation_seconds: float = SWITCHES.generation_seconds,
        retention: float = SWITCHES.retention,
        large_retention: float = 360.0,
        rate_limit: int | None = None,
    ) -> None:
        app = FalApp(
            api_key,
            self.SCENARIO_FAULTS,
            strict,
            queue_seconds=queue_seconds,
            generation_seconds=generation_seconds,
            retention=retention,
            large_retention=large_retention,
            rate_limit=rate_limit,
        )
        super().__init__(
            app, app.book, host=host, port=port, poll_port=poll_port, poll_host=poll_host
        )

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--large-retention",
            type=cli.amount,
            default=360.0,
            help="seconds a result of 10 KB or more is kept (default 360)",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> FalEmulator:
        return cls(
            **cls.standard_options(args),
            **job_options(args),
            large_retention=args.large_retention,
        )
