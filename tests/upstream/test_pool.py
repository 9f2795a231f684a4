"""Connections: the limit and waiting for it, idle expiry, stale connections, the DNS cache,
Happy Eyeballs, an abandoned call, close(), and what `pool_stats()` reports."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from image_gateway.errors import UpstreamError, UpstreamTimeout
from image_gateway.upstream import client as http_client
from image_gateway.upstream.client import UpstreamClient
from tests.upstream.conftest import Received, reply, until


@pytest.fixture
async def single() -> AsyncIterator[UpstreamClient]:
    """A client with one connection (UPSTREAM_MAX_CONNECTIONS=1)."""
    c = UpstreamClient(
        connect_timeout=2, read_timeout=2, max_connections=1, max_response_bytes=1024
    )
    await c.start()
    yield c
    await c.close()


def slow(seconds: float) -> Any:
    async def handler(req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            if await asyncio.wait_for(r.read(1), seconds) == b"":
                return  # the client went away
        except TimeoutError:
            pass
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    return handler


async def test_callers_wait_for_a_free_connection(script, single: UpstreamClient) -> None:
    server = await script(slow(0.05))
    calls = [single.request("GET", f"{server.url}/{i}", provider="p") for i in range(5)]
    results = await asyncio.gather(*calls)
    assert [r.body for r in results] == [b"ok"] * 5
    assert server.max_open == 1 and server.connections == 1
    assert sorted(r.request_line.split()[1] for r in server.requests) == [f"/{i}" for i in range(5)]


async def test_waiting_for_a_connection_counts_within_the_deadline(
    script, single: UpstreamClient
) -> None:
    server = await script(slow(0.5))
    first = asyncio.ensure_future(single.request("GET", server.url, provider="p"))
    await until(lambda: single.pool_stats() == {"in_use": 1, "idle": 0})
    with pytest.raises(UpstreamTimeout, match="did not answer in time"):
        await single.request("GET", server.url, provider="p", deadline=0.1)
    assert (await first).body == b"ok"
    assert len(server.requests) == 1


async def test_waiting_for_a_connection_is_not_a_connect_timeout(script) -> None:
    """A full pool is waited out (up to the deadline), however long that takes beyond the
    connect timeout: the connect timeout is for the provider's network, not our queue."""
    client = UpstreamClient(
        connect_timeout=0.2, read_timeout=2, max_connections=1, max_response_bytes=1024
    )
    await client.start()
    try:
        server = await script(slow(0.5))
        calls = [client.request("GET", server.url, provider="p") for _ in range(2)]
        assert [r.body for r in await asyncio.gather(*calls)] == [b"ok", b"ok"]
    finally:
        await client.close()


async def test_idle_connections_expire(script, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_client, "IDLE_TIMEOUT", 0.2)
    client = UpstreamClient(
        connect_timeout=2, read_timeout=2, max_connections=4, max_response_bytes=1024
    )
    await client.start()
    try:
        server = await script(reply())
        await client.request("GET", server.url, provider="p")
        assert client.pool_stats() == {"in_use": 0, "idle": 1}
        await until(lambda: client.pool_stats()["idle"] == 0 and server.open_connections == 0)
    finally:
        await client.close()


