"""`VertexEmulator`: the Vertex AI emulator as a kit `Emulator`, its scenarios, its service
account's key file and its command-line switches."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from . import errors as E
from . import imagen
from .app import TOKEN_PATH, VertexApp

DEFAULT_PORT = 9601
# Shares no 8-character run with DEFAULT_API_KEY (which every access token carries): the
# gateway redacts any such run of a token, and a project id is no secret.
DEFAULT_PROJECT = "imagegw-demo"


class VertexEmulator(Emulator):
    """A Vertex AI emulator on a real loopback socket, with one service account of `project`.

    Once started, `credentials_file` is that account's JSON key file (in a temporary folder
    removed at stop), whose `token_uri` is this emulator's `/token`: the gateway's
    `VERTEX_AI_CREDENTIALS_FILE`. `api_key` is the express-mode key (and part of every access
    token, so a leaked token shows as a leaked key). `token_ttl`: seconds an access token
    lives; `rate_limit`: calls per minute beyond which a 429 RESOURCE_EXHAUSTED (None:
    unlimited). Vertex ignores unknown names inside `parameters` and an instance; `strict`
    refuses them.
    """

    NAME = "vertex"
    PROVIDER = "vertex-ai"
    TITLE = "Vertex AI emulator"
    DEFAULT_PORT = DEFAULT_PORT
    DEFAULT_API_KEY = "AIza-vertex-emulator"
    LENIENT = frozenset({"predict"})
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        # Vertex's 429 text; its retry hint as the Gemini API gives it (RetryInfo) [UNVERIFIED].
        "rate_limited": {"status": 429, "body": E.resource_exhausted("1s").body()},
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {"status": 200, "body": '{"predictions": [{"bytesBase64Encoded": "'},
        "moderated": {"marker": imagen.MODERATE},  # 400 "... Error Code: 58061214"
        "moderated_200": {"marker": imagen.FILTER_ALL},  # 200, every image filtered
        "quota": {"status": 403, "body": E.billing_disabled(DEFAULT_PROJECT).body()},
    }

    app: VertexApp

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        project: str = DEFAULT_PROJECT,
        token_ttl: float = 3600.0,
        rate_limit: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        strict: bool = False,
    ) -> None:
        app = VertexApp(
            api_key=api_key,
            project=project,
            token_ttl=token_ttl,
            rate_limit=rate_limit,
            scenarios=self.SCENARIO_FAULTS,
            strict=strict,
        )
        super().__init__(app, host=host, port=port)
        self._folder: Path | None = None
        self.credentials_file: Path | None = None

    @property
    def project(self) -> str:
        return self.app.project

    @property
    def token_uri(self) -> str:
        if self.url is None:
            raise RuntimeError("emulator not started")
        return self.url + TOKEN_PATH

    def bound(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="vertex-emulator-"))
        self.credentials_file = self.write_credentials(self._folder / "service-account.json")

    def write_credentials(self, path: Path, forged: bool = False) -> Path:
        """The service account's key file at `path`; `forged`: another private key under the
        same names (the token endpoint refuses its assertions)."""
        return self.app.account.write_key_file(path, self.token_uri, forged)

    def stop(self) -> None:
        super().stop()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def gateway_settings(self) -> dict[str, str]:
        """The gateway's wiring: this host, the project, and the key file (OAuth tokens from
        here); `VERTEX_AI_API_KEY` (express mode) is left out, a project wins over it."""
        return {
            "BASE_URL": self.base_url,
            "PROJECT": self.project,
            "LOCATION": "us-central1",
            "CREDENTIALS_FILE": str(self.credentials_file),
        }

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--project",
            default=DEFAULT_PROJECT,
            help=f"the one project (default {DEFAULT_PROJECT})",
        )
        parser.add_argument(
            "--token-ttl",
            type=cli.amount,
            default=3600.0,
            help="seconds an access token lives (default 3600)",
        )
        parser.add_argument(
            "--rate-limit",
            type=cli.count,
            default=None,
            help="calls per minute before a 429 RESOURCE_EXHAUSTED (default: unlimited)",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> VertexEmulator:
        return cls(
            **cls.standard_options(args),
            project=args.project,
            token_ttl=args.token_ttl,
            rate_limit=args.rate_limit,
        )

    def ready_text(self) -> str:
        return super().ready_text() + f"\n  express mode: VERTEX_AI_API_KEY={self.api_key}"
