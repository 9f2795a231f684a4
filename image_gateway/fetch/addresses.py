"""Which IP addresses a user-supplied URL may reach: only globally routable ones.

`is_public()` is the one classification the SSRF guard uses, for address literals in URLs and
for every address a hostname resolves to. It refuses loopback, private, link-local (cloud
metadata at 169.254.169.254), CGNAT 100.64/10, multicast, reserved, documentation and
unspecified (0.0.0.0, ::) ranges, and looks inside IPv6 forms that carry an IPv4 address
(mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16): those are
public only when the embedded IPv4 address is. Python's `is_global` alone is not enough — it
calls 224.0.0.1 and ::127.0.0.1 global — so explicit tables come first and `is_global` second.

`parse_numeric_ipv4()` reads a host the way `inet_aton` (and so the OS resolver) would:
`127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1` all mean 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

_BLOCKED_V4 = tuple(
    IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches loopback on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
    )
)
_BLOCKED_V6 = tuple(
    IPv6Network(net)
    for net in (
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, Teredo
        "2001:db8::/32",
        "3fff::/20",  # documentation
        "5f00::/16",  # SRv6
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
_NAT64 = IPv6Network("64:ff9b::/96")
_COMPAT = IPv6Network("::/96")

_HEX_PART = re.compile(r"^0[xX][0-9a-fA-F]*$")
_OCT_PART = re.compile(r"^0[0-7]+$")
_DEC_PART = re.compile(r"^(0|[1-9][0-9]*)$")


def is_public(ip: IPAddress) -> bool:
    """True only for addresses routable on the public internet."""
    if isinstance(ip, IPv4Address):
        return _public_v4(ip)
    if ip.scope_id:
        return False
    mapped = ip.ipv4_mapped
    if mapped is not None:
        return _public_v4(mapped)
    if ip in _COMPAT:  # ::, ::1 and the deprecated IPv4-compatible form
        return False
    if ip in _NAT64:
        return _public_v4(IPv4Address(int(ip) & 0xFFFFFFFF))
    sixtofour = ip.sixtofour
    if sixtofour is not None:
        return _public_v4(sixtofour)
    if ip not in _GLOBAL_UNICAST_V6 or any(ip in net for net in _BLOCKED_V6):
        return False
    return ip.is_global


def _public_v4(ip: IPv4Address) -> bool:
    return not any(ip in net for net in _BLOCKED_V4) and ip.is_global


class NotAnAddress(ValueError):
    """A host that looks numeric (so the OS would read it as an address) but is malformed."""


def parse_numeric_ipv4(host: str) -> IPv4Address | None:
    """The IPv4 address an all-numeric host means (inet_aton rules: 1-4 parts, each decimal,
    0-prefixed octal or 0x-hex, the last part filling the remaining bytes); None when the host
    is a name. Raises `NotAnAddress` for numeric-looking hosts that are not valid addresses
    (`1.2.3.4.5`, `256.1.1.1`, `09.1.1.1`), which must not be sent to a resolver either."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # one trailing dot, as in an absolute name
    if not labels or not _numeric(labels[-1]):
        return None
    if len(labels) > 4:
        raise NotAnAddress(host)
    numbers = [_part(label, host) for label in labels]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise NotAnAddress(host)
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


def _numeric(label: str) -> bool:
    return label.isascii() and (label.isdigit() or bool(_HEX_PART.match(label)))


def _part(label: str, host: str) -> int:
    if _HEX_PART.match(label):
        return int(label[2:] or "0", 16)
    if _OCT_PART.match(label):
        return int(label, 8)
    if _DEC_PART.match(label):
        return int(label)
    raise NotAnAddress(host)


def parse_ip(text: str) -> IPAddress | None:
    """An address in its standard text form (as getaddrinfo returns it), or None."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
