"""Trust means scheme, host and port, over sockets: a BFL `polling_url` or `sample`, and an
OpenAI-compatible server's image `url`, reach a loopback listener that records every connection
and every key it is sent. Only an origin that is BFL_BASE_URL's or a BFL_TRUSTED_HOSTS entry's
may receive `x-key`; an OpenAI image URL never receives the key at all."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image

from tests.conftest import (
    BFL_TEST_KEY,
    OPENAI_TEST_KEY,
    OpenAIEmulatorHandle,
    RunningGateway,
)


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (9, 99, 199)).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


class KeyTrap:
    """An HTTP listener on 127.0.0.1 that counts connections and records the credentials each
    request carried. `/v1/get_result` answers a failed BFL task (the gateway stops polling);
    any other path a small PNG."""

    def __init__(self) -> None:
        trap = self
        self.connections = 0
        self.keys: list[str | None] = []  # `x-key` of each request (None: not sent)
        self.authorizations: list[str | None] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                trap.keys.append(self.headers.get("x-key"))
                trap.authorizations.append(self.headers.get("authorization"))
                if self.path.startswith("/v1/get_result"):
                    body, ctype = b'{"status": "Error", "details": "key trap"}', "application/json"
                else:
                    body, ctype = PNG, "image/png"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> Any:
                accepted = super().get_request()
                trap.connections += 1
                return accepted

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def trap() -> Iterator[KeyTrap]:
    t = KeyTrap()
    yield t
    t.close()


def bfl_gateway(start_gateway: Any, bfl: Any, trusted: list[str]) -> RunningGateway:
    return start_gateway(
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,  # http://127.0.0.1:<submit port>
        bfl_trusted_hosts=[bfl.poll_base_url, *trusted],
        bfl_poll_timeout_seconds=10,  # a wrong answer fails fast instead of hanging the test
    )


def submit_with_polling_url(gw: RunningGateway, bfl: Any, polling_url: str) -> Any:
    bfl.add_faults(
        [{"match": "submit", "status": 200, "body": {"id": "abc", "polling_url": polling_url}}]
    )
    with gw.client() as http:
        return http.post("/v1/images/generations", json={"model": "flux-dev", "prompt": "p"})


def test_the_trusted_origin_gets_the_key(start_gateway: Any, bfl: Any, trap: KeyTrap) -> None:
    """The control: a polling URL on an explicitly trusted origin is polled with `x-key`."""
    gw = bfl_gateway(start_gateway, bfl, [f"http://localhost:{trap.port}"])
    for spelling in ("localhost", "LOCALHOST"):
        resp = submit_with_polling_url(
            gw, bfl, f"http://{spelling}:{trap.port}/v1/get_result?id=abc"
        )
        assert resp.status_code == 502 and resp.json()["error"]["code"] == "generation_failed"
    assert trap.keys == [BFL_TEST_KEY, BFL_TEST_KEY]


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("http://127.0.0.1:{trap}/v1/get_result?id=abc", "the BFL host, another port"),
        ("http://localhost:{trap}/v1/get_result?id=abc", "http where the entry says https"),
        ("https://127.0.0.1:{trap}/v1/get_result?id=abc", "the entry's address, not its name"),
        ("http://user:pw@localhost:{trap}/v1/get_result?id=abc", "userinfo"),
        ("http://localhost:{poll}@localhost:{trap}/v1/get_result?id=abc", "origin as userinfo"),
        ("http://localhost:{trap}\\@127.0.0.1:{poll}/v1/get_result?id=abc", "a backslash"),
        ("http://l\u043ecalhost:{trap}/v1/get_result?id=abc", "an IDN look-alike"),
        ("http://local%68ost:{trap}/v1/get_result?id=abc", "a percent-encoded host"),
        ("http://[::ffff:127.0.0.1]:{trap}/v1/get_result?id=abc", "IPv4 inside IPv6"),
    ],
)
def test_an_untrusted_polling_url_never_gets_the_key(
    start_gateway: Any, bfl: Any, trap: KeyTrap, template: str, why: str
) -> None:
    # Trusted: the emulator's poll origin and https://localhost:<trap> (the trap's host and
    # port, but https): none of the URLs above matches them, and each would reach the trap.
    gw = bfl_gateway(start_gateway, bfl, [f"https://localhost:{trap.port}"])
    poll_port = bfl.poll_base_url.rsplit(":", 1)[1]
    url = template.format(trap=trap.port, poll=poll_port)
    resp = submit_with_polling_url(gw, bfl, url)
    # The gateway polled BFL_BASE_URL instead, where the emulator does not know the task.
    assert resp.status_code == 502 and resp.json()["error"]["code"] == "task_not_found", why
    assert trap.connections == 0 and trap.keys == [], why


def test_a_bare_suffix_entry_is_https_on_443_only(
    start_gateway: Any, bfl: Any, trap: KeyTrap
) -> None:
    gw = bfl_gateway(start_gateway, bfl, ["localhost"])
    resp = submit_with_polling_url(gw, bfl, f"http://localhost:{trap.port}/v1/get_result?id=abc")
    assert resp.status_code == 502 and resp.json()["error"]["code"] == "task_not_found"
    assert trap.connections == 0


def test_the_refused_polling_url_is_logged_by_origin_only(
    start_gateway: Any, bfl: Any, trap: KeyTrap, gateway_logs: Any
) -> None:
    gw = bfl_gateway(start_gateway, bfl, [])
    submit_with_polling_url(gw, bfl, f"http://127.0.0.1:{trap.port}/v1/get_result?id=abc")
    warned = [line for line in gateway_logs.lines if "untrusted polling_url" in line]
    assert warned and f'"origin":"http://127.0.0.1:{trap.port}"' in warned[0]
    assert "get_result" not in warned[0] and trap.connections == 0


def ready_with_sample(bfl: Any, sample: str) -> None:
    bfl.add_faults(
        [
            {
                "match": "poll",
                "status": 200,
                "body": {"id": "x", "status": "Ready", "result": {"sample": sample, "seed": 1}},
            }
        ]
    )


def test_a_sample_on_another_port_is_not_downloaded(
    start_gateway: Any, bfl: Any, trap: KeyTrap
) -> None:
    gw = bfl_gateway(start_gateway, bfl, [])
    ready_with_sample(bfl, f"http://127.0.0.1:{trap.port}/delivery/x.png")
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == 502
    error = resp.json()["error"]
    assert "untrusted origin" in error["message"] and "BFL_TRUSTED_HOSTS" in error["message"]
    assert trap.connections == 0


def test_a_sample_on_a_trusted_origin_is_downloaded_without_the_key(
    start_gateway: Any, bfl: Any, trap: KeyTrap
) -> None:
    gw = bfl_gateway(start_gateway, bfl, [f"http://127.0.0.1:{trap.port}"])
    ready_with_sample(bfl, f"http://127.0.0.1:{trap.port}/delivery/x.png")
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"][0]["size"] == "40x30"
    assert trap.keys == [None]  # the download carried no x-key


# OpenAI-compatible servers that answer `url` although asked for `b64_json`.


def openai_gateway(start_gateway: Any, openai_emu: OpenAIEmulatorHandle, **extra: Any) -> Any:
    return start_gateway(
        openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url, **extra
    )


def answer_with_url(openai_emu: OpenAIEmulatorHandle, url: str) -> None:
    openai_emu.add_faults(
        [{"match": "generate", "status": 200, "body": {"created": 1, "data": [{"url": url}]}}]
    )


def generate_openai(gw: RunningGateway) -> Any:
    with gw.client() as http:
        return http.post("/v1/images/generations", json={"model": "dall-e-2", "prompt": "p"})


def test_an_image_url_on_the_endpoint_origin_is_downloaded_without_the_key(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw = openai_gateway(start_gateway, openai_emu)
    openai_emu.add_faults([{"match": "generate", "as_url": True}])
    resp = generate_openai(gw)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"][0]["size"] == "1024x1024"
    stats = openai_emu.stats()
    assert stats["requests"]["file"] == 1
    assert "authorization" not in stats["last_request"]["headers"]  # the download's headers


def test_an_image_url_elsewhere_on_loopback_is_refused(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle, trap: KeyTrap
) -> None:
    """Off the endpoint's origin only public addresses are fetched (the input-image guard):
    a URL pointing inside (loopback, metadata, private) is never connected to."""
    gw = openai_gateway(start_gateway, openai_emu)
    for url in (
        f"http://127.0.0.1:{trap.port}/x.png",
        f"http://localhost:{trap.port}/x.png",
        "http://169.254.169.254/latest/meta-data/",
    ):
        answer_with_url(openai_emu, url)
        resp = generate_openai(gw)
        assert resp.status_code == 502, url
        assert "refused" in resp.json()["error"]["message"]
    assert trap.connections == 0


def test_an_image_url_elsewhere_is_fetched_without_the_key(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle, trap: KeyTrap
) -> None:
    # FETCH_ALLOW_HOSTS (tests only) stands in for a public host here.
    gw = openai_gateway(start_gateway, openai_emu, fetch_allow_hosts=[f"127.0.0.1:{trap.port}"])
    answer_with_url(openai_emu, f"http://127.0.0.1:{trap.port}/img/x.png")
    resp = generate_openai(gw)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"][0]["size"] == "40x30"
    assert trap.authorizations == [None] and trap.keys == [None]
