"""https upstreams: certificate verification, SNI, and a CA bundle added to the system's trust
(UPSTREAM_CA_BUNDLE), against a loopback server with its own CA."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_gateway.errors import UpstreamError
from image_gateway.upstream.client import UpstreamClient
from tests.upstream.conftest import make_pki, reply


def client_with(ca_bundle: Path | None) -> UpstreamClient:
    return UpstreamClient(
        connect_timeout=2,
        read_timeout=2,
        max_connections=2,
        max_response_bytes=1024,
        ca_bundle=ca_bundle,
    )


async def test_https_with_the_ca_bundle_and_sni(script, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    server = await script(reply(b"secure"), tls=pki.server)
    client = client_with(pki.ca_file)
    await client.start()
    try:
        for _ in range(2):
            resp = await client.request(
                "POST", f"https://localhost:{server.port}/v1", provider="p", json={}
            )
            assert resp.body == b"secure"
    finally:
        await client.close()
    assert pki.names == ["localhost"]  # one handshake (the connection was reused), with SNI
    assert server.requests[0].headers["host"] == f"localhost:{server.port}"


async def test_without_the_bundle_the_certificate_is_could_not_connect(
    script, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path)
    server = await script(reply(b"secure"), tls=pki.server)
    client = client_with(None)  # the system's CAs: our test CA is not among them
    await client.start()
    try:
        with pytest.raises(UpstreamError) as caught:
            await client.request(
                "POST", f"https://localhost:{server.port}/v1", provider="p", json={}
            )
    finally:
        await client.close()
    assert caught.value.message == "could not connect to p"
    assert caught.value.retryable and server.requests == []


async def test_the_bundle_adds_to_the_system_trust_it_does_not_replace_it(
    script, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Servers signed by a system CA stay trusted beside the bundle's (a public provider and a
    TLS-inspecting proxy at once). OpenSSL takes the system's CAs from SSL_CERT_FILE when set:
    here a second test CA plays the system's."""
    system, inspecting = make_pki(tmp_path / "system"), make_pki(tmp_path / "bundle")
    monkeypatch.setenv("SSL_CERT_FILE", str(system.ca_file))
    public = await script(reply(b"public"), tls=system.server)
    inspected = await script(reply(b"inspected"), tls=inspecting.server)
    client = client_with(inspecting.ca_file)
    await client.start()
    try:
        for server, body in ((public, b"public"), (inspected, b"inspected")):
            url = f"https://localhost:{server.port}/"
            assert (await client.request("GET", url, provider="p")).body == body
    finally:
        await client.close()


async def test_a_name_the_certificate_does_not_cover_is_could_not_connect(
    script, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path, name="other.test")
    server = await script(reply(b"secure"), tls=pki.server)
    client = client_with(pki.ca_file)
    await client.start()
    try:
        with pytest.raises(UpstreamError, match="could not connect"):
            await client.request("GET", f"https://localhost:{server.port}/", provider="p")
    finally:
        await client.close()
    assert server.requests == []
