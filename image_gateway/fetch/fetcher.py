"""`ImageFetcher`: downloads a user-supplied image URL without letting it reach inside.

One aiohttp session per app (trust_env=False, no cookies, no pooling, no decompression), whose
connector resolves hostnames through `GuardedResolver`: the resolver looks the name up, refuses
the whole answer if ANY address is not public, and hands the connector exactly the addresses it
checked — so the connection goes to a validated address and a DNS-rebinding answer cannot slip
in between check and connect. Address literals (including `127.1`-style forms) are checked
before any request. Redirects are followed by hand, each hop parsed and checked again. The body
is streamed under a byte cap (`Content-Length` first), sniffed at its first bytes, and the
whole exchange — every hop, connect and read — runs under one deadline, which also stops a
server that drips one byte per second. aiohttp is imported with the first download, or the
first provider call (`upstream.client`), whichever comes first.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urljoin

from image_gateway.errors import InvalidRequest
from image_gateway.fetch.addresses import is_public, parse_ip
from image_gateway.fetch.images import SNIFF_BYTES, check_image, decode_inline, sniff
from image_gateway.fetch.urls import ParsedUrl, Refused, host_port, is_url, parse_target
from image_gateway.schemas import InputImage

if TYPE_CHECKING:
    import aiohttp
    from aiohttp.abc import AbstractResolver, ResolveResult

log = logging.getLogger("image_gateway.fetch")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HEADERS = {
    "User-Agent": "image-gateway",
    "Accept": "image/png, image/jpeg, image/webp",
    "Accept-Encoding": "identity",
}


class BlockedAddress(OSError):
    """Raised inside the connector when a name resolves to a non-public address (an OSError,
    so aiohttp wraps it in `ClientConnectorDNSError` and we can tell it apart)."""


class GuardedResolver:
    """Resolve, then allow the answer only when every address is public (or allowed).

    An aiohttp resolver (`AbstractResolver`'s `resolve` and `close`, duck-typed so that this
    module does not import aiohttp); `session()` hands it to a connector."""

    def __init__(self, allow: frozenset[str]) -> None:
        self.allow = allow

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        # `socket.getaddrinfo` in a thread, rather than the loop's resolver: the same answer
        # under asyncio and uvloop, and the one tests patch to play a hostile DNS server.
        infos = await asyncio.to_thread(socket.getaddrinfo, host, port, family, socket.SOCK_STREAM)
        name_allowed = host_port(host.rstrip(".").lower(), port) in self.allow
        results: list[ResolveResult] = []
        for fam, _, proto, _, sockaddr in infos:
            ip = parse_ip(str(sockaddr[0]))
            if ip is None:
                raise BlockedAddress("the image host resolved to an unusable address")
            if not (name_allowed or is_public(ip) or host_port(str(ip), port) in self.allow):
                raise BlockedAddress("the image host resolves to a non-public address")
            result: ResolveResult = {
                "hostname": host,
                "host": str(ip),
                "port": port,
                "family": fam,
                "proto": proto,
                "flags": 0,
            }
            if result not in results:
                results.append(result)
        if not results:
            raise BlockedAddress("the image host has no address")
        return results

    async def close(self) -> None:
        return None

    def session(self, timeout: aiohttp.ClientTimeout, **options: Any) -> aiohttp.ClientSession:
        """An aiohttp session whose every connection goes through this resolver: no DNS cache,
        no idle sockets, no proxy from the environment, no cookies."""
        import aiohttp

        connector = aiohttp.TCPConnector(
            resolver=cast("AbstractResolver", self),
            use_dns_cache=False,  # every connection resolves (and is checked) afresh
            force_close=True,  # no idle sockets to hosts chosen by clients
        )
        return aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # never a proxy from the environment
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=timeout,
            **options,
        )


class ImageFetcher:
    """Every user-supplied image (URL, data: URL, base64) goes through `load()`."""

    def __init__(
        self,
        *,
        max_bytes: int,
        timeout: float,
        max_redirects: int,
        max_pixels: int,
        allow_hosts: list[str] | tuple[str, ...] = (),
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.max_pixels = max_pixels
        self.allow = frozenset(entry.lower() for entry in allow_hosts)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self.allow:
            log.warning(
                "FETCH_ALLOW_HOSTS is set: input images may be fetched from these non-public "
                "host:port pairs. This is for tests and local demos only.",
                extra={"fields": {"fetch_allow_hosts": sorted(self.allow)}},
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def load(self, value: str, *, field: str, allow_raw_base64: bool) -> InputImage:
        """An http(s) URL is fetched; a data: URL (or bare base64 when allowed) is decoded
        locally, never fetched. Any problem is a 400 naming `field`."""
        try:
            if value[:5].lower() != "data:" and is_url(value):
                data = await self.download(value)
            else:
                data = decode_inline(value, max_bytes=self.max_bytes, allow_raw=allow_raw_base64)
        except Refused as exc:
            raise _invalid(field, exc) from None
        mime = await self.check(data, field=field)
        return InputImage(data, mime, field.rsplit(".", 1)[-1])

    async def check(self, data: bytes, *, field: str, max_bytes: int | None = None) -> str:
        """The MIME type of acceptable image bytes (also for uploads), else a 400."""
        try:
            return await asyncio.to_thread(
                check_image, data, max_bytes=max_bytes or self.max_bytes, max_pixels=self.max_pixels
            )
        except Refused as exc:
            raise _invalid(field, exc) from None

    async def download(self, url: str) -> bytes:
        """The bytes at an http(s) URL, behind the guard (public addresses, every redirect
        checked, the byte cap, the deadline, image magic at the first bytes); `Refused` says
        why not. Also for a provider's output image named by a URL off its own origin."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(parse_target(url))
        except TimeoutError:
            raise Refused(f"could not be downloaded within {self.timeout:g} s") from None

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None:  # the first download
            self._session = GuardedResolver(self.allow).session(
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.timeout, sock_read=self.timeout
                ),
                auto_decompress=False,  # the byte cap counts what arrives; encodings are refused
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
        return self._session

    async def _follow(self, target: ParsedUrl) -> bytes:
        import aiohttp
        from yarl import URL

        session = self._open()
        for hop in range(self.max_redirects + 1):
            self._check_literal(target)
            request_url = URL(target.url)
            if (request_url.host, request_url.port) != (target.host, target.port):
                raise Refused("has a host that cannot be parsed unambiguously")
            try:
                async with session.get(request_url, headers=HEADERS, allow_redirects=False) as resp:
                    if resp.status in REDIRECT_STATUSES:
                        target = self._redirect(target, resp.headers.get("Location"), hop)
                        continue
                    if resp.status != 200:
                        raise Refused(f"answered HTTP {resp.status}")
                    return await self._read(resp)
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, BlockedAddress):
                    raise Refused(str(exc.os_error)) from None
                if isinstance(exc, aiohttp.ClientConnectorDNSError):
                    raise Refused("has a host name that does not resolve") from None
                raise Refused("could not be reached") from None
            except aiohttp.ClientError as exc:
                raise Refused(f"could not be downloaded ({type(exc).__name__})") from None
        raise AssertionError("unreachable")  # the loop returns or raises

    def _check_literal(self, target: ParsedUrl) -> None:
        if target.authority in self.allow:
            return
        if target.ip is not None:
            if not is_public(target.ip):
                raise Refused("points to a non-public address")
        elif target.host == "localhost" or target.host.endswith(".localhost"):
            raise Refused("points to a non-public address")
        elif "." not in target.host:
            raise Refused("must use a fully qualified host name")

    def _redirect(self, current: ParsedUrl, location: str | None, hop: int) -> ParsedUrl:
        if hop >= self.max_redirects:
            raise Refused(f"redirected more than {self.max_redirects} times")
        if not location:
            raise Refused("answered a redirect without a Location")
        try:
            return parse_target(urljoin(current.url, location.strip()))
        except Refused as exc:
            raise Refused(f"redirected to a URL that {exc}") from None
        except ValueError:
            raise Refused("redirected to a malformed URL") from None

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise Refused("was sent with a content encoding; send the image as is")
        declared = resp.content_length
        if declared is not None and declared > self.max_bytes:
            raise Refused(f"is larger than {self.max_bytes} bytes")
        body = bytearray()
        sniffed = False
        async for chunk in resp.content.iter_any():
            body += chunk
            if len(body) > self.max_bytes:
                raise Refused(f"is larger than {self.max_bytes} bytes")
            if not sniffed and len(body) >= SNIFF_BYTES:
                sniff(bytes(body[:SNIFF_BYTES]))  # HTML or anything else stops here
                sniffed = True
        return bytes(body)


def _invalid(field: str, reason: Refused) -> InvalidRequest:
    log.info("input image refused", extra={"fields": {"field": field, "reason": str(reason)}})
    return InvalidRequest(f"{field} {reason}", param=field, code="invalid_image")
