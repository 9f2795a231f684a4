"""The one seam through which every upstream (provider) HTTP call goes.

`UpstreamClient` is created once per process (in the app lifespan) with pool limits and
timeouts; adapters call `request()` and get an `UpstreamResponse` with the body fully read
under a byte cap (or, for a 2xx, fed as it arrives to the adapter's `answer_reader`). Every
call gets the connect timeout (UPSTREAM_CONNECT_TIMEOUT_SECONDS, for the DNS lookup and for TCP
and TLS to each address tried) and a read timeout — the longest silence allowed once the
request is sent: the client's (UPSTREAM_READ_TIMEOUT_SECONDS) for short calls such as polls and
downloads, or the call's own (`read_timeout`) where the provider works while it is silent, as
an OpenAI generation does. `deadline` (seconds) bounds a whole
call, the wait for a free connection included.

Transport failures become gateway errors in `upstream.failures.gateway_error()` and nowhere
else (its docstring has the table), with messages that never carry URLs, headers or keys.

The transport is aiohttp, loaded by the first call (a gateway that calls no provider does
without it: tests/test_startup.py). One `ClientSession`, whose `TCPConnector` keeps connections
alive per origin with at most `max_connections` in use (idle ones closed after
`IDLE_TIMEOUT`), caches DNS answers and connects with Happy Eyeballs (RFC 8305) where a name
has several addresses. No redirect is followed and no cookie kept; no proxy or credential is
taken from the environment unless the operator opts in (`trust_env`). `proxy` sends every call
through the operator's proxy; `ca_bundle` adds CAs (a TLS-inspecting proxy's) to the system's.

`open_stream()` sends the same way but keeps a 2xx `text/event-stream` answer open: an
`UpstreamStream` (`upstream.sse`) whose `events()` yields its server-sent events as they
arrive, each under the byte cap, the silence between reads bounded by the read
timeout; a failure while reading is the table's, after a POST `billed_unknown` (the provider
took the call). Any other answer is read whole, as `request()` reads it.

Requests are encoded before anything is sent (`upstream.encoding`); bodies are read under the cap,
and decompressed, by `upstream.body` (which says why aiohttp does not decompress them). A response
left unread (over the cap, silent, abandoned) closes its connection; one that the parser read
to its end may stay pooled, as nothing of it is left on the wire. Another transport is another
class with `request()`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import orjson

from image_gateway.errors import UpstreamError
from image_gateway.upstream.body import BodyReader, read_body
from image_gateway.upstream.encoding import FormPart, encode
from image_gateway.upstream.failures import gateway_error
from image_gateway.upstream.origins import DEFAULT_PORTS
from image_gateway.upstream.sse import Event, UpstreamStream

__all__ = [
    "Event",
    "FormPart",
    "UpstreamClient",
    "UpstreamResponse",
    "UpstreamStream",
]  # FormPart: for the adapters

if TYPE_CHECKING:
    import aiohttp
    from aiohttp.abc import AbstractResolver, ResolveResult
    from yarl import URL

log = logging.getLogger("image_gateway.upstream")

IDLE_TIMEOUT = 30.0  # seconds an unused keep-alive connection is kept
# The response buffer aiohttp fills before it stops reading the socket (its default is 64 KiB):
# a multi-MB image is read in fewer, larger pieces.
READ_BUFFER = 1 << 20
_DEFAULT_HEADERS = {
    "User-Agent": "image-gateway",
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",  # what `upstream.body.Inflater` decodes
}


@dataclass(slots=True)
class UpstreamResponse:
    """An answer read whole; `headers` are case-insensitive (a repeated header: its first
    value). A 2xx body read as it arrived (`request()`'s `answer_reader`) went to `reader`
    instead, and `body` is empty."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    reader: BodyReader | None = None

    def json(self, provider: str) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise self.not_json(provider) from None

    def not_json(self, provider: str) -> UpstreamError:
        """The error of a body that does not parse as JSON."""
        return UpstreamError(
            f"{provider} returned a malformed response (HTTP {self.status}, not JSON)",
            provider=provider,
        )


class UpstreamClient:
    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        max_response_bytes: int,
        proxy: str | None = None,
        trust_env: bool = False,
        ca_bundle: Path | str | None = None,
        happy_eyeballs_delay: float | None = 0.25,
        dns_cache_seconds: int = 300,
    ) -> None:
        """`proxy`: an http(s):// proxy URL (credentials in it are sent as
        Proxy-Authorization) for every call; `trust_env`: take HTTP(S)_PROXY, NO_PROXY (and
        ~/.netrc) from the environment as aiohttp does; `ca_bundle`: a PEM file of CAs trusted
        besides the system's; `happy_eyeballs_delay`: seconds before the next address is tried
        in parallel (None: one after another); `dns_cache_seconds`: 0 = resolve every time."""
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self.max_response_bytes = max_response_bytes
        self.proxy = proxy
        self.trust_env = trust_env
        self.ca_bundle = ca_bundle
        self.happy_eyeballs_delay = happy_eyeballs_delay
        self.dns_cache_seconds = dns_cache_seconds
        self._started = False
        self._tls: ssl.SSLContext | bool = True  # aiohttp's default: the system's CAs
        self._session: aiohttp.ClientSession | None = None
        self._connector: aiohttp.TCPConnector | None = None
        self._timeouts: dict[float | None, aiohttp.ClientTimeout] = {}

    async def start(self) -> None:
        """Ready for calls. aiohttp itself is loaded by the first one (`_open`)."""
        if self.ca_bundle is not None:
            self._tls = ssl.create_default_context()
            self._tls.load_verify_locations(cafile=self.ca_bundle)
        if self.proxy is not None:
            log.info(
                "upstream calls go through a proxy",
                extra={"fields": {"proxy": _without_credentials(self.proxy)}},
            )
        if self.trust_env:
            log.info("upstream calls use the proxies of HTTP_PROXY, HTTPS_PROXY and NO_PROXY")
        self._started = True

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        self._connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            keepalive_timeout=IDLE_TIMEOUT,
            use_dns_cache=self.dns_cache_seconds > 0,
            ttl_dns_cache=self.dns_cache_seconds or None,
            happy_eyeballs_delay=self.happy_eyeballs_delay,
            resolver=cast("AbstractResolver", _Resolver(self.connect_timeout)),
            ssl=self._tls,
        )
        self._session = aiohttp.ClientSession(
            connector=self._connector,
            headers=_DEFAULT_HEADERS,
            cookie_jar=aiohttp.DummyCookieJar(),
            proxy=self.proxy,
            trust_env=self.trust_env,
            timeout=self._timeout(None),
            auto_decompress=False,  # `upstream.body` does it, under the byte cap
            read_bufsize=READ_BUFFER,
        )
        return self._session

    @property
    def started(self) -> bool:
        return self._started

    def pool_stats(self) -> dict[str, float]:
        """Connections in use (connecting included) and idle (open, kept for reuse): metrics and
        the fault tests' "pool idle". aiohttp keeps no public counters: these are its
        connector's own sets, read as the pinned version keeps them (tests/upstream)."""
        connector = self._connector
        if connector is None or connector.closed:
            return {"in_use": 0, "idle": 0}
        idle = sum(1 for conns in connector._conns.values() for p, _ in conns if p.is_connected())
        return {"in_use": len(connector._acquired), "idle": idle}

    async def close(self) -> None:
        self._started = False
        if self._session is not None:
            await self._session.close()
            self._session = self._connector = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        provider: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        form: list[FormPart] | None = None,
        content: bytes | None = None,
        deadline: float | None = None,
        read_timeout: float | None = None,
        answer_reader: Callable[[], BodyReader] | None = None,
    ) -> UpstreamResponse:
        """Send one request; the body is `json`, a multipart `form`, or `content` (bytes sent as
        they are, typed by the Content-Type in `headers`). `deadline` (seconds) bounds the whole
        exchange, body included, and `read_timeout` (seconds; None: the client's) the silence
        once the request is sent. A 2xx answer's body is fed, as it arrives, to a new
        `answer_reader()` (`UpstreamResponse.reader`), under the same cap and with the same
        failures as a body read whole; any other answer is read whole.

        No redirect is followed: a 3xx is returned as it is.
        """
        if not self._started:
            raise RuntimeError("UpstreamClient.start() was not awaited")
        session = self._session if self._session is not None else self._open()
        # Whether the request may be sent again: only when it never left (no connection), and
        # only for a POST — the adapters' GETs (polls, downloads) follow a submission the
        # provider already accepted, so re-running the adapter call would pay twice. After the
        # request was sent the outcome is unknown (`billed_unknown`): never re-sent. So is a
        # 2xx answer to it that cannot be read whole (the provider accepted, and may charge);
        # one read whole is the adapter's to judge (`ProviderError.after_acceptance`).
        first_send = method == "POST"
        try:
            target, send_headers, data = encode(method, url, headers, json, form, content)
        except ValueError:  # a URL or header we cannot send: it never left
            raise UpstreamError(
                f"request to {provider} is not valid HTTP", provider=provider
            ) from None
        exchange = self._exchange(
            session, method, target, send_headers, data, self._timeout(read_timeout), answer_reader
        )
        try:
            if deadline is None:
                return await exchange
            async with asyncio.timeout(deadline):
                return await exchange
        except Exception as exc:
            error = gateway_error(exc, provider, first_send)
            if error is None:
                raise
            raise error from None

    async def open_stream(
        self,
        method: str,
        url: str,
        *,
        provider: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        form: list[FormPart] | None = None,
        content: bytes | None = None,
        read_timeout: float | None = None,
    ) -> UpstreamResponse | UpstreamStream:
        """Send one request as `request()` does; a 2xx `text/event-stream` answer comes back
        open (`UpstreamStream`: read its `events()`, then close it), any other read whole.
        `read_timeout` bounds each silence of the stream, not its length."""
        if not self._started:
            raise RuntimeError("UpstreamClient.start() was not awaited")
        session = self._session if self._session is not None else self._open()
        first_send = method == "POST"  # as in `request()`
        try:
            target, send_headers, data = encode(method, url, headers, json, form, content)
        except ValueError:
            raise UpstreamError(
                f"request to {provider} is not valid HTTP", provider=provider
            ) from None
        limits = self._timeout(read_timeout)
        try:
            resp = await session.request(
                method,
                target,
                headers=send_headers,
                data=data,
                timeout=limits,
                allow_redirects=False,
            )
            content_type = resp.headers.get("Content-Type", "").lower()
            if 200 <= resp.status < 300 and content_type.startswith("text/event-stream"):
                return UpstreamStream(resp, provider, self.max_response_bytes)
            try:
                body = await read_body(resp, method, self.max_response_bytes)
            except BaseException:
                resp.close()
                raise
            resp.release()
            return UpstreamResponse(resp.status, resp.headers, body)
        except Exception as exc:
            error = gateway_error(exc, provider, first_send)
            if error is None:
                raise
            raise error from None

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        method: str,
        target: URL,
        headers: dict[str, str],
        data: bytes | AsyncIterator[bytes] | None,
        limits: aiohttp.ClientTimeout,
        answer_reader: Callable[[], BodyReader] | None,
    ) -> UpstreamResponse:
        resp = await session.request(
            method, target, headers=headers, data=data, timeout=limits, allow_redirects=False
        )
        reader = None
        if answer_reader is not None and 200 <= resp.status < 300:
            reader = answer_reader()
        try:
            body = await read_body(resp, method, self.max_response_bytes, reader)
        except BaseException:
            resp.close()  # the connection, mid-body or over the cap, is never reused
            raise
        resp.release()
        return UpstreamResponse(resp.status, resp.headers, body, reader)

    def _timeout(self, read_timeout: float | None) -> aiohttp.ClientTimeout:
        timeout = self._timeouts.get(read_timeout)
        if timeout is None:
            import aiohttp

            # sock_connect: TCP and TLS (per address); `_Resolver` bounds DNS. No `connect`,
            # which would also bound the wait for a free connection: the deadline does that.
            timeout = aiohttp.ClientTimeout(
                total=None,
                sock_connect=self.connect_timeout,
                sock_read=self.read_timeout if read_timeout is None else read_timeout,
            )
            if len(self._timeouts) < 64:  # calls use a few fixed values; keep a bounded set
                self._timeouts[read_timeout] = timeout
        return timeout


class _Resolver:
    """aiohttp's default resolver under the connect timeout (its `sock_connect` covers TCP and
    TLS, not DNS). A lookup past it raises TimeoutError, which aiohttp reports as its
    `ConnectionTimeoutError`. Duck-typed `AbstractResolver`, so that this module imports
    aiohttp only when the first call opens the session."""

    def __init__(self, timeout: float) -> None:
        import aiohttp

        self._inner = aiohttp.DefaultResolver()
        self._timeout = timeout

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        async with asyncio.timeout(self._timeout):
            return await self._inner.resolve(host, port, family)

    async def close(self) -> None:
        await self._inner.close()


def _without_credentials(url: str) -> str:
    """A proxy URL as it may be logged: scheme, host and port (settings checked its form)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or DEFAULT_PORTS[parts.scheme]}"
