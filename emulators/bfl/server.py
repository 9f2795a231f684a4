"""`BFLEmulator`: BFL's emulator as a kit `Emulator`, its scenarios and command-line switches."""

from __future__ import annotations

import argparse
from typing import ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from .app import BFLApp
from .tasks import BFLState

_BUSY = (
    "You have reached the maximum number of active tasks (24) for this key. Please wait for a "
    "task to finish before submitting a new one."
)


class BFLEmulator(Emulator):
    """Black Forest Labs API emulator on two loopback listeners.

    `base_url` (submit API, no `/v1` suffix, like `https://api.bfl.ai`) and `poll_base_url`
    (where `polling_url` and the signed `result.sample` URLs point; a different port and,
    with `poll_host="localhost"`, a different host name). A limit of None disables it.
    `report_cost=False` answers submissions without `cost` (BFL's answers of 2024-25).
    BFL ignores unknown fields; `strict=True` refuses them with a 422.
    """

    NAME = "bfl"
    PROVIDER = "bfl-flux"
    PROVIDER_ENV_ALIASES = ("BFL",)  # the gateway also reads BFL_API_KEY, BFL_BASE_URL, ...
    TITLE = "BFL emulator"
    DEFAULT_PORT = 9201
    DEFAULT_POLL_PORT = 9202
    DEFAULT_API_KEY = "bfl-emulator"
    LENIENT = frozenset({"submit"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {"status": 429, "headers": {"retry-after": "1"}, "body": {"detail": _BUSY}},
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"id": "'},
        # no "moderated": BFL moderates with an HTTP 200 poll status (REFERENCE §2)
        "moderated_200": {"marker": "[moderate-request]"},
        "quota": {"status": 402, "body": {"detail": "Insufficient credits"}},
    }
    app: BFLApp

    def __init__(
        self,
        api_key: str = "bfl-emulator",
        generation_seconds: float = 1.0,
        sample_ttl: float = 600.0,
        concurrency_limit: int | None = 24,
        kontext_max_limit: int | None = 6,
        credits: float = 1e9,
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        task_retention: float = 3600.0,
        max_tasks: int = 20000,
        report_cost: bool = True,
        strict: bool = False,
    ) -> None:
        state_options = {
            "generation_seconds": generation_seconds,
            "sample_ttl": sample_ttl,
            "concurrency_limit": concurrency_limit,
            "kontext_max_limit": kontext_max_limit,
            "credits": credits,
            "task_retention": task_retention,
            "max_tasks": max_tasks,
            "report_cost": report_cost,
        }
        app = BFLApp(api_key, state_options, self.SCENARIO_FAULTS, strict)
        super().__init__(app, host=host, port=port, poll_port=poll_port, poll_host=poll_host)

    @property
    def state(self) -> BFLState:
        return self.app.state

    def bound(self) -> None:
        self.state.poll_base_url = self.poll_base_url

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--generation-seconds",
            type=cli.amount,
            default=1.0,
            help="how long a task stays Pending before it is Ready (default 1)",
        )
        parser.add_argument(
            "--sample-ttl", type=cli.amount, default=600.0, help="sample URL lifetime (s)"
        )
        parser.add_argument(
            "--concurrency-limit",
            type=cli.count,
            default=24,
            help="active tasks per key; 0 = unlimited",
        )
        parser.add_argument(
            "--kontext-max-limit",
            type=cli.count,
            default=None,
            help="active flux-kontext-max tasks; 0 = unlimited "
            "(default 6, or unlimited when --concurrency-limit is 0)",
        )
        parser.add_argument(
            "--credits", type=cli.amount, default=1e9, help="the key's balance (default 1e9)"
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BFLEmulator:
        limit = args.concurrency_limit or None
        kontext = args.kontext_max_limit
        if kontext is None:
            kontext = 6 if limit else 0
        return cls(
            **cls.standard_options(args),
            generation_seconds=args.generation_seconds,
            sample_ttl=args.sample_ttl,
            concurrency_limit=limit,
            kontext_max_limit=kontext or None,
            credits=args.credits,
        )


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    BFLEmulator.add_cli_arguments(parser)


def run_cli(args: argparse.Namespace) -> None:
    """Serve both listeners in the foreground until interrupted."""
    BFLEmulator.run_cli(args)
