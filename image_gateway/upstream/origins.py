"""Origins: which server-given URLs may receive a provider's key (or our requests at all).

A provider hands back URLs (BFL's `polling_url` and `result.sample`, an OpenAI-compatible
server's image `url`). One of them receives the provider's key, or is fetched like an API call,
only when its *origin* — scheme, host and port, exactly as the upstream HTTP client will connect
(`split_url()` is that client's own parser) — is the configured base URL's origin or one the
operator trusted explicitly (`TrustedOrigins.allows()`, the one check every adapter uses):

- the same host on another port, `http` where the entry says `https`, any userinfo
  (`user@host`, `host:443@evil`), a backslash, whitespace or raw non-ASCII anywhere in the URL
  is refused; host names compare case-insensitively and with one trailing dot ignored
  (`api.bfl.ai.` is the same DNS name); an IDN host must be written as `xn--…` to match;
- a trusted entry is an origin, `scheme://host[:port]` (the port defaults to the scheme's), or
  a bare host suffix, `bfl.ai`, which means `https` on port 443 for that host and its
  subdomains (`api.eu.bfl.ai`, never `evilbfl.ai`).

Entries are parsed once, at start-up (`parse_entry()`, used by settings), so a bad one is a
configuration error naming the variable.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

Origin = tuple[str, str, int]  # scheme, host, port: what the upstream client connects to
DEFAULT_PORTS = {"http": 80, "https": 443}

_LABEL = r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_UNSAFE = re.compile(r"[^\x21-\x7e]|\\")  # whitespace, controls, non-ASCII, backslash


def split_url(url: str) -> tuple[Origin, SplitResult]:
    """The origin the upstream HTTP client connects to for `url`, and the URL's parts.

    `ValueError` for anything but an absolute http(s) URL without credentials. A non-ASCII host
    is IDNA-encoded, as the client sends it."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host or parts.username is not None:
        raise ValueError("not an absolute http(s) URL without credentials")
    port = parts.port  # ValueError on a malformed port
    if port == 0:
        raise ValueError("port 0")
    port = port or DEFAULT_PORTS[scheme]
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    return (scheme, host, port), parts


@dataclass(frozen=True, slots=True)
class Rule:
    """One trusted origin; with `subdomains`, also every host under `host` (a suffix entry)."""

    scheme: str
    host: str
    port: int
    subdomains: bool = False

    def matches(self, scheme: str, host: str, port: int) -> bool:
        if (scheme, port) != (self.scheme, self.port):
            return False
        return host == self.host or (self.subdomains and host.endswith("." + self.host))

    def __str__(self) -> str:
        if self.subdomains:
            return self.host
        return f"{self.scheme}://{_bracketed(self.host)}:{self.port}"


def parse_entry(entry: str) -> Rule:
    """A trusted-origin entry: `scheme://host[:port]` (exactly that origin) or a bare host
    suffix (`https`, port 443, the host and its subdomains). `ValueError` says what is wrong."""
    text = entry.strip()
    if not text or _UNSAFE.search(text):
        raise ValueError(f"{entry!r}: empty, or has whitespace, non-ASCII or a backslash")
    if "://" not in text:
        host = _comparable(text.lower().lstrip("."))
        if not _NAME.fullmatch(host):
            raise ValueError(
                f"{entry!r}: expected an origin (https://host:port) or a bare host suffix"
            )
        return Rule("https", host, 443, subdomains=True)
    try:
        (scheme, host, port), parts = split_url(text)
    except ValueError:
        raise ValueError(f"{entry!r}: expected http(s)://host[:port] without credentials") from None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{entry!r}: an origin has no path, query or fragment")
    return Rule(scheme, _comparable(host), port)


class TrustedOrigins:
    """The base URL's origin plus the trusted entries; `allows(url)` is the check."""

    def __init__(self, base_url: str, entries: Iterable[str] = ()) -> None:
        """`base_url` "" (a provider whose endpoint is not set yet, `azure`): the entries only."""
        rules = [parse_entry(e) for e in entries]
        if base_url:
            (scheme, host, port), _ = split_url(base_url)
            rules.insert(0, Rule(scheme, _comparable(host), port))
        self.rules = tuple(rules)

    def allows(self, url: str) -> bool:
        """Whether `url` may receive the provider's key (see the module docstring)."""
        if _UNSAFE.search(url):
            return False
        try:
            (scheme, host, port), parts = split_url(url)
        except ValueError:
            return False
        if parts.password is not None or "@" in parts.netloc:
            return False
        host = _comparable(host)
        if not _valid_host(host):
            return False
        return any(rule.matches(scheme, host, port) for rule in self.rules)


def origin_text(url: str) -> str:
    """`scheme://host:port` of a URL, for a log line (never its path or query), or "invalid"."""
    if _UNSAFE.search(url):
        return "invalid"
    try:
        (scheme, host, port), _ = split_url(url)
    except ValueError:
        return "invalid"
    return f"{scheme}://{_bracketed(host)}:{port}"


def _valid_host(host: str) -> bool:
    if ":" not in host:
        return bool(_NAME.fullmatch(host)) and len(host) <= 253
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _comparable(host: str) -> str:
    return host[:-1] if host.endswith(".") and not host.endswith("..") else host


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
