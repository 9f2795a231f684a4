"""The connection pool: limits, waiting, idle expiry, stale connections, DNS cache, close()."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from image_gateway import http_pool
from image_gateway.errors import UpstreamError, UpstreamTimeout
from image_gateway.http_client import UpstreamClient
from tests.http_client.conftest import Received, reply, until


@pytest.fixture
async def single() -> AsyncIterator[UpstreamClient]:
    """A client whose pool holds one connection."""
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
    assert [r.request_line.split()[1] for r in server.requests] == ["/0", "/1", "/2", "/3", "/4"]


async def test_waiting_for_a_connection_counts_within_the_deadline(
    script, single: UpstreamClient
) -> None:
    server = await script(slow(0.5))
    first = asyncio.ensure_future(single.request("GET", server.url, provider="p"))
    await until(lambda: single.pool_stats() == {"in_use": 1, "idle": 0})
    with pytest.raises(UpstreamTimeout):
        await single.request("GET", server.url, provider="p", deadline=0.1)
    assert (await first).body == b"ok"
    assert len(server.requests) == 1


async def test_a_full_pool_closes_an_idle_connection_of_another_origin(
    script, single: UpstreamClient
) -> None:
    a, b = await script(reply(b"a")), await script(reply(b"b"))
    assert (await single.request("GET", a.url, provider="p")).body == b"a"
    assert (await single.request("GET", b.url, provider="p")).body == b"b"
    assert single.pool_stats() == {"in_use": 0, "idle": 1}
    await until(lambda: a.open_connections == 0 and b.open_connections == 1)


async def test_idle_connections_expire(
    script, client: UpstreamClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_pool, "IDLE_TIMEOUT", 0.1)
    server = await script(reply())
    await client.request("GET", server.url, provider="p")
    assert client.pool_stats()["idle"] == 1
    await until(lambda: client.pool_stats()["idle"] == 0 and server.open_connections == 0)


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
        # dropped when the EOF came
        await until(lambda: client.pool_stats() == {"in_use": 0, "idle": 0})
    assert server.connections == 3 and len(server.requests) == 3


@pytest.mark.asyncio(loop_factories=["asyncio"])  # uvloop resolves in libuv: nothing to count
async def test_addresses_are_cached(
    script, client: UpstreamClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []
    real = socket.getaddrinfo

    def counting(host: str, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    server = await script(reply(b"x", headers=("Connection: close",)))
    for _ in range(3):
        await client.request("GET", f"http://localhost:{server.port}/", provider="p")
    assert server.connections == 3 and lookups == ["localhost"]


async def test_an_abandoned_exchange_closes_its_connection(script, client: UpstreamClient) -> None:
    server = await script(slow(0.3))
    call = asyncio.ensure_future(client.request("GET", server.url, provider="p"))
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
