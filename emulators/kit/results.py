"""A synchronous emulator's result host: `url` answers on its second listener, signed, expiring
placeholder images; and the app and emulator bases that serve it.

    host = ResultHost("/imgproxy/", Look("Together emulator", ...), formats={"jpeg": "jpg"},
                      sign_format=True, ttl=3600)
    host.url(app.result_base, 1024, 768, "jpeg")
        # -> http://127.0.0.1:10502/imgproxy/<hex>.jpg?se=<unix s>&w=1024&h=768&f=jpeg&sig=...
    await host.serve(path, query, send, fake)   # True when an image was served

A URL carries its size (and with `sign_format` its format; else the name's extension says it)
in the signed query, so a download needs no record; an expired or altered URL, or a signed size
outside 1..`max_side`, is a 403 (`signed_urls.forbidden`, the kit's refusal). Images are the
kit's `Placeholders` in `look`; a subclass overrides `image` for other files (Recraft's SVG).

`ResultHostApp` owns the host, the counters (`COUNTERS`, with `results_served` and
`result_requests_with_key`: a download carrying a key, which the gateway must never send), a
`RateLimit` and the second listener's origin (`result_base`, set by `ResultHostEmulator.bound`).
It classifies and answers downloads itself (kind `result`) and hands the API to
`classify_api` / `handle_api`. `ResultHostEmulator` adds `--url-ttl` and `--rate-limit` (the
provider's default and help as class data) and builds the app from `APP`.
"""

from __future__ import annotations

import argparse
import hashlib
import time
import uuid
from abc import abstractmethod
from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs

from . import auth, cli
from .asgi import Receive, Scope, Send, send_bytes
from .counting import CountingApp
from .emulator import Emulator
from .faults import Fault, FaultRules
from .placeholder import MIME, Look, Placeholders
from .scenarios import ScenarioTable
from .signed_urls import SignedUrls, forbidden


def hex_stem() -> str:
    """A file name's stem: 32 hex digits."""
    return uuid.uuid4().hex


