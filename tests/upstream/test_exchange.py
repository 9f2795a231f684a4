"""What the upstream client sends and how it reads every response framing, over real sockets."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import gzip
import zlib

import orjson
import pytest

from image_gateway.errors import UpstreamError
from image_gateway.upstream.client import FormPart, UpstreamClient
from tests.upstream.conftest import Handler, Received, raw_reply, reply


async def test_json_post_sends_our_headers_and_reads_a_content_length_body(
    script, client: UpstreamClient
) -> None:
    server = await script(reply(b'{"ok": true}', headers=("X-Thing: 1", "Retry-After: 3")))
    resp = await client.request(
        "POST",
        f"{server.url}/v1/images/generations?x=1",
        provider="openai",
        headers={"Authorization": "Bearer sk-1"},
        json={"prompt": "a fox"},
    )
    assert resp.status == 200 and resp.json("openai") == {"ok": True}
    assert resp.headers["retry-after"] == "3" and resp.headers["X-THING"] == "1"
    assert resp.headers.get("retry-after-ms") is None
    sent = server.requests[0]
    assert sent.request_line == "POST /v1/images/generations?x=1 HTTP/1.1"
    assert sent.headers["host"] == f"127.0.0.1:{server.port}"
    assert sent.headers["user-agent"] == "image-gateway"
    assert sent.headers["accept-encoding"] == "gzip, deflate"
    assert sent.headers["authorization"] == "Bearer sk-1"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["content-length"] == str(len(sent.body))
    assert orjson.loads(sent.body) == {"prompt": "a fox"}


async def test_get_has_no_body_and_the_connection_is_reused(script, client: UpstreamClient) -> None:
    server = await script(reply(b"abc"))
    for _ in range(3):
        resp = await client.request("GET", f"{server.url}/x", provider="p")
        assert resp.body == b"abc"
    assert "content-length" not in server.requests[0].headers
    assert server.connections == 1
    assert client.pool_stats() == {"in_use": 0, "idle": 1}


async def test_chunked_body(script, client: UpstreamClient) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    server = await script(raw_reply(chunked))
    for _ in range(2):
        assert (await client.request("GET", server.url, provider="p")).body == b"abcde"
    assert server.connections == 1


async def test_connection_close_from_the_server_is_not_reused(
    script, client: UpstreamClient
) -> None:
    server = await script(reply(b"x", headers=("Connection: close",)))
    for _ in range(2):
        assert (await client.request("GET", server.url, provider="p")).body == b"x"
    assert server.connections == 2
    assert client.pool_stats() == {"in_use": 0, "idle": 0}


async def test_http10_body_delimited_by_close(script, client: UpstreamClient) -> None:
    server = await script(raw_reply(b"HTTP/1.0 200 OK\r\nX-A: b\r\n\r\nuntil the end", close=True))
    resp = await client.request("GET", server.url, provider="p")
    assert resp.status == 200 and resp.body == b"until the end"
    assert client.pool_stats()["idle"] == 0


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
async def test_responses_without_a_body(script, client: UpstreamClient, status: str) -> None:
    server = await script(raw_reply(f"HTTP/1.1 {status}\r\nX-A: b\r\n\r\n".encode()))
    for _ in range(2):
        resp = await client.request("GET", server.url, provider="p")
        assert resp.body == b"" and resp.status == int(status[:3])
    assert server.connections == 1


async def test_head_response_declares_a_length_but_has_no_body(
    script, client: UpstreamClient
) -> None:
    server = await script(raw_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"))
    resp = await client.request("HEAD", server.url, provider="p")
    assert resp.status == 200 and resp.body == b"" and resp.headers["content-length"] == "1234"


async def test_interim_response_is_skipped(script, client: UpstreamClient) -> None:
    data = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
    )
    server = await script(raw_reply(data))
    resp = await client.request("POST", server.url, provider="p", json={})
    assert resp.status == 201 and resp.body == b"ok" and "link" not in resp.headers


@pytest.mark.parametrize("status", ["301 Moved Permanently", "302 Found", "307 Temporary Redirect"])
async def test_redirects_are_returned_as_they_are(
    script, client: UpstreamClient, status: str
) -> None:
    target = await script(reply(b"elsewhere"))
    server = await script(reply(b"", status=status, headers=(f"Location: {target.url}/x",)))
    resp = await client.request("POST", server.url, provider="p", json={})
    assert resp.status == int(status[:3]) and resp.headers["location"] == f"{target.url}/x"
    assert len(server.requests) == 1 and target.requests == []


async def test_cookies_are_never_sent_back(script, client: UpstreamClient) -> None:
    server = await script(reply(b"{}", headers=("Set-Cookie: session=abc; Path=/",)))
    for _ in range(2):
        resp = await client.request("GET", f"{server.url}/x", provider="p")
        assert resp.headers["set-cookie"].startswith("session=abc")
    assert [r.headers.get("cookie") for r in server.requests] == [None, None]


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, no zlib header
    ],
)
async def test_compressed_bodies_are_decompressed(
    script, client: UpstreamClient, encoding: str, compress: object
) -> None:
    body = b'{"data": "' + b"x" * 5000 + b'"}'
    packed = compress(body)  # type: ignore[operator]
    server = await script(reply(packed, headers=(f"Content-Encoding: {encoding}",)))
    for _ in range(2):
        resp = await client.request("GET", server.url, provider="p")
        assert resp.body == body
    assert server.connections == 1


def gzipped(body: bytes, framing: str, status: str = "200 OK") -> Handler:
    """A gzip body as one Content-Length body, or in 8 kB chunks."""
    if framing == "length":
        return reply(body, status=status, headers=("Content-Encoding: gzip",))
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 8192]), body[i : i + 8192])
        for i in range(0, len(body), 8192)
    )
    head = f"HTTP/1.1 {status}\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
    return raw_reply(head.encode() + chunks + b"0\r\n\r\n")


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_a_decompression_bomb_stops_at_the_byte_cap(
    script, client: UpstreamClient, framing: str
) -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))  # ~50 kB on the wire, 50 MB inflated
    assert len(bomb) < 64 * 1024
    server = await script(gzipped(bomb, framing, status="202 Accepted"))
    with pytest.raises(UpstreamError, match="too large") as caught:
        await client.request("POST", server.url, provider="p", json={})
    assert not caught.value.retryable and caught.value.billed_unknown  # a 2xx to a POST


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_bodies_over_the_cap_are_refused(
    script, client: UpstreamClient, framing: str
) -> None:
    big = b"y" * (64 * 1024 + 1)
    if framing == "length":
        handler = reply(big)
    else:
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(big[i : i + 8192]), big[i : i + 8192])
                          for i in range(0, len(big), 8192))  # fmt: skip
        handler = raw_reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
    server = await script(handler)
    with pytest.raises(UpstreamError, match="too large"):
        await client.request("GET", server.url, provider="p")


@pytest.mark.parametrize(
    ("method", "status", "billed"),
    [("POST", "200 OK", True), ("POST", "202 Accepted", True), ("POST", "500 Oops", False),
     ("GET", "200 OK", False)],
)  # fmt: skip
@pytest.mark.parametrize("framing", ["declared", "on the wire"])
async def test_a_2xx_answer_to_a_submission_too_large_to_read_may_have_been_charged(
    script, client: UpstreamClient, method: str, status: str, billed: bool, framing: str
) -> None:
    """The provider accepted a POST (2xx) whose answer we refuse to read whole: it may have
    made, and charged for, the images. A refusal (5xx) or a GET (a poll or download: nothing
    new is paid for) is not."""
    big = b"y" * (64 * 1024 + 1)
    head = f"HTTP/1.1 {status}\r\n".encode()
    if framing == "declared":
        handler = reply(big, status=status)
    else:  # no length: the body is cut off as it exceeds the cap
        handler = raw_reply(head + b"Connection: close\r\n\r\n" + big, close=True)
    server = await script(handler)
    with pytest.raises(UpstreamError, match="too large") as caught:
        body = {} if method == "POST" else None
        await client.request(method, server.url, provider="p", json=body)
    assert caught.value.billed_unknown is billed and not caught.value.retryable


async def test_multipart_form(script, client: UpstreamClient) -> None:
    server = await script(reply())
    parts = [
        FormPart("prompt", 'a fox, "quoted"\r\n--not-a-boundary'),
        FormPart("image[]", b"\x89PNG...", filename='in "1".png', content_type="image/png"),
        FormPart("mask", b"raw"),
    ]
    await client.request("POST", f"{server.url}/edits", provider="p", form=parts)
    sent: Received = server.requests[0]
    ctype = sent.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + sent.body
    )
    fields = [
        (p.get_param("name", header="content-disposition"), p.get_filename(),
         p.get_content_type(), p.get_payload(decode=True))
        for p in message.iter_parts()
    ]  # fmt: skip
    assert fields == [
        ("prompt", None, "text/plain", b'a fox, "quoted"\r\n--not-a-boundary'),
        ("image[]", "in %221%22.png", "image/png", b"\x89PNG..."),
        ("mask", "file", "application/octet-stream", b"raw"),
    ]


async def test_caller_headers_override_defaults_but_not_framing(
    script, client: UpstreamClient
) -> None:
    server = await script(reply())
    await client.request(
        "POST",
        f"{server.url}/a b/ü",
        provider="p",
        headers={"User-Agent": "custom", "Content-Length": "999", "Host": "evil"},
        json=[1],
    )
    sent = server.requests[0]
    assert sent.request_line == "POST /a%20b/%C3%BC HTTP/1.1"
    assert sent.headers["user-agent"] == "custom"
    assert sent.headers["content-length"] == "3" and sent.headers["host"] != "evil"
    assert sent.head.lower().count("user-agent") == 1


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/", {"X-Key": "k\r\nX-Injected: 1"}),
        ("/", {"X-Key": "k\nX-Injected: 1"}),
        ("/", {"X Key": "k"}),
        ("/", {"X-Key:": "k"}),
        ("@evil.test/", {}),  # userinfo: not the origin that was checked
        ("\r\nX-Injected: 1", {}),
    ],
    ids=["crlf-value", "lf-value", "space-in-name", "colon-in-name", "userinfo", "crlf-url"],
)
async def test_a_request_that_is_not_valid_http_is_never_sent(
    script, client: UpstreamClient, path: str, headers: dict[str, str]
) -> None:
    server = await script(reply())
    with pytest.raises(UpstreamError) as caught:
        await client.request("POST", server.url + path, provider="p", headers=headers, json={})
    err = caught.value
    assert err.message == "request to p is not valid HTTP"
    assert not err.retryable and not err.billed_unknown
    await asyncio.sleep(0.05)
    assert server.connections == 0


async def test_an_empty_compressed_body_is_empty(script, client: UpstreamClient) -> None:
    server = await script(reply(b"", headers=("Content-Encoding: gzip",)))
    assert (await client.request("GET", server.url, provider="p")).body == b""


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_a_truncated_compressed_body_is_malformed(
    script, client: UpstreamClient, framing: str
) -> None:
    """Whole as HTTP framing goes, but the gzip stream stops before its end: an error, never a
    silently short body."""
    server = await script(gzipped(gzip.compress(b"x" * 50_000)[:-8], framing))
    with pytest.raises(UpstreamError) as caught:
        await client.request("POST", server.url, provider="p", json={})
    err = caught.value
    assert err.message == "connection to p failed (malformed response: truncated compressed body)"
    assert err.billed_unknown


class Pieces:
    """A `BodyReader` that keeps what it is fed."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    def feed(self, data: bytes) -> None:
        self.pieces.append(data)


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_a_2xx_body_is_fed_to_the_answer_reader(
    script, client: UpstreamClient, framing: str
) -> None:
    """`answer_reader`: a 2xx body, decompressed, goes to the reader as it arrives (none of it
    kept in `body`); an error answer is read whole, as always."""
    data = bytes(range(256)) * 200
    server = await script(gzipped(gzip.compress(data), framing))
    resp = await client.request("POST", server.url, provider="p", json={}, answer_reader=Pieces)
    assert resp.status == 200 and resp.body == b""
    assert isinstance(resp.reader, Pieces) and b"".join(resp.reader.pieces) == data
    error = await script(reply(b'{"error": {}}', status="400 Bad Request"))
    resp = await client.request("POST", error.url, provider="p", json={}, answer_reader=Pieces)
    assert resp.status == 400 and resp.body == b'{"error": {}}' and resp.reader is None


async def test_a_2xx_fed_to_the_answer_reader_keeps_the_byte_cap(
    script, client: UpstreamClient
) -> None:
    """Over the cap (64 kB here), decompressed, while it is fed: refused as a body read whole
    is, and may have been charged (a 2xx to a POST)."""
    server = await script(gzipped(gzip.compress(b"\0" * (1 << 20)), "chunked"))
    with pytest.raises(UpstreamError, match="too large") as exc:
        await client.request("POST", server.url, provider="p", json={}, answer_reader=Pieces)
    assert exc.value.billed_unknown
