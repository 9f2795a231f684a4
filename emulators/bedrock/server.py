"""`BedrockEmulator`: the Bedrock emulator as a kit `Emulator`: its identity (access key,
secret, region), its scenarios and its command-line switches."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any, ClassVar

from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from .app import MODERATE, BedrockApp
from .sigv4 import Identity

DEFAULT_PORT = 9701
# Shaped like AWS's (20 characters, `AKIA`); the emulator's own, accepted nowhere else.
ACCESS_KEY_ID = "AKIAEMULATOREXAMPLE0"
REGION = "us-east-1"


class BedrockEmulator(Emulator):
    """An Amazon Bedrock Runtime (InvokeModel) emulator on a real loopback socket.

    `api_key` is the secret access key of `access_key_id` (SigV4) and is also accepted as a
    Bedrock API key (`Authorization: Bearer`); `region` is the one the signatures must be
    scoped to; `session_token`, when set, must come with every request. Nova/Titan bodies are
    always validated strictly (a JSON schema at Bedrock); Stability's unknown fields are
    ignored unless `strict`.
    """

    NAME = "bedrock"
    TITLE = "Amazon Bedrock emulator"
    DEFAULT_PORT = DEFAULT_PORT
    DEFAULT_API_KEY = "bedrock-emulator-secret"
    LENIENT = frozenset({"invoke"})  # Stability bodies only
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        # Bedrock sends no retry hint (none is documented): a plain ThrottlingException.
        "rate_limited": {"status": 429},
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"images": ["iVBORw0KGgo'},
        "moderated": {"marker": MODERATE},  # Nova/Titan: 400; Stability: its 200 form
        # no "moderated_200" as a standard scenario: only Stability models refuse with an HTTP
        # 200 (`[moderate]` on a Stability model), and the scenarios run on any model
        "quota": {
            "status": 400,
            "headers": {"x-amzn-errortype": E.type_header("ServiceQuotaExceededException")},
            "body": {"message": E.MESSAGES["ServiceQuotaExceededException"]},
        },
    }

    app: BedrockApp

    def __init__(
        self,
        api_key: str = "bedrock-emulator-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        strict: bool = False,
        access_key_id: str = ACCESS_KEY_ID,
        region: str = REGION,
        session_token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        identity = Identity(access_key_id, api_key, region, session_token)
        app = BedrockApp(identity, self.SCENARIO_FAULTS, strict, clock)
        super().__init__(app, host=host, port=port)

    @property
    def identity(self) -> Identity:
        return self.app.identity

    def gateway_settings(self) -> dict[str, str]:
        """SigV4 with the emulator's access key: `BEDROCK_BASE_URL`, `_REGION`,
        `_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY` (and `_SESSION_TOKEN`)."""
        settings = {
            "BASE_URL": self.base_url,
            "REGION": self.identity.region,
            "ACCESS_KEY_ID": self.identity.access_key_id,
            "SECRET_ACCESS_KEY": self.identity.secret,
        }
        if self.identity.session_token is not None:
            settings["SESSION_TOKEN"] = self.identity.session_token
        return settings

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--region", default=REGION, help=f"the region signatures are scoped to ({REGION})"
        )
        parser.add_argument(
            "--access-key-id",
            default=ACCESS_KEY_ID,
            help=f"the accepted access key id ({ACCESS_KEY_ID}); --api-key is its secret",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BedrockEmulator:
        options: dict[str, Any] = cls.standard_options(args)
        return cls(**options, region=args.region, access_key_id=args.access_key_id)