class ResultHost:
    """Signed, expiring result URLs under `prefix` and the placeholder images behind them.

    `formats`: format -> the file name's extension (`{"jpeg": "jpg", "png": "png"}`).
    `sign_format`: the format rides in the signed query (`f`); else it is read back from the
    extension. `stem`: a new file name's stem. `mime`: format -> content type. `max_side`:
    the largest signed side served (`math.inf`: any).
    """

    def __init__(
        self,
        prefix: str,
        look: Look,
        *,
        ttl: float,
        max_side: float = 4096,
        formats: Mapping[str, str] | None = None,
        sign_format: bool = False,
        stem: Callable[[], str] = hex_stem,
        mime: Mapping[str, str] = MIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prefix, self.ttl, self.max_side = prefix, ttl, max_side
        self.formats = dict(formats or {"png": "png"})
        self.by_extension = {ext: fmt for fmt, ext in self.formats.items()}
        self.sign_format, self.stem, self.mime = sign_format, stem, mime
        self.signed = ("w", "h", "f") if sign_format else ("w", "h")
        self.urls = SignedUrls(clock)
        self.images = Placeholders(look)

    async def image(self, width: int, height: int, fmt: str) -> bytes:
        """The file's bytes (the kit's placeholder)."""
        return (await self.images.get(width, height, fmt)).data

    def url(self, base: str, width: int, height: int, fmt: str, stem: str | None = None) -> str:
        """A result URL on `base` (the result host), valid for `ttl` seconds."""
        name = f"{stem or self.stem()}.{self.formats[fmt]}"
        params: dict[str, Any] = {"w": width, "h": height}
        if self.sign_format:
            params["f"] = fmt
        return self.urls.make(base, self.prefix, name, self.urls.clock() + self.ttl, params)

    async def serve(self, path: str, query: bytes, send: Send, fake: bytes | None) -> bool:
        """Answer a download (True when an image was served; `fake`, a fault's `image`, in its
        place)."""
        name = path[len(self.prefix) :]
        params = {k: v[0] for k, v in parse_qs(query.decode("latin-1")).items()}
        refusal = self.urls.check(name, params, self.signed)
        width = height = 0
        if self.sign_format:
            fmt = params.get("f", "")
        else:
            fmt = self.by_extension.get(name.rpartition(".")[2], "")
        if refusal is None:
            try:
                width, height = int(params["w"]), int(params["h"])
            except ValueError:
                pass
            sides = 0 < width <= self.max_side and 0 < height <= self.max_side
            if not sides or fmt not in self.formats:
                refusal = forbidden("Signed size or format out of range.")
        if refusal is not None:
            await refusal.send(send)
            return False
        data = fake if fake is not None else await self.image(width, height, fmt)
        etag = f'"{hashlib.sha256(name.encode()).hexdigest()[:16]}"'.encode()
        headers = [(b"content-type", self.mime[fmt].encode()), (b"etag", etag)]
        await send_bytes(send, 200, data, headers)
        return True


class ResultHostApp(CountingApp):
    """A synchronous emulator's app whose second listener is a `ResultHost`."""

    COUNTERS: ClassVar[tuple[str, ...]] = (
        "auth_failures",
        "results_served",
        "result_requests_with_key",
    )
    # Headers whose presence on a download counts as `result_requests_with_key`.
    KEY_HEADERS: ClassVar[tuple[str, ...]] = ("authorization",)

    def __init__(
        self,
        api_key: str,
        rules: FaultRules,
        paid: Collection[str],
        scenarios: ScenarioTable,
        strict: bool,
        results: ResultHost,
        rate_limit: int | None = None,
    ) -> None:
        super().__init__(api_key, rules, paid, scenarios, strict, rate_limit)
        self.results = results
        self.result_base = ""  # the result host's origin, once bound

    @abstractmethod
    def classify_api(self, scope: Scope) -> str | None:
        """The kind of a request on the API listener (`classify` for the first listener)."""

    @abstractmethod
    async def handle_api(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        """Answer a request on the API listener (`handle` for any kind but `result`)."""

    def classify(self, scope: Scope) -> str | None:
        if self.on_poll_listener(scope):
            return "result" if scope["path"].startswith(self.results.prefix) else None
        return self.classify_api(scope)

    async def handle(
        self, kind: str | None, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if kind != "result":
            await self.handle_api(kind, scope, receive, send, fault)
            return
        if any(auth.header(scope, name) is not None for name in self.KEY_HEADERS):
            self.count("result_requests_with_key")
        fake = fault.fake_image if fault is not None else None
        if await self.results.serve(scope["path"], scope["query_string"], send, fake):
            self.count("results_served")


class ResultHostEmulator(Emulator):
    """A synchronous emulator: its API on one listener, its `ResultHost` (`poll_base_url`, where
    `url` results point) on a second. `APP(api_key, scenarios, strict, url_ttl, rate_limit)`
    builds the app; `URL_TTL` and the help texts are the provider's switches' defaults
    (`RATE_HELP` None: no `--rate-limit`, a subclass with other switches passes its own)."""

    POLL_ROLE = "results"
    POLL_ROLE_HELP = "result downloads"
    APP: ClassVar[Callable[..., ResultHostApp]]
    URL_TTL: ClassVar[float] = 3600.0
    URL_TTL_HELP: ClassVar[str] = "result URL lifetime (s)"
    RATE_HELP: ClassVar[str | None] = "requests per minute; 0 = unlimited"
    app: ResultHostApp

    def __init__(
        self,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        poll_port: int = 0,
        poll_host: str | None = None,
        strict: bool = False,
        url_ttl: float | None = None,
        rate_limit: int | None = None,
        *,
        app: ResultHostApp | None = None,
    ) -> None:
        """`api_key`/`url_ttl` None: the class's defaults; `app`: one built by a subclass
        with other switches (then `url_ttl`, `rate_limit` are its business)."""
        if app is None:
            ttl = self.URL_TTL if url_ttl is None else url_ttl
            key = self.DEFAULT_API_KEY if api_key is None else api_key
            app = type(self).APP(key, self.SCENARIO_FAULTS, strict, ttl, rate_limit)
        super().__init__(app, host=host, port=port, poll_port=poll_port, poll_host=poll_host)

    def bound(self) -> None:
        self.app.result_base = self.poll_base_url

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--url-ttl", type=cli.amount, default=cls.URL_TTL, help=cls.URL_TTL_HELP
        )
        if cls.RATE_HELP is not None:
            parser.add_argument("--rate-limit", type=cli.count, default=0, help=cls.RATE_HELP)

    @classmethod
    def result_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        """The constructor arguments of the result-host switches (`rate_limit` None:
        unlimited)."""
        options: dict[str, Any] = {"url_ttl": args.url_ttl}
        if cls.RATE_HELP is not None:
            options["rate_limit"] = args.rate_limit or None
        return options

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Self:
        return cls(**cls.standard_options(args), **cls.result_options(args))
