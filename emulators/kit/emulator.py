"""`Emulator`: one provider's emulator as a server on one or two loopback listeners, the
uniform handle tests drive (see the package docstring), and its standard command line.

A provider's emulator class sets the class attributes below, builds its `EmulatorApp` in
`__init__`, and says how to build itself from parsed arguments (`from_args`), adding its own
switches in `add_arguments` (with the type functions of `kit/cli.py`, so a bad value is a
one-line usage error).
"""

from __future__ import annotations

import argparse
import socket
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, ClassVar, Self

import uvicorn

from . import cli
from .app import EmulatorApp
from .scenarios import SCENARIOS, ScenarioTable, check_table, scenario_fault
from .server import (
    KEEP_ALIVE_SECONDS,
    BackgroundServer,
    bind_socket,
    client_host,
    serve_until_stopped,
    url_of,
)

GRACEFUL_SHUTDOWN_SECONDS = 2  # Ctrl+C: held (stalled) requests do not keep the CLI alive


class Emulator(ABC):
    NAME: ClassVar[str]  # the registry's and the command line's name: `openai`, `bfl`
    # The gateway's name for the provider, when not NAME (`bfl-flux`): also accepted on the
    # command line, and the prefix of the gateway's variables (`BFL_FLUX_BASE_URL`).
    PROVIDER: ClassVar[str | None] = None
    # Shorter prefixes the gateway also reads the provider's variables under (BFL's own
    # `BFL_API_KEY`: "BFL"), cleared where the emulator is wired in, so none points elsewhere.
    PROVIDER_ENV_ALIASES: ClassVar[tuple[str, ...]] = ()
    TITLE: ClassVar[str]  # what the ready text starts with: "OpenAI Images emulator"
    DEFAULT_PORT: ClassVar[int]
    DEFAULT_API_KEY: ClassVar[str]
    DEFAULT_POLL_PORT: ClassVar[int | None] = None  # set: a second listener (`--poll-port`)
    # What the second listener serves, for the ready text, the demo banner and --help: BFL's
    # task polling and results; xAI's only result downloads ("results").
    POLL_ROLE: ClassVar[str] = "polling"
    POLL_ROLE_HELP: ClassVar[str] = "polling and result downloads"
    BASE_PATH: ClassVar[str] = ""  # what base_url adds to the address: OpenAI's "/v1"
    LENIENT: ClassVar[frozenset[str]] = frozenset()  # request kinds whose real API ignores
    # unknown fields (strict mode refuses them there)
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {}  # scenario name -> the provider's fault

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_table(cls.SCENARIO_FAULTS)

    def __init__(
        self,
        app: EmulatorApp,
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
    ) -> None:
        self.app = app
        self.host, self.port = host, port
        self.poll_port, self.poll_host = poll_port, poll_host or host
        self.url: str | None = None  # scheme://host:port, set once bound
        self.poll_url: str | None = None  # the second listener's, where there is one
        self._server: BackgroundServer | None = None

    # --- the uniform handle --------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        return self.app.api_key

    @property
    def base_url(self) -> str:
        """What the gateway's `<NAME>_BASE_URL` takes."""
        if self.url is None:
            raise RuntimeError("emulator not started")
        return self.url + self.BASE_PATH

    @property
    def poll_base_url(self) -> str:
        """Where polling and result URLs point (the second listener, else the first)."""
        if self.url is None:
            raise RuntimeError("emulator not started")
        return self.poll_url or self.url

    def start(self) -> Self:
        if self._server is not None:
            return self
        sockets = self.bind()
        self.app.stopping.clear()
        server = BackgroundServer(self.app, sockets, timeout_keep_alive=KEEP_ALIVE_SECONDS)
        try:
            server.start()
        except BaseException:
            for sock in sockets:
                sock.close()
            raise
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.app.stopping.set()  # stalled requests let go, so the server stops promptly
        self._server.stop()
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        return self.app.stats()

    def requests(self) -> list[dict[str, Any]]:
        return self.app.log.records()

    def reset(self) -> None:
        self.app.reset()

    def add_faults(self, faults: list[dict[str, Any]]) -> None:
        self.app.queue(faults)

    def clear_faults(self) -> None:
        self.app.faults.clear()

    def supports(self, name: str) -> bool:
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; expected one of {list(SCENARIOS)}")
        return name in self.SCENARIO_FAULTS

    def scenario(self, name: str, times: int = 1) -> None:
        self.app.queue([scenario_fault(self.SCENARIO_FAULTS, name, times)])

    # --- listening -----------------------------------------------------------------------------

    def bind(self) -> list[socket.socket]:
        """Bind the listener(s) (an address in use: OSError naming it) and learn the URLs."""
        sock = bind_socket(self.host, self.port)
        sockets = [sock]
        try:
            if self.DEFAULT_POLL_PORT is not None:
                poll = bind_socket(self.host, self.poll_port)
                sockets.append(poll)
                self.poll_port = poll.getsockname()[1]
                self.poll_url = url_of(poll, client_host(self.poll_host))
                self.app.poll_port = self.poll_port
        except BaseException:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self.url = url_of(sock, client_host(self.host))
        self.bound()
        return sockets

    def bound(self) -> None:  # noqa: B027 - an optional hook
        """Called once the URLs are known (a provider that writes them into its answers)."""

    # --- the gateway's wiring ------------------------------------------------------------------

    @classmethod
    def provider(cls) -> str:
        """The gateway's name for the provider this emulates (`bfl-flux`; else NAME)."""
        return cls.PROVIDER or cls.NAME

    @classmethod
    def variable(cls, setting: str) -> str:
        """The gateway's variable for one of the provider's settings: `BFL_FLUX_BASE_URL`."""
        return f"{cls.provider().replace('-', '_')}_{setting}".upper()

    @classmethod
    def alias_variables(cls, setting: str) -> list[str]:
        """The other variables the gateway reads that setting from: `BFL_BASE_URL`."""
        return [f"{alias}_{setting}".upper() for alias in cls.PROVIDER_ENV_ALIASES]

    def gateway_settings(self) -> dict[str, str]:
        """The provider's settings that point a gateway at this running emulator, by setting
        name: `BASE_URL` and `API_KEY`, and with a second listener `TRUSTED_HOSTS`, its origin
        (the gateway sends the key and fetches results only to trusted origins)."""
        settings = {"BASE_URL": self.base_url, "API_KEY": self.api_key}
        if self.poll_url is not None:
            settings["TRUSTED_HOSTS"] = self.poll_url
        return settings

    def gateway_environment(self) -> dict[str, str]:
        """`gateway_settings()` under the gateway's canonical variables (`BFL_FLUX_*`)."""
        return {self.variable(name): value for name, value in self.gateway_settings().items()}

    def ready_text(self) -> str:
        """What the command line prints once serving: the URL(s), then the gateway's wiring.

        BFL emulator: http://127.0.0.1:9201, polling http://127.0.0.1:9202
          gateway: BFL_FLUX_BASE_URL=http://127.0.0.1:9201 BFL_FLUX_API_KEY=bfl-emulator ...
        """
        line = f"{self.TITLE}: {self.base_url}"
        if self.poll_url is not None:
            line += f", {self.POLL_ROLE} {self.poll_url}"
        wiring = " ".join(f"{name}={value}" for name, value in self.gateway_environment().items())
        return f"{line}\n  gateway: {wiring}"

    # --- the command line ----------------------------------------------------------------------

    @classmethod
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """The standard switches, then the emulator's own (`add_arguments`)."""
        parser.add_argument(
            "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
        )
        parser.add_argument(
            "--port",
            type=cli.port,
            default=cls.DEFAULT_PORT,
            help=f"port (default {cls.DEFAULT_PORT}; 0 = any)",
        )
        if cls.DEFAULT_POLL_PORT is not None:
            parser.add_argument(
                "--poll-port",
                type=cli.port,
                default=None,
                help=f"{cls.POLL_ROLE_HELP} (default {cls.DEFAULT_POLL_PORT}, or any "
                "when --port is 0; 0 = any)",
            )
            parser.add_argument(
                "--poll-host", default=None, help=f"host name in the URLs of {cls.POLL_ROLE_HELP}"
            )
        parser.add_argument(
            "--api-key",
            type=cli.api_key,
            default=cls.DEFAULT_API_KEY,
            help=f"the one accepted key (default {cls.DEFAULT_API_KEY})",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="refuse unknown fields where the real API silently ignores them",
        )
        parser.add_argument(
            "--log-level",
            choices=cli.LOG_LEVELS,
            default="warning",
            help="uvicorn log level (default warning)",
        )
        cls.add_arguments(parser)

    @classmethod  # noqa: B027 - an optional hook
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """The emulator's own switches (none by default)."""

    @classmethod
    def standard_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        """The constructor arguments every emulator takes, from the standard switches."""
        options: dict[str, Any] = {
            "api_key": args.api_key,
            "host": args.host,
            "port": args.port,
            "strict": args.strict,
        }
        if cls.DEFAULT_POLL_PORT is not None:
            options.update(poll_port=cls.poll_port_of(args), poll_host=args.poll_host)
        return options

    @classmethod
    def poll_port_of(cls, args: argparse.Namespace) -> int:
        """`--poll-port`, or when not given: any (0) with `--port 0`, else the default (an
        ephemeral first listener beside a fixed second one would collide between two runs)."""
        if args.poll_port is not None:
            return int(args.poll_port)
        return 0 if args.port == 0 else int(cls.DEFAULT_POLL_PORT or 0)

    @classmethod
    def cli_problem(cls, args: argparse.Namespace) -> str | None:
        """What is wrong with parsed arguments beyond one value (a usage error), else None."""
        if cls.DEFAULT_POLL_PORT is None:
            return None
        return cli.same_port_twice({"--port": args.port, "--poll-port": cls.poll_port_of(args)})

    @classmethod
    def from_options(cls, **options: Any) -> Self:
        """The emulator its command line gives with these switches (`port=0`, `api_key=...`,
        by their argparse names, values already checked) and every other at its default."""
        parser = argparse.ArgumentParser(prog=f"python -m emulators {cls.NAME}")
        cls.add_cli_arguments(parser)
        args = parser.parse_args([])
        unknown = set(options) - set(vars(args))
        if unknown:
            raise TypeError(f"{cls.NAME} has no switches {sorted(unknown)}")
        vars(args).update(options)
        return cls.from_args(args)

    @classmethod
    @abstractmethod
    def from_args(cls, args: argparse.Namespace) -> Self:
        """The emulator the command line asks for."""

    @classmethod
    def run_cli(cls, args: argparse.Namespace) -> None:
        """Serve in the foreground until Ctrl+C; print the ready text once serving."""
        emulator = cls.from_args(args)
        sockets = emulator.bind()
        config = uvicorn.Config(
            emulator.app,
            log_level=args.log_level,
            lifespan="on",
            access_log=False,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        try:
            serve_until_stopped(config, sockets, emulator.ready_text())
        finally:
            emulator.app.stopping.set()
            for sock in sockets:
                sock.close()
