"""Egress proxies: the operator's (UPSTREAM_PROXY), the environment's only when opted in
(UPSTREAM_TRUST_ENV), and a TLS-inspecting one whose CA the operator adds (UPSTREAM_CA_BUNDLE),
through a real forward proxy on loopback (tests/upstream/proxy.py), for the client and for
a whole gateway."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from image_gateway.errors import UpstreamError
from image_gateway.upstream.client import UpstreamClient
from tests.conftest import CANARIES, OPENAI_TEST_KEY, RunningGateway
from tests.upstream.conftest import make_pki, reply
from tests.upstream.proxy import ForwardProxy

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def proxies() -> Iterator[Callable[..., ForwardProxy]]:
    started: list[ForwardProxy] = []

    def start(**options: Any) -> ForwardProxy:
        proxy = ForwardProxy(**options).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable from the machine running the tests, in either case."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


async def started_client(**options: Any) -> UpstreamClient:
    client = UpstreamClient(
        connect_timeout=2, read_timeout=2, max_connections=4, max_response_bytes=1024, **options
    )
    await client.start()
    return client


async def test_http_calls_go_through_the_operators_proxy(script, proxies) -> None:
    server, proxy = await script(reply(b"via the proxy")), proxies()
    client = await started_client(proxy=proxy.url)
    try:
        resp = await client.request("GET", f"{server.url}/v1/x?id=1", provider="p")
    finally:
        await client.close()
    assert resp.body == b"via the proxy"
    assert proxy.request_lines == [f"GET http://127.0.0.1:{server.port}/v1/x?id=1 HTTP/1.1"]
    assert server.requests[0].request_line == "GET /v1/x?id=1 HTTP/1.1"


async def test_https_calls_tunnel_through_it_with_connect(script, proxies, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    server, proxy = await script(reply(b"tunnelled"), tls=pki.server), proxies()
    client = await started_client(proxy=proxy.url, ca_bundle=pki.ca_file)
    try:
        for _ in range(2):
            url = f"https://localhost:{server.port}/v1"
            assert (await client.request("POST", url, provider="p", json={})).body == b"tunnelled"
    finally:
        await client.close()
    assert proxy.request_lines == [f"CONNECT localhost:{server.port} HTTP/1.1"]  # one tunnel
    assert pki.names == ["localhost"]  # TLS with the provider itself, end to end


async def test_credentials_in_the_proxy_url_are_sent_to_it_and_never_shown(
    script, proxies, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path)
    server = await script(reply(b"x"), tls=pki.server)
    proxy = proxies(refuse="407 Proxy Authentication Required")
    url = proxy.url.replace("http://", "http://egress:s3cret-pw@")
    client = await started_client(proxy=url, ca_bundle=pki.ca_file)
    try:
        with pytest.raises(UpstreamError) as caught:
            await client.request("POST", f"https://localhost:{server.port}/", provider="p")
    finally:
        await client.close()
    assert proxy.authorizations == ["Basic " + base64.b64encode(b"egress:s3cret-pw").decode()]
    err = caught.value
    assert err.message == "could not connect to p"  # refused tunnel: the provider saw nothing
    assert err.retryable and not err.billed_unknown and server.requests == []
    assert "s3cret" not in str(err) and err.__cause__ is None


async def test_the_environments_proxy_is_ignored_by_default(
    script, proxies, clean_env: pytest.MonkeyPatch
) -> None:
    server, proxy = await script(reply(b"direct")), proxies()
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        clean_env.setenv(name, proxy.url)
    client = await started_client()
    try:
        assert (await client.request("GET", server.url, provider="p")).body == b"direct"
    finally:
        await client.close()
    assert proxy.request_lines == []


async def test_with_trust_env_the_environments_proxy_and_no_proxy_apply(
    script, proxies, clean_env: pytest.MonkeyPatch
) -> None:
    server, proxy = await script(reply(b"answer")), proxies()
    clean_env.setenv("HTTP_PROXY", proxy.url)
    client = await started_client(trust_env=True)
    try:
        assert (await client.request("GET", f"{server.url}/a", provider="p")).body == b"answer"
        assert proxy.request_lines == [f"GET {server.url}/a HTTP/1.1"]
        clean_env.setenv("NO_PROXY", "127.0.0.1")
        assert (await client.request("GET", f"{server.url}/b", provider="p")).body == b"answer"
    finally:
        await client.close()
    assert len(proxy.request_lines) == 1 and len(server.requests) == 2


async def test_a_tls_inspecting_proxy_needs_its_ca_in_the_bundle(
    script, proxies, tmp_path: Path
) -> None:
    """The proxy answers the tunnel itself, with a certificate for the provider's name signed
    by its own CA: trusted only once UPSTREAM_CA_BUNDLE names that CA."""
    pki = make_pki(tmp_path, name="api.provider.test")
    server = await script(reply(b"inspected"))
    proxy = proxies(tls=pki.server, relay_to=("127.0.0.1", server.port))
    url = "https://api.provider.test/v1/images"
    for bundle in (None, pki.ca_file):
        client = await started_client(proxy=proxy.url, ca_bundle=bundle)
        try:
            if bundle is None:
                with pytest.raises(UpstreamError, match="could not connect"):
                    await client.request("POST", url, provider="p", json={})
                assert server.requests == []
            else:
                resp = await client.request("POST", url, provider="p", json={})
                assert resp.body == b"inspected"
        finally:
            await client.close()
    assert proxy.request_lines == ["CONNECT api.provider.test:443 HTTP/1.1"] * 2
    assert server.requests[0].headers["host"] == "api.provider.test"


# The settings, wired through a whole gateway.


def generate(gw: RunningGateway) -> Any:
    with gw.client(trust_env=False) as http:  # the test's own client: never via a proxy
        return http.post(
            "/v1/images/generations",
            json={"model": "gpt-image-1", "prompt": "a fox", "size": "1024x1024"},
        )


def test_a_gateway_calls_its_provider_through_upstream_proxy(
    start_gateway: Callable[..., RunningGateway], openai_emu: Any, proxies, gateway_logs: Any
) -> None:
    proxy = proxies()
    gw = start_gateway(
        openai_api_key=OPENAI_TEST_KEY,
        openai_base_url=openai_emu.base_url,
        upstream_proxy=proxy.url.replace("http://", "http://egress:s3cret-pw@"),
    )
    resp = generate(gw)
    assert resp.status_code == 200, resp.text
    assert proxy.request_lines == [f"POST {openai_emu.base_url}/images/generations HTTP/1.1"]
    assert proxy.authorizations[0] == "Basic " + base64.b64encode(b"egress:s3cret-pw").decode()
    (line,) = [line for line in gateway_logs.lines if "go through a proxy" in line]
    assert f"http://127.0.0.1:{proxy.port}" in line  # where to, without the credentials
    assert not any("s3cret" in line for line in gateway_logs.lines)


def test_a_gateway_behind_a_tls_inspecting_proxy_with_and_without_its_ca(
    start_gateway: Callable[..., RunningGateway],
    openai_emu: Any,
    proxies,
    tmp_path: Path,
    gateway_logs: Any,
) -> None:
    pki = make_pki(tmp_path / "pki", name="api.openai.test")
    host, port = openai_emu.base_url.removeprefix("http://").split("/")[0].split(":")
    proxy = proxies(tls=pki.server, relay_to=(host, int(port)))
    settings = {
        "openai_api_key": OPENAI_TEST_KEY,
        "openai_base_url": "https://api.openai.test/v1",
        "upstream_proxy": proxy.url,
    }
    refused = generate(start_gateway(**settings))
    assert refused.status_code == 502
    assert refused.json()["error"]["message"] == "could not connect to openai"
    served = generate(start_gateway(**settings, upstream_ca_bundle=pki.ca_file))
    assert served.status_code == 200, served.text
    assert served.json()["data"][0]["b64_json"]
    assert not any(canary in line for line in gateway_logs.lines for canary in CANARIES)


@pytest.mark.parametrize("trust_env", [False, True])
def test_a_gateway_takes_the_environments_proxy_only_with_upstream_trust_env(
    start_gateway: Callable[..., RunningGateway],
    openai_emu: Any,
    proxies,
    clean_env: pytest.MonkeyPatch,
    trust_env: bool,
) -> None:
    proxy = proxies()
    clean_env.setenv("HTTP_PROXY", proxy.url)
    gw = start_gateway(
        openai_api_key=OPENAI_TEST_KEY,
        openai_base_url=openai_emu.base_url,
        upstream_trust_env=trust_env,
    )
    resp = generate(gw)
    assert resp.status_code == 200, resp.text
    via = [f"POST {openai_emu.base_url}/images/generations HTTP/1.1"]
    assert proxy.request_lines == (via if trust_env else [])
