"""The input-image fetcher's parts: address classification, URL parsing, image checks, the
checking resolver, and the fetcher itself against a loopback image host.

End-to-end tests through the gateway are in tests/providers/test_bfl_image_urls.py (BFL
provider_params) and tests/test_edit_image_urls.py (edits)."""

from __future__ import annotations

import base64
import io
import ipaddress
import socket
import time
from typing import Any

import pytest
from PIL import Image

from image_gateway.errors import InvalidRequest
from image_gateway.fetch import ImageFetcher, check_image_value
from image_gateway.fetch.addresses import NotAnAddress, is_public, parse_numeric_ipv4
from image_gateway.fetch.fetcher import BlockedAddress, GuardedResolver
from image_gateway.fetch.images import check_image, decode_inline, dimensions
from image_gateway.fetch.urls import Refused, parse_target
from image_gateway.settings import Settings
from tests.image_host import IMAGE_SIZE, make_image, pixel_bomb_png

NOT_PUBLIC = [
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "100.64.0.1",
    "100.127.255.254",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "::8.8.8.8",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::1",  # local-use NAT64
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:db8::1",
    "3fff::1",
    "100::1",
    "fc00::1",
    "fd00::1",
    "fd12:3456:789a::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "ff0e::1",
    "5f00::1",
    "1::1",  # outside global unicast 2000::/3
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.1",  # just above CGNAT
    "172.15.255.255",
    "172.32.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80e::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_scoped_ipv6_is_refused() -> None:
    assert not is_public(ipaddress.IPv6Address("fe80::1%eth0"))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0x7f.0x0.0x0.0x1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("169.254.43518", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_numeric_hosts_are_read_like_inet_aton(host: str, address: str) -> None:
    assert str(parse_numeric_ipv4(host)) == address


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.1.1.1", "1.2.3.256", "09.1.1.1", "4294967296"])
def test_malformed_numeric_hosts_are_errors(host: str) -> None:
    with pytest.raises(NotAnAddress):
        parse_numeric_ipv4(host)


@pytest.mark.parametrize("host", ["example.com", "1.2.3.example", "cdn1.example.com", "x1"])
def test_names_are_not_numeric(host: str) -> None:
    assert parse_numeric_ipv4(host) is None


@pytest.mark.parametrize(
    ("url", "canonical", "host", "port"),
    [
        ("http://example.com/a.png", "http://example.com/a.png", "example.com", 80),
        ("HTTPS://Example.COM./a.png?x=1", "https://example.com/a.png?x=1", "example.com", 443),
        ("http://example.com", "http://example.com/", "example.com", 80),
        ("http://example.com?q", "http://example.com/?q", "example.com", 80),
        ("http://example.com:8080/x", "http://example.com:8080/x", "example.com", 8080),
        ("https://example.com:443/x", "https://example.com/x", "example.com", 443),
        ("http://127.1:9/x", "http://127.0.0.1:9/x", "127.0.0.1", 9),
        ("http://0x7f000001/", "http://127.0.0.1/", "127.0.0.1", 80),
        ("http://[::FFFF:127.0.0.1]:81/", "http://[::ffff:7f00:1]:81/", "::ffff:7f00:1", 81),
        ("http://img_cdn.example.com/a%20b.png", "http://img_cdn.example.com/a%20b.png", None, 80),
    ],
)
def test_urls_are_canonicalised(url: str, canonical: str, host: str | None, port: int) -> None:
    target = parse_target(url)
    assert target.url == canonical and target.port == port
    if host is not None:
        assert target.host == host


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://127.0.0.1:70/_x", "scheme 'gopher'"),
        ("ftp://example.com/x.png", "scheme 'ftp'"),
        ("dict://example.com:11211/", "scheme 'dict'"),
        ("data:image/png;base64,AAAA", "scheme 'data'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("example.com/x.png", "http:// or https://"),
        ("http:example.com/x.png", "absolute"),
        ("http:/example.com/x.png", "absolute"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://user@example.com/", "credentials"),
        ("http://example.com:80@127.0.0.1/", "credentials"),
        ("http://example.com#@127.0.0.1/", "fragment"),
        ("http://example.com/a.png#frag", "fragment"),
        ("http://127.0.0.1\\@example.com/", "backslashes"),
        ("http:\\\\example.com\\x", "backslashes"),
        ("http://exa mple.com/", "whitespace"),
        ("http://example.com/\r\nHost: evil", "whitespace"),
        ("http://example.com/\x00", "control"),
        ("http://exämple.com/", "non-ASCII"),
        ("http:///x.png", "no host"),
        ("http://:80/x.png", "no host"),
        ("http://example.com:/x", "invalid port"),
        ("http://example.com:0/x", "invalid port"),
        ("http://example.com:65536/x", "invalid port"),
        ("http://example.com:+80/x", "invalid port"),
        ("http://::1/x", "brackets"),
        ("http://[::1/x", "unterminated"),
        ("http://[::1]x/", "malformed host"),
        ("http://[fe80::1%25eth0]/", "zone"),
        ("http://[not-v6]/", "malformed IPv6"),
        ("http://1.2.3.4.5/", "numeric host"),
        ("http://256.0.0.1/", "numeric host"),
        ("http://example..com/", "malformed host name"),
        ("http://-example.com/", "malformed host name"),
        ("http://ex%61mple.com/", "malformed host name"),
        ("http://" + "a" * 64 + ".com/", "malformed host name"),
        ("http://example.com/" + "a" * 5000, "longer than"),
    ],
)
def test_bad_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        parse_target(url)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_header_dimensions_match_pillow(fmt: str, mode: str) -> None:
    if fmt == "JPEG" and mode == "RGBA":
        mode = "CMYK"
    for lossless in (False, True):
        buf = io.BytesIO()
        options: dict[str, Any] = {"lossless": lossless} if fmt == "WEBP" else {}
        if fmt == "JPEG" and lossless:
            options = {"progressive": True}
        Image.new(mode, (123, 45)).save(buf, fmt, **options)
        data = buf.getvalue()
        mime = "image/" + fmt.lower()
        assert dimensions(data, mime) == (123, 45)
        assert check_image(data, max_bytes=10**6, max_pixels=10**6) == mime


def test_pixel_bomb_is_refused_from_its_header() -> None:
    bomb = pixel_bomb_png()
    assert len(bomb) < 200_000 and dimensions(bomb, "image/png") == (20_000, 20_000)
    started = time.perf_counter()
    with pytest.raises(Refused, match="more than 50000000 pixels"):
        check_image(bomb, max_bytes=10**6, max_pixels=50_000_000)
    assert time.perf_counter() - started < 0.5  # never decoded


def test_pixel_limit_is_configurable() -> None:
    data = make_image("PNG")
    with pytest.raises(Refused, match="more than 100 pixels"):
        check_image(data, max_bytes=10**6, max_pixels=100)
    check_image(data, max_bytes=10**6, max_pixels=IMAGE_SIZE[0] * IMAGE_SIZE[1])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<!doctype html><html></html>", "not a PNG, JPEG or WebP"),
        (b"GIF89a" + b"\x00" * 20, "not a PNG, JPEG or WebP"),
        (b"", "not a PNG, JPEG or WebP"),
        (make_image("PNG")[:30], "not a readable PNG"),
        (make_image("PNG")[:-20], "not a readable PNG"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 30, "not a readable JPEG"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8Z" + b"\x00" * 20, "not a readable WEBP"),
    ],
)
def test_non_images_and_broken_images_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        check_image(data, max_bytes=10**6, max_pixels=10**8)


def test_byte_cap_applies_to_image_bytes() -> None:
    data = make_image("PNG")
    with pytest.raises(Refused, match="larger than 100 bytes"):
        check_image(data, max_bytes=100, max_pixels=10**8)


def test_inline_images_decode_locally() -> None:
    png = make_image("PNG")
    b64 = base64.b64encode(png).decode()
    assert decode_inline(f"data:image/png;base64,{b64}", max_bytes=10**6, allow_raw=False) == png
    assert decode_inline(f"DATA:IMAGE/PNG;BASE64,{b64}", max_bytes=10**6, allow_raw=False) == png
    wrapped = "\n".join(b64[i : i + 76] for i in range(0, len(b64), 76))
    assert decode_inline(wrapped, max_bytes=10**6, allow_raw=True) == png
    with pytest.raises(Refused, match="http"):
        decode_inline(b64, max_bytes=10**6, allow_raw=False)
    for bad in ("data:text/html,<b>x</b>", "data:image/png,rawbytes", "data:;base64,AAAA"):
        with pytest.raises(Refused, match="data URL"):
            decode_inline(bad, max_bytes=10**6, allow_raw=True)
    with pytest.raises(Refused, match="neither a URL nor base64"):
        decode_inline("not base64 at all!", max_bytes=10**6, allow_raw=True)


def test_oversized_inline_image_is_refused_before_decoding() -> None:
    huge = "data:image/png;base64," + "A" * (40 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(Refused, match="larger than"):
        decode_inline(huge, max_bytes=20 * 1024 * 1024, allow_raw=False)
    with pytest.raises(InvalidRequest) as caught:
        check_image_value(huge, field="f", max_bytes=20 * 1024 * 1024, allow_raw_base64=True)
    assert caught.value.param == "f"
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("value", [5, None, "", ["http://example.com/x.png"], {"a": 1}])
def test_image_values_must_be_strings(value: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_image_value(
            value, field="provider_params.input_image", max_bytes=100, allow_raw_base64=True
        )
    assert caught.value.param == "provider_params.input_image"


def test_settings_validate_allow_hosts() -> None:
    settings = Settings(_env_file=None, fetch_allow_hosts="127.0.0.1:8080, Images.Local:80,[::1]:9")  # type: ignore[call-arg]
    assert settings.fetch_allow_hosts == ["127.0.0.1:8080", "images.local:80", "[::1]:9"]
    assert Settings(_env_file=None).fetch_allow_hosts == []  # type: ignore[call-arg]
    for bad in ("127.0.0.1", "host:port", "host:0", ":80"):
        with pytest.raises(ValueError, match="host:port"):
            Settings(_env_file=None, fetch_allow_hosts=bad)  # type: ignore[call-arg]


async def test_resolver_refuses_an_answer_with_any_non_public_address(fake_dns: Any) -> None:
    resolver = GuardedResolver(frozenset())
    fake_dns.set("public.test", ["93.184.216.34", "2606:2800:220:1::1"])
    fake_dns.set("mixed.test", ["93.184.216.34", "127.0.0.1"])
    fake_dns.set("mapped.test", ["::ffff:169.254.169.254"])
    answer = await resolver.resolve("public.test", 443, socket.AF_UNSPEC)
    assert [r["host"] for r in answer] == ["93.184.216.34", "2606:2800:220:1::1"]
    assert all(r["port"] == 443 and r["hostname"] == "public.test" for r in answer)
    for name in ("mixed.test", "mapped.test"):
        with pytest.raises(BlockedAddress, match="non-public"):
            await resolver.resolve(name, 443, socket.AF_UNSPEC)
    with pytest.raises(socket.gaierror):
        await resolver.resolve("nowhere.test", 443, socket.AF_UNSPEC)


async def test_resolver_allow_list_is_exact(fake_dns: Any) -> None:
    fake_dns.set("img.test", ["127.0.0.1"])
    by_address = GuardedResolver(frozenset({"127.0.0.1:8080"}))
    assert [r["host"] for r in await by_address.resolve("img.test", 8080)] == ["127.0.0.1"]
    with pytest.raises(BlockedAddress):
        await by_address.resolve("img.test", 8081)
    by_name = GuardedResolver(frozenset({"img.test:9000"}))
    assert [r["host"] for r in await by_name.resolve("img.test", 9000)] == ["127.0.0.1"]
    with pytest.raises(BlockedAddress):
        await by_name.resolve("img.test", 9001)


@pytest.fixture
async def fetcher(image_host: Any) -> Any:
    fetcher = ImageFetcher(
        max_bytes=1024 * 1024,
        timeout=2,
        max_redirects=2,
        max_pixels=10**7,
        allow_hosts=[f"127.0.0.1:{image_host.port}"],
    )
    await fetcher.start()
    yield fetcher
    await fetcher.close()


async def test_fetcher_loads_each_kind_of_reference(fetcher: Any, image_host: Any) -> None:
    for fmt in ("png", "jpeg", "webp"):
        image = await fetcher.load(image_host.url(f"/{fmt}"), field="f", allow_raw_base64=False)
        assert image.data == image_host.images[fmt] and image.content_type == f"image/{fmt}"
    b64 = base64.b64encode(image_host.images["png"]).decode()
    inline = await fetcher.load(f"data:image/png;base64,{b64}", field="f", allow_raw_base64=False)
    raw = await fetcher.load(b64, field="f", allow_raw_base64=True)
    assert inline.data == raw.data == image_host.images["png"]
    assert len(image_host.hits) == 3  # data: and base64 never touch the network


async def test_fetcher_counts_redirects(fetcher: Any, image_host: Any) -> None:
    image = await fetcher.load(image_host.url("/chain/0?stop=2"), field="f", allow_raw_base64=False)
    assert image.content_type == "image/png"
    image_host.hits.clear()
    with pytest.raises(InvalidRequest, match="redirected more than 2 times") as caught:
        await fetcher.load(image_host.url("/chain/0?stop=3"), field="f", allow_raw_base64=False)
    assert caught.value.param == "f" and caught.value.code == "invalid_image"
    assert len(image_host.hits) == 3


async def test_uploads_get_the_same_checks(fetcher: Any) -> None:
    assert await fetcher.check(make_image("WEBP"), field="image") == "image/webp"
    with pytest.raises(InvalidRequest, match="image has more than"):
        await fetcher.check(pixel_bomb_png(), field="image")
