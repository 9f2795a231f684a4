"""Transport failures become the gateway's errors, with `retryable` only when nothing was sent."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest

from image_gateway.errors import UpstreamError, UpstreamTimeout
from image_gateway.upstream.client import UpstreamClient
from tests.ports import free_port
from tests.upstream.conftest import Handler, Received, raw_reply, reset, until

JSON = {"prompt": "a fox"}


async def silent(req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


@pytest.fixture
async def quick() -> AsyncIterator[UpstreamClient]:
    """A client with short timeouts."""
    c = UpstreamClient(
        connect_timeout=0.3, read_timeout=0.3, max_connections=4, max_response_bytes=1 << 20
    )
    await c.start()
    yield c
    await c.close()


@pytest.mark.parametrize(("method", "retryable"), [("POST", True), ("GET", False)])
async def test_refused_is_could_not_connect(
    quick: UpstreamClient, method: str, retryable: bool
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1/secret-path"
    with pytest.raises(UpstreamError) as caught:
        await quick.request(method, url, provider="openai", headers={"Authorization": "sk-x"})
    err = caught.value
    assert err.message == "could not connect to openai" and err.provider == "openai"
    assert err.retryable is retryable and not err.billed_unknown
    assert quick.pool_stats() == {"in_use": 0, "idle": 0}


async def test_dns_failure_is_could_not_connect(quick: UpstreamClient) -> None:
    with pytest.raises(UpstreamError, match="could not connect") as caught:
        await quick.request("POST", "http://no-such-host.invalid/v1", provider="p", json=JSON)
    assert caught.value.retryable and not caught.value.billed_unknown


async def test_a_tls_handshake_that_never_ends_is_a_connect_timeout(
    script, quick: UpstreamClient
) -> None:
    server = await script(silent)  # plain TCP: never answers the TLS ClientHello
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        await quick.request("POST", f"https://127.0.0.1:{server.port}/", provider="p", json=JSON)
    assert 0.25 < time.monotonic() - started < 2
    err = caught.value
    assert err.message == "p did not accept a connection in time"
    assert err.retryable and not err.billed_unknown


@pytest.mark.parametrize(("method", "billed"), [("POST", True), ("GET", False)])
async def test_silence_after_sending_is_a_read_timeout(
    script, quick: UpstreamClient, method: str, billed: bool
) -> None:
    server = await script(silent)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        await quick.request(method, server.url, provider="p", json=JSON)
    assert 0.25 < time.monotonic() - started < 2
    err = caught.value
    assert err.message == "p did not answer in time"
    assert err.billed_unknown is billed and not err.retryable
    assert quick.pool_stats() == {"in_use": 0, "idle": 0}


async def trickle(req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    """Headers, then one byte every 0.1 s: slow, never silent for 0.3 s (12 bytes)."""
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n")
    for _ in range(12):
        await asyncio.sleep(0.1)
        w.write(b"x")


async def test_a_slow_body_that_keeps_coming_is_not_a_timeout(script) -> None:
    # The read timeout (0.6 s) bounds each gap (0.1 s), not the body (1.2 s): six times the gap,
    # so a loaded machine's scheduling delays do not turn a gap into a timeout.
    client = UpstreamClient(
        connect_timeout=0.6, read_timeout=0.6, max_connections=4, max_response_bytes=1 << 20
    )
    await client.start()
    try:
        server = await script(trickle)
        started = time.monotonic()
        resp = await client.request("GET", server.url, provider="p")
        assert resp.body == b"x" * 12 and time.monotonic() - started > 1.0
    finally:
        await client.close()


async def test_the_deadline_bounds_the_whole_exchange(script, quick: UpstreamClient) -> None:
    server = await script(trickle)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match="did not answer in time"):
        await quick.request("GET", server.url, provider="p", deadline=0.35)
    assert time.monotonic() - started < 1.0
    await asyncio.sleep(0)
    assert quick.pool_stats() == {"in_use": 0, "idle": 0}


async def test_silence_in_the_middle_of_the_body_is_a_read_timeout(
    script, quick: UpstreamClient
) -> None:
    server = await script(raw_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
    with pytest.raises(UpstreamTimeout, match="did not answer in time"):
        await quick.request("GET", server.url, provider="p")


async def rst(req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    reset(w)


async def rst_mid_body(req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
    await w.drain()
    await asyncio.sleep(0.05)
    reset(w)


async def eof(req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    w.close()


@pytest.mark.parametrize(
    "handler",
    [
        rst,
        rst_mid_body,
        eof,
        raw_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", close=True),
        raw_reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", close=True),
    ],
    ids=["reset", "reset-mid-body", "eof", "truncated", "truncated-chunked"],
)
async def test_a_connection_lost_after_sending_is_billed_unknown(
    script, quick: UpstreamClient, handler: object
) -> None:
    server = await script(handler)  # type: ignore[arg-type]
    with pytest.raises(UpstreamError) as caught:
        await quick.request("POST", f"{server.url}/v1", provider="bfl", json=JSON)
    err = caught.value
    assert err.message.startswith("connection to bfl failed (")
    assert err.billed_unknown and not err.retryable
    assert quick.pool_stats() == {"in_use": 0, "idle": 0}


@pytest.mark.parametrize(
    "data",
    [
        b"<html>not http</html>\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
    ],
    ids=["not-http", "bad-length", "extra-bytes", "bad-gzip"],
)
async def test_a_malformed_response_is_an_upstream_error(
    script, quick: UpstreamClient, data: bytes
) -> None:
    server = await script(raw_reply(data))
    try:
        resp = await quick.request("GET", server.url, provider="p")
    except UpstreamError as err:
        assert "malformed" in err.message
    else:  # bytes after a complete response: the response stands
        assert resp.body == b"ok"
    await until(lambda: quick.pool_stats()["in_use"] == 0)


async def test_messages_never_carry_the_url_or_headers(quick: UpstreamClient) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1/tenant-secret?key=k-123"
    with pytest.raises(UpstreamError) as caught:
        await quick.request("GET", url, provider="p", headers={"x-key": "k-123"})
    assert "secret" not in str(caught.value) and "k-123" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_a_request_before_start_is_a_programming_error() -> None:
    c = UpstreamClient(connect_timeout=1, read_timeout=1, max_connections=1, max_response_bytes=1)
    with pytest.raises(RuntimeError):
        await c.request("GET", "http://127.0.0.1:1/", provider="p")
    assert not c.started and c.pool_stats() == {"in_use": 0, "idle": 0}


def answer_after(*delays: float | None) -> Handler:
    """Answers the n-th request on a connection after `delays[n]` seconds (None: never)."""
    seen: dict[int, int] = {}  # requests so far per connection

    async def handler(req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        seen[req.connection] = seen.get(req.connection, 0) + 1
        delay = delays[min(len(delays), seen[req.connection]) - 1]
        if delay is None:
            await asyncio.sleep(30)
            return
        await asyncio.sleep(delay)
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await w.drain()

    return handler


async def test_a_call_may_wait_longer_than_the_clients_read_timeout(
    script, quick: UpstreamClient
) -> None:
    # A long wait first, then a short one on the same connection: the timer armed for the
    # first must not let the second stay silent for as long.
    server = await script(answer_after(0.6, None))
    resp = await quick.request("POST", server.url, provider="p", json=JSON, read_timeout=2)
    assert resp.status == 200
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match="did not answer in time"):
        await quick.request("GET", server.url, provider="p")
    assert time.monotonic() - started < 1.0 and server.connections == 1


async def test_a_long_read_timeout_outlasts_a_timer_armed_for_a_short_one(
    script, quick: UpstreamClient
) -> None:
    server = await script(answer_after(0.0, 0.6))
    assert (await quick.request("GET", server.url, provider="p")).status == 200
    resp = await quick.request("POST", server.url, provider="p", json=JSON, read_timeout=2)
    assert resp.status == 200 and server.connections == 1


def partial_then_wait(data: bytes) -> Handler:
    """The first connection's request gets `data` (a head and part of a body), then silence
    until the client hangs up; any later one a small complete answer."""

    async def handler(req: Received, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        if req.connection == 1:
            w.write(data)
            await w.drain()
            await r.read(1)  # b"" once the client closes
        else:
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await w.drain()

    return handler


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n" + b"y" * 20_000, "too large"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4e20\r\n" + b"y" * 20_000,
            "too large",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 9000\r\n\r\n" + b"y" * 5000, "did not answer"),
    ],
    ids=["declared-over-the-cap", "chunked-over-the-cap", "silent-mid-body"],
)
async def test_a_connection_left_mid_body_is_closed_not_reused(
    script, data: bytes, error: str
) -> None:
    client = UpstreamClient(
        connect_timeout=1, read_timeout=0.3, max_connections=4, max_response_bytes=10_000
    )
    await client.start()
    try:
        server = await script(partial_then_wait(data))
        with pytest.raises(UpstreamError if "large" in error else UpstreamTimeout, match=error):
            await client.request("GET", server.url, provider="p")
        await until(lambda: server.closed_by_client == 1)  # we hung up on it
        assert client.pool_stats() == {"in_use": 0, "idle": 0}
        resp = await client.request("GET", server.url, provider="p")
        assert resp.body == b"ok" and server.connections == 2
    finally:
        await client.close()


@pytest.mark.asyncio(loop_factories=["asyncio"])  # uvloop resolves in libuv: nothing to slow
async def test_a_dns_lookup_counts_within_the_connect_timeout(
    quick: UpstreamClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def slow(*args: object, **kwargs: object) -> object:
        time.sleep(1.0)  # in the resolver's thread
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        await quick.request("POST", "http://slow-dns.test/v1", provider="p", json=JSON)
    assert 0.25 < time.monotonic() - started < 0.9
    assert caught.value.message == "p did not accept a connection in time"
    assert caught.value.retryable and not caught.value.billed_unknown
