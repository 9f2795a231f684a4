"""`ReplicateEmulator`: the Replicate emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import ReplicateApp


class ReplicateEmulator(Emulator):
    """Replicate's API (`base_url` ends in `/v1`, like `https://api.replicate.com/v1`) on one
    listener; its file host (`poll_base_url`, where output URLs point, like
    `replicate.delivery`) on a second one.

    `queue_seconds`/`generation_seconds`: how long a prediction is `starting`, then
    `processing`. `retention`: seconds before its data is removed (files expire with it).
    `rate_limit`: creations per minute (None: unlimited). `file_auth`: output files need the
    key (the SDK docstring says so; [UNVERIFIED] for every account). `strict`: unknown
    top-level body fields are refused (inputs are always checked, as Replicate does).
    """

    NAME = "replicate"
    TITLE = "Replicate emulator"
    DEFAULT_PORT = 10001
    DEFAULT_POLL_PORT = 10002
    POLL_ROLE = "files"
    POLL_ROLE_HELP = "output file downloads"
    DEFAULT_API_KEY = "r8_emulator"
    BASE_PATH = "/v1"
    LENIENT = frozenset({"create"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {
            "status": 429,
            "headers": {"retry-after": "1"},
            "body": {"detail": E.THROTTLED.format(seconds=1), "status": 429},
        },
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 201, "body": '{"id": "'},
        # no "moderated": Replicate's refusals are a failed prediction (REFERENCE-MORE §4.4)
        "moderated_200": {"marker": "[nsfw]"},
        "quota": {"status": 402},
    }
    app: ReplicateApp

    def __init__(
        self,
        api_key: str = "r8_emulator",
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        strict: bool = False,
        queue_seconds: float = 0.0,
        generation_seconds: float = 0.5,
        retention: float = 3600.0,
        rate_limit: int | None = None,
        file_auth: bool = False,
    ) -> None:
        app = ReplicateApp(
            api_key,
            self.SCENARIO_FAULTS,
            strict,
            queue_seconds=queue_seconds,
            generation_seconds=generation_seconds,
            retention=retention,
            rate_limit=rate_limit,
            file_auth=file_auth,
        )
        super().__init__(app, host=host, port=port, poll_port=poll_port, poll_host=poll_host)

    def bound(self) -> None:
        self.app.book.api_base = self.url or ""
        self.app.book.file_base = self.poll_base_url

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--queue-seconds", type=cli.amount, default=0.0, help="time spent `starting`"
        )
        parser.add_argument(
            "--generation-seconds", type=cli.amount, default=0.5, help="time spent `processing`"
        )
        parser.add_argument(
            "--retention", type=cli.amount, default=3600.0, help="seconds before data is removed"
        )
        parser.add_argument(
            "--rate-limit", type=cli.count, default=0, help="creations per minute; 0 = unlimited"
        )
        parser.add_argument(
            "--file-auth", action="store_true", help="output files need the Bearer key"
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ReplicateEmulator:
        return cls(
            **cls.standard_options(args),
            queue_seconds=args.queue_seconds,
            generation_seconds=args.generation_seconds,
            retention=args.retention,
            rate_limit=args.rate_limit or None,
            file_auth=args.file_auth,
        )