async def test_a_pooled_connection_the_server_closed_is_not_used(
    script, client: UpstreamClient
) -> None:
    async def answer_then_hang_up(
        req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter
    ) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")  # keep-alive, yet...
        await w.drain()
        await asyncio.sleep(0.02)
        w.close()  # ...closed while idle, as a server's keep-alive timeout does

    server = await script(answer_then_hang_up)
    for _ in range(3):
        assert (await client.request("POST", server.url, provider="p", json={})).body == b"ok"
        # no longer counted once the EOF came
        await until(lambda: client.pool_stats() == {"in_use": 0, "idle": 0})
    assert server.connections == 3 and len(server.requests) == 3


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names looked up through `socket.getaddrinfo` (aiohttp's resolver on asyncio's loop;
    uvloop resolves in libuv, where nothing can be counted)."""
    seen: list[str] = []
    real = socket.getaddrinfo

    def counting(host: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    yield seen


@pytest.mark.asyncio(loop_factories=["asyncio"])
@pytest.mark.parametrize(("cache_seconds", "expected"), [(300, 1), (0, 3)])
async def test_addresses_are_cached_unless_the_cache_is_off(
    script, lookups: list[str], cache_seconds: int, expected: int
) -> None:
    client = UpstreamClient(
        connect_timeout=2,
        read_timeout=2,
        max_connections=4,
        max_response_bytes=1024,
        dns_cache_seconds=cache_seconds,
    )
    await client.start()
    try:
        server = await script(reply(b"x", headers=("Connection: close",)))
        for _ in range(3):
            await client.request("GET", f"http://localhost:{server.port}/", provider="p")
    finally:
        await client.close()
    assert server.connections == 3 and lookups == ["localhost"] * expected


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A loopback port where a connection attempt hangs: its listen queue is full, so the
    kernel drops further SYNs (as a blackholed IPv6 route or a dead address does)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fill = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fill.append(s)
    yield port
    for s in [*fill, listener]:
        s.close()


@pytest.mark.asyncio(loop_factories=["asyncio"])
@pytest.mark.parametrize("delay", [0.1, None], ids=["happy-eyeballs", "one-after-another"])
async def test_happy_eyeballs_tries_the_next_address_while_the_first_hangs(
    script, black_hole: int, monkeypatch: pytest.MonkeyPatch, delay: float | None
) -> None:
    """`upstream.test` resolves to a dead address first and a live one second. With Happy
    Eyeballs the second is tried `delay` after the first and answers at once; without, only
    once the first attempt has used up the connect timeout (which is per address)."""
    server = await script(reply(b"second address"))
    real = socket.getaddrinfo

    def two_addresses(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "upstream.test":
            return real(host, port, *args, **kwargs)
        tcp = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "")
        return [(*tcp, ("127.0.0.1", black_hole)), (*tcp, ("127.0.0.1", server.port))]

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    client = UpstreamClient(
        connect_timeout=0.8,
        read_timeout=2,
        max_connections=4,
        max_response_bytes=1024,
        happy_eyeballs_delay=delay,
    )
    await client.start()
    started = time.monotonic()
    try:
        resp = await client.request("GET", "http://upstream.test/", provider="p")
    finally:
        await client.close()
    elapsed = time.monotonic() - started
    assert resp.body == b"second address" and server.connections == 1
    assert elapsed < 0.6 if delay else elapsed >= 0.8


async def test_an_abandoned_call_closes_its_connection(script, client: UpstreamClient) -> None:
    server = await script(slow(0.3))
    call = asyncio.ensure_future(client.request("GET", server.url, provider="p"))
    await until(lambda: client.pool_stats()["in_use"] == 1)
    await asyncio.sleep(0.05)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert client.pool_stats() == {"in_use": 0, "idle": 0}
    await until(lambda: server.open_connections == 0)


async def test_close_closes_every_connection(script) -> None:
    client = UpstreamClient(
        connect_timeout=2, read_timeout=2, max_connections=4, max_response_bytes=1024
    )
    await client.start()
    idle, busy = await script(reply()), await script(slow(5))
    await client.request("GET", idle.url, provider="p")
    call = asyncio.ensure_future(client.request("POST", busy.url, provider="p", json={}))
    await until(lambda: client.pool_stats() == {"in_use": 1, "idle": 1})
    await client.close()
    with pytest.raises(UpstreamError) as caught:
        await call
    assert caught.value.billed_unknown
    await until(lambda: idle.open_connections == 0 and busy.open_connections == 0)
    assert not client.started and client.pool_stats() == {"in_use": 0, "idle": 0}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, {"max_connections": 512, "happy_eyeballs_delay": 0.25, "dns_cache_seconds": 300}),
        (
            {
                "upstream_max_connections": 7,
                "upstream_happy_eyeballs_delay_seconds": 0,
                "upstream_dns_cache_seconds": 0,
            },
            {"max_connections": 7, "happy_eyeballs_delay": None, "dns_cache_seconds": 0},
        ),
    ],
    ids=["defaults", "set"],
)
def test_the_settings_reach_the_gateways_client(
    tmp_path: Any, settings: dict[str, Any], expected: dict[str, Any]
) -> None:
    """UPSTREAM_MAX_CONNECTIONS, UPSTREAM_HAPPY_EYEBALLS_DELAY_SECONDS (0: off) and
    UPSTREAM_DNS_CACHE_SECONDS as the client above gets them (their effect is tested above)."""
    from image_gateway.app import create_app
    from tests.conftest import make_settings

    http = create_app(make_settings(tmp_path, **settings)).state.http
    assert {name: getattr(http, name) for name in expected} == expected
