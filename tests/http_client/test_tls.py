"""https upstreams: certificate verification and SNI, against a loopback server with its own CA."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest

from image_gateway.errors import UpstreamError
from image_gateway.http_client import UpstreamClient
from tests.http_client.conftest import reply

x509 = pytest.importorskip("cryptography.x509")
hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")


def make_pki(tmp_path: Path) -> tuple[str, ssl.SSLContext, list[str | None]]:
    """A CA (PEM), a server context for `localhost` signed by it, and the SNI names it saw."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(leaf.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    names: list[str | None] = []
    server.sni_callback = lambda sock, name, ctx: names.append(name)
    return ca.public_bytes(pem).decode(), server, names


async def test_https_with_a_trusted_certificate_and_sni(script, tmp_path: Path) -> None:
    ca, server_tls, names = make_pki(tmp_path)
    server = await script(reply(b"secure"), tls=server_tls)
    client = UpstreamClient(
        connect_timeout=2,
        read_timeout=2,
        max_connections=2,
        max_response_bytes=1024,
        ssl_context=ssl.create_default_context(cadata=ca),
    )
    await client.start()
    try:
        for _ in range(2):
            resp = await client.request(
                "POST", f"https://localhost:{server.port}/v1", provider="p", json={}
            )
            assert resp.body == b"secure"
    finally:
        await client.close()
    assert names == ["localhost"]  # one handshake (the connection was reused), with SNI
    assert server.requests[0].headers["host"] == f"localhost:{server.port}"


async def test_an_untrusted_certificate_is_could_not_connect(script, tmp_path: Path) -> None:
    _, server_tls, _ = make_pki(tmp_path)
    server = await script(reply(b"secure"), tls=server_tls)
    client = UpstreamClient(
        connect_timeout=2, read_timeout=2, max_connections=2, max_response_bytes=1024
    )  # the system's CAs: our test CA is not among them
    await client.start()
    try:
        with pytest.raises(UpstreamError, match="could not connect") as caught:
            await client.request(
                "POST", f"https://localhost:{server.port}/v1", provider="p", json={}
            )
    finally:
        await client.close()
    assert caught.value.retryable and server.requests == []
