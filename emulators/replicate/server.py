"""`ReplicateEmulator`: the Replicate emulator as a kit `Emulator`, its scenarios and switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit.jobs import JobEmulator, job_options
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import ReplicateApp
from .predictions import SWITCHES


class ReplicateEmulator(JobEmulator):
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
    SWITCHES = SWITCHES
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
        queue_seconds: float = SWITCHES.queue_seconds,
        generation_seconds: float = SWITCHES.generation_seconds,
        retention: float = SWITCHES.retention,
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
        super().__init__(
            app, app.book, host=host, port=port, poll_port=poll_port, poll_host=poll_host
        )

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--file-auth", action="store_true", help="output files need the Bearer key"
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ReplicateEmulator:
        return cls(**cls.standard_options(args), **job_options(args), file_auth=args.file_auth)
