"""`origins`: the one check of which server-given URLs may receive a provider's key — scheme,
host and port against the base URL and the trusted entries, and the entries themselves.
(`tests/providers/test_key_trust.py` drives the same cases over sockets, where a listener can
tell whether the key arrived.)"""

from __future__ import annotations

import pytest

from image_gateway.settings import ConfigurationError, load_settings
from image_gateway.upstream.origins import TrustedOrigins, origin_text, parse_entry, split_url

BFL = TrustedOrigins(
    "https://api.bfl.ai",
    ["bfl.ai", "bfldeliveryprod.blob.core.windows.net", "http://127.0.0.1:9202"],
)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.bfl.ai/v1/get_result?id=1",  # the base URL's origin
        "https://api.bfl.ai:443/v1/get_result?id=1",  # its port, written out
        "https://API.BFL.AI/v1/get_result?id=1",  # host names are case-insensitive
        "https://api.bfl.ai./v1/get_result?id=1",  # one trailing dot: the same DNS name
        "https://api.eu.bfl.ai/v1/get_result?id=1",  # a subdomain of a bare suffix entry
        "https://bfl.ai/x",  # the suffix itself
        "https://delivery-eu1.bfl.ai/results/x.png?se=1&sig=2",
        "https://bfldeliveryprod.blob.core.windows.net/results/x.jpeg",
        "http://127.0.0.1:9202/v1/get_result?id=1",  # an explicit origin entry
        "HTTP://127.0.0.1:9202/v1/get_result?id=1",  # schemes are case-insensitive
    ],
)
def test_trusted(url: str) -> None:
    assert BFL.allows(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://api.bfl.ai:8443/v1/get_result?id=1", "the base host on another port"),
        ("http://api.bfl.ai/v1/get_result?id=1", "http where the origin is https"),
        ("http://api.bfl.ai:443/v1/get_result?id=1", "http on https's port"),
        ("https://127.0.0.1:9202/v1/get_result?id=1", "https where the entry says http"),
        ("http://127.0.0.1:9203/v1/get_result?id=1", "an explicit origin's host, another port"),
        ("http://localhost:9202/v1/get_result?id=1", "another spelling of the entry's host"),
        ("http://127.1:9202/v1/get_result?id=1", "an address form that is not the entry's"),
        ("https://evilbfl.ai/v1/get_result?id=1", "a suffix without the dot"),
        ("https://bfl.ai.evil.com/v1/get_result?id=1", "the suffix as a prefix"),
        ("https://api.bfl.ai.evil.com/v1/get_result", "the base host as a prefix"),
        ("https://xbfldeliveryprod.blob.core.windows.net/x", "another storage account"),
        ("https://evil@api.bfl.ai/v1/get_result?id=1", "userinfo"),
        ("https://evil:pw@api.bfl.ai/v1/get_result?id=1", "userinfo with a password"),
        ("https://@api.bfl.ai/v1/get_result?id=1", "an empty userinfo"),
        ("https://api.bfl.ai@evil.com/v1/get_result?id=1", "the trusted host as userinfo"),
        ("https://api.bfl.ai:443@evil.com/", "the trusted origin as userinfo"),
        ("https://evil.com\\@api.bfl.ai/", "a backslash (parsers disagree on it)"),
        ("https://evil.com#@api.bfl.ai/", "a fragment hiding the host"),
        ("https://api.bfl.ai\t/x", "whitespace"),
        ("https://api.bfl.\u0430i/x", "an IDN look-alike (Cyrillic a)"),
        ("https://xn--api-bfl-ai/x", "punycode that is not the host"),
        ("https://api%2ebfl.ai/x", "a percent-encoded host"),
        ("https://api.bfl.ai../x", "two trailing dots"),
        ("https://api.bfl.ai:0/x", "port 0"),
        ("https://api.bfl.ai:99999/x", "a port out of range"),
        ("https://api.bfl.ai:x/x", "a malformed port"),
        ("//api.bfl.ai/x", "no scheme"),
        ("ftp://api.bfl.ai/x", "another scheme"),
        ("https:///x", "no host"),
        ("", "empty"),
    ],
)
def test_refused(url: str, why: str) -> None:
    assert not BFL.allows(url), why


def test_a_bare_entry_means_https_on_443_only() -> None:
    trusted = TrustedOrigins("https://api.bfl.ai", ["example.org"])
    assert trusted.allows("https://cdn.example.org/x.png")
    assert not trusted.allows("http://cdn.example.org/x.png")
    assert not trusted.allows("https://cdn.example.org:8443/x.png")


def test_ipv6_origins() -> None:
    trusted = TrustedOrigins("http://[::1]:9201", ["http://[::1]:9202"])
    assert trusted.allows("http://[::1]:9201/v1/x") and trusted.allows("http://[::1]:9202/x")
    assert not trusted.allows("http://[::1]:9203/x")
    assert not trusted.allows("http://[::ffff:127.0.0.1]:9202/x")


def test_the_check_and_the_http_client_parse_alike() -> None:
    """The client connects where `split_url` says (the upstream client's encoder uses it): what
    was checked is where the request goes."""
    from image_gateway.upstream.encoding import parse_url

    for url in (
        "https://API.bfl.ai:443/v1/x?id=1",
        "http://127.0.0.1:9202/v1/get_result?id=a",
        "http://[::1]:9201/v1/x",
        "https://bücher.example/v1",
    ):
        origin, sent = parse_url(url)
        assert origin == split_url(url)[0]
        assert (sent.scheme, sent.raw_host, sent.port) == origin  # what aiohttp connects to


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("bfl.ai", "bfl.ai"),
        (" .BFL.AI ", "bfl.ai"),
        ("bfl.ai.", "bfl.ai"),
        ("https://api.eu.bfl.ai", "https://api.eu.bfl.ai:443"),
        ("https://api.eu.bfl.ai/", "https://api.eu.bfl.ai:443"),
        ("HTTP://127.0.0.1:9202", "http://127.0.0.1:9202"),
        ("http://[::1]:9202", "http://[::1]:9202"),
    ],
)
def test_entries(entry: str, canonical: str) -> None:
    assert str(parse_entry(entry)) == canonical


@pytest.mark.parametrize(
    "entry",
    [
        "bfl.ai:443",  # a port needs the scheme: write the origin
        "https://user@bfl.ai",
        "https://bfl.ai/v1",
        "https://bfl.ai?x=1",
        "ftp://bfl.ai",
        "*.bfl.ai",
        "b\u00fccher.example",  # IDN entries are written as xn--
        "",
        "bfl..ai",
    ],
)
def test_bad_entries(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_entry(entry)


def test_a_bad_entry_stops_start_up_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BFL_TRUSTED_HOSTS", "bfl.ai,bfl.ai:8443")
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert "BFL_TRUSTED_HOSTS" in str(err.value) and "bfl.ai:8443" in str(err.value)


def test_origin_text_shows_no_path_or_query() -> None:
    assert origin_text("https://api.bfl.ai/v1/get_result?id=secret") == "https://api.bfl.ai:443"
    assert origin_text("https://x\r\ny/") == "invalid"
