"""A strict parser for user-supplied image URLs, so the guard and the HTTP client agree.

Gateways have been fooled by parser differentials (a `#` or `@` that one parser reads as part
of the host and another does not). This parser accepts a narrow, unambiguous subset and
rebuilds the URL from its parts, so what was checked is exactly what gets requested:

- scheme `http` or `https`, followed by `//` and a non-empty host;
- printable ASCII only: no whitespace, control characters, backslashes or raw non-ASCII;
- no userinfo (`user:pw@host`), no fragment (`#`), no empty port;
- host = a DNS name (letters, digits, `-`, `_`), a bracketed IPv6 address without a zone, or
  an IPv4 address in any form the OS accepts (`127.1`, `0x7f000001`, …), canonicalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from image_gateway.fetch.addresses import IPAddress, NotAnAddress, parse_numeric_ipv4

MAX_URL_CHARS = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]{0,31}):")
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_\-]{0,61}[a-z0-9_])?$")


class Refused(Exception):
    """Why a URL or a download is refused; the text is safe to show the client (it names no
    resolved address). The public API turns it into an `InvalidRequest` naming the field."""


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    url: str  # the canonical URL that is requested
    scheme: str
    host: str  # lower-case name, or the address in standard form (no brackets)
    port: int
    ip: IPAddress | None  # set when the host is an address literal

    @property
    def authority(self) -> str:
        """`host:port` as written in FETCH_ALLOW_HOSTS (IPv6 in brackets)."""
        return host_port(self.host, self.port)


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_url(value: str) -> bool:
    """Whether a string is meant as a URL (base64 never contains `:`)."""
    return bool(_SCHEME.match(value))


def parse_target(raw: str) -> ParsedUrl:
    if len(raw) > MAX_URL_CHARS:
        raise Refused(f"is longer than {MAX_URL_CHARS} characters")
    if any(not 0x21 <= ord(c) <= 0x7E or c == "\\" for c in raw):
        raise Refused(
            "contains whitespace, control characters, backslashes or non-ASCII characters "
            "(percent-encode them)"
        )
    match = _SCHEME.match(raw)
    if match is None:
        raise Refused("must be an http:// or https:// URL")
    scheme = match.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise Refused(f"uses the scheme {scheme!r}; only http and https are fetched")
    rest = raw[match.end() :]
    if not rest.startswith("//"):
        raise Refused("must be an absolute http:// or https:// URL")
    if "#" in rest:
        raise Refused("must not contain a fragment ('#')")
    rest = rest[2:]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, path = rest[:cut], rest[cut:]
    if "@" in authority:
        raise Refused("must not contain credentials (user:password@)")
    host_text, port = _split_authority(authority, DEFAULT_PORTS[scheme])
    host, ip = _host(host_text)
    if not path.startswith("/"):
        path = "/" + path
    shown_port = "" if port == DEFAULT_PORTS[scheme] else f":{port}"
    shown_host = f"[{host}]" if isinstance(ip, IPv6Address) else host
    return ParsedUrl(f"{scheme}://{shown_host}{shown_port}{path}", scheme, host, port, ip)


def _split_authority(authority: str, default_port: int) -> tuple[str, int]:
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise Refused("has an unterminated IPv6 address")
        host, tail = authority[: end + 1], authority[end + 1 :]
        if tail and not tail.startswith(":"):
            raise Refused("has a malformed host")
        port_text = tail[1:] if tail else None
    else:
        if authority.count(":") > 1:
            raise Refused("has a malformed host (IPv6 addresses go in brackets)")
        host, sep, port_text_or_empty = authority.partition(":")
        port_text = port_text_or_empty if sep else None
    if port_text is None:
        return host, default_port
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535 or len(port_text) > 5:
        raise Refused("has an invalid port")
    return host, int(port_text)


def _host(text: str) -> tuple[str, IPAddress | None]:
    if not text:
        raise Refused("has no host")
    if text.startswith("["):
        inner = text[1:-1]
        if "%" in inner:
            raise Refused("must not use an IPv6 zone")
        try:
            v6 = IPv6Address(inner)
        except ValueError:
            raise Refused("has a malformed IPv6 address") from None
        return str(v6), v6
    name = text.lower()
    try:
        v4: IPv4Address | None = parse_numeric_ipv4(name)
    except NotAnAddress:
        raise Refused("has a malformed numeric host") from None
    if v4 is not None:
        return str(v4), v4
    if name.endswith("."):
        name = name[:-1]
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise Refused("has a malformed host name")
    return name, None
