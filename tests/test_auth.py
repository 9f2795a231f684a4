"""Client authentication over real sockets, and the key checker's rules."""

from __future__ import annotations

import pytest

from image_gateway.auth import KeyChecker
from image_gateway.errors import AuthenticationFailed
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway

BAD_KEYS = [
    None,
    "",
    "wrong-key-entirely",
    GATEWAY_TEST_KEY[:-1] + "X",  # differs at the last byte
    "X" + GATEWAY_TEST_KEY[1:],  # differs at the first byte
    "x" * 10_000,
    "' OR '1'='1",
    "1'; SELECT pg_sleep(5);--",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_get_the_same_401(gateway: RunningGateway, key: str | None) -> None:
    with gateway.client(key=None) as http:
        headers = {} if key is None else {"X-API-Key": key}
        resp = http.post("/v1/images/generations", json={"prompt": "p"}, headers=headers)
    assert resp.status_code == 401
    error = resp.json()["error"]
    assert error["type"] == "authentication_error"
    assert error["code"] == "invalid_api_key"
    assert "X-API-Key" in error["message"]
    if key:
        assert key not in resp.text


@pytest.mark.parametrize(
    "header", ["Bearer", "Basic " + GATEWAY_TEST_KEY, "Bearer  x", "Token x", "bearer"]
)
def test_malformed_authorization_headers(gateway: RunningGateway, header: str) -> None:
    with gateway.client(key=None) as http:
        resp = http.get("/v1/models", headers={"Authorization": header})
    assert resp.status_code == 401


def test_key_as_header_or_bearer(gateway: RunningGateway) -> None:
    with gateway.client(key=None) as http:
        assert http.get("/v1/models", headers={"X-API-Key": GATEWAY_TEST_KEY}).status_code == 200
        bearer = {"Authorization": f"Bearer {GATEWAY_TEST_KEY}"}
        assert http.get("/v1/models", headers=bearer).status_code == 200


def test_routes_without_a_key(gateway: RunningGateway) -> None:
    """Route inventory: every route either needs a key or is on the short public list."""
    public = {
        "/healthz",
        "/readyz",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        "/v1/images/files/{image_id}",
    }
    with gateway.client(key=None) as http:
        spec = http.get("/openapi.json").json()
    routes = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    assert ("/v1/images/generations", "POST") in routes
    assert ("/v1/images/edits", "POST") in routes
    with gateway.client(key=None) as http:
        for path, method in sorted(routes):
            if path in public or method == "HEAD":
                continue
            resp = http.request(method, path.replace("{image_id}", "x"))
            assert resp.status_code == 401, (method, path)


def test_development_mode_serves_loopback_only() -> None:
    checker = KeyChecker([])
    assert checker.development_mode
    assert checker.authenticate(None, None, "127.0.0.1").name == "development"
    assert checker.authenticate(None, None, "::1").name == "development"
    for host in ("10.0.0.5", "192.168.1.2", "8.8.8.8", None, "not-an-ip"):
        with pytest.raises(AuthenticationFailed):
            checker.authenticate(None, None, host)


def test_development_mode_end_to_end(start_gateway) -> None:
    gw = start_gateway(gateway_api_keys=[])
    with gw.client(key=None) as http:
        resp = http.post("/v1/images/generations", json={"prompt": "p", "size": "64x64"})
    assert resp.status_code == 200


def test_keys_are_named_not_echoed() -> None:
    checker = KeyChecker(["first-key-123", "second-key-456"])
    assert checker.authenticate("second-key-456", None, "8.8.8.8").name == "key-2"
    assert checker.authenticate(None, "Bearer first-key-123", "8.8.8.8").name == "key-1"
