"""Client authentication over real sockets: every way a key is presented, in production and
in development mode (no GATEWAY_API_KEYS), stored keys before and after revocation."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.admin_helpers import ADMIN_TEST_KEY, create_key, revoke_key
from tests.conftest import GATEWAY_TEST_KEY, LogCapture, RunningGateway

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
        "/",
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


GENERATE = {"prompt": "p", "size": "64x64"}
# uvicorn takes the client address from X-Forwarded-For when the peer is 127.0.0.1 (its
# FORWARDED_ALLOW_IPS default): how a remote client arrives through a reverse proxy on the host.
REMOTE = {"X-Forwarded-For": "203.0.113.9"}


@pytest.fixture
def dev_gateway(start_gateway: Callable[..., RunningGateway]) -> RunningGateway:
    """Development mode (no GATEWAY_API_KEYS), with the admin API for stored keys."""
    return start_gateway(gateway_api_keys=[], admin_api_key=ADMIN_TEST_KEY)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": ""},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"X-API-Key": "", "Authorization": "Bearer"},
    ],
    ids=["none", "empty-x-api-key", "empty-auth", "bearer-no-token", "both"],
)
def test_development_mode_serves_requests_without_a_key_from_loopback(
    dev_gateway: RunningGateway, headers: dict[str, str]
) -> None:
    with dev_gateway.client(key=None) as http:
        resp = http.post("/v1/images/generations", json=GENERATE, headers=headers)
        assert resp.status_code == 200, resp.text
        remote = http.post("/v1/images/generations", json=GENERATE, headers={**headers, **REMOTE})
    assert remote.status_code == 401
    assert "development mode" in remote.json()["error"]["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "wrong-key-entirely"},
        {"Authorization": "Bearer wrong-key-entirely"},
        {"Authorization": "bearer  wrong-key-entirely"},
        {"Authorization": "Basic d3Jvbmc6a2V5"},
        {"Authorization": "Token wrong-key-entirely"},
        {"X-API-Key": "x" * 10_000},
        {"X-API-Key": "wrong-key-entirely", "Authorization": f"Bearer {ADMIN_TEST_KEY}"},
        {"X-API-Key": "' OR '1'='1"},
    ],
    ids=["x-api-key", "bearer", "bearer-spaces", "basic", "token", "oversized", "x-wins", "sql"],
)
def test_development_mode_refuses_a_wrong_key_from_anywhere(
    dev_gateway: RunningGateway, headers: dict[str, str]
) -> None:
    """A presented key is checked in every mode: only a request with no key is development."""
    with dev_gateway.client(key=None) as http:
        for extra in ({}, REMOTE):
            resp = http.post("/v1/images/generations", json=GENERATE, headers={**headers, **extra})
            assert resp.status_code == 401, resp.text
            assert resp.json()["error"]["code"] == "invalid_api_key"
            for path in ("/v1/models", "/v1/jobs", "/v1/usage"):
                assert http.get(path, headers={**headers, **extra}).status_code == 401, path


def test_development_mode_honours_stored_keys_until_they_are_revoked(
    dev_gateway: RunningGateway, gateway_logs: LogCapture
) -> None:
    created = create_key(dev_gateway, name="tester", scopes=["usage"])
    presented = ({"X-API-Key": created["key"]}, {"Authorization": f"Bearer {created['key']}"})
    for present in presented:
        with dev_gateway.client(key=None) as http:
            # The stored key's own scopes apply, from loopback and from afar alike.
            for extra in ({}, REMOTE):
                resp = http.post(
                    "/v1/images/generations", json=GENERATE, headers={**present, **extra}
                )
                assert resp.status_code == 403, resp.text
                assert resp.json()["error"]["code"] == "missing_scope"
                assert http.get("/v1/usage", headers={**present, **extra}).status_code == 200
    revoke_key(dev_gateway, created["id"])
    with dev_gateway.client(key=None) as http:
        for present in presented:
            resp = http.post("/v1/images/generations", json=GENERATE, headers=present)
            assert resp.status_code == 401, resp.text
            assert http.get("/v1/models", headers=present).status_code == 401
    with dev_gateway.client(key=ADMIN_TEST_KEY) as admin:  # the admin key itself works too
        assert admin.get("/v1/admin/keys").status_code == 200
    clients = {json.loads(line).get("client") for line in gateway_logs.lines}
    assert "tester" in clients


def test_keys_are_named_not_echoed(
    start_gateway: Callable[..., RunningGateway], gateway_logs: LogCapture
) -> None:
    gw = start_gateway(gateway_api_keys=["first-key-123", "second-key-456"])
    with gw.client(key=None) as http:
        assert http.get("/v1/models", headers={"X-API-Key": "second-key-456"}).status_code == 200
        bearer = {"Authorization": "Bearer first-key-123"}
        assert http.get("/v1/models", headers=bearer).status_code == 200
        # With GATEWAY_API_KEYS set, a request without a key is refused, from loopback too.
        assert http.get("/v1/models").status_code == 401
    lines = [json.loads(line) for line in gateway_logs.lines if '"request"' in line]
    assert [line["client"] for line in lines[:2]] == ["key-2", "key-1"]
    text = "\n".join(gateway_logs.lines)
    assert "first-key-123" not in text and "second-key-456" not in text


def test_the_openai_sdk_with_a_wrong_key_gets_401_in_development_mode(
    dev_gateway: RunningGateway,
) -> None:
    import openai

    with openai.OpenAI(
        base_url=dev_gateway.url + "/v1", api_key="sk-not-a-gateway-key", max_retries=0
    ) as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            client.images.generate(model="local/local-art", prompt="a fox", size="256x256")
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    created = create_key(dev_gateway, name="sdk")
    with openai.OpenAI(
        base_url=dev_gateway.url + "/v1", api_key=created["key"], max_retries=0
    ) as client:
        result = client.images.generate(model="local/local-art", prompt="a fox", size="256x256")
    assert result.data and result.data[0].b64_json


# Headers a proxy on this host adds (nginx's `proxy_set_header X-Real-IP $remote_addr` alone is
# common): each one, whatever address it names, means the loopback peer relays someone else.
PROXY_SIGNS = [
    {"Forwarded": "for=1.2.3.4"},
    {"Forwarded": 'for="[2001:db8::1]";proto=https'},
    {"X-Real-IP": "1.2.3.4"},
    {"X-Real-IP": "127.0.0.1"},
    {"X-Forwarded-For": "127.0.0.1"},
    {"X-Forwarded-Host": "gateway.example"},
    {"X-Forwarded-Proto": "https"},
    {"X-Client-IP": "1.2.3.4"},
    {"CF-Connecting-IP": "1.2.3.4"},
    {"True-Client-IP": "1.2.3.4"},
    {"X-Original-Forwarded-For": "1.2.3.4"},
    {"X-Cluster-Client-IP": "1.2.3.4"},
    {"Fastly-Client-IP": "1.2.3.4"},
    {"Via": "1.1 nginx"},
]


@pytest.mark.parametrize(
    "proxy", PROXY_SIGNS, ids=lambda h: "-".join(f"{k}={v}" for k, v in h.items())
)
def test_development_mode_refuses_requests_relayed_by_a_proxy_on_this_host(
    dev_gateway: RunningGateway, gateway: RunningGateway, proxy: dict[str, str]
) -> None:
    """Development access needs a loopback peer and no sign of a proxy; with a key, a proxy is
    as welcome as ever."""
    with dev_gateway.client(key=None) as http:
        assert http.get("/v1/models").status_code == 200  # straight from loopback
        for resp in (
            http.post("/v1/images/generations", json=GENERATE, headers=proxy),  # a POST
            http.get("/v1/models", headers=proxy),  # a GET
        ):
            assert resp.status_code == 401, resp.text
            error = resp.json()["error"]
            assert error["code"] == "invalid_api_key"
            assert "development mode" in error["message"] and "proxy" in error["message"]
    with gateway.client() as http:
        resp = http.post("/v1/images/generations", json=GENERATE, headers=proxy)
        assert resp.status_code == 200, resp.text
        assert http.get("/v1/models", headers=proxy).status_code == 200


CANARY_IN_URL = "igw-url-canary-3c7e9a1f5b"
KEY_PARAMETERS = [
    "api_key",
    "key",
    "access_token",
    "token",
    "apikey",
    "x-api-key",
    "api-key",
    "apiKey",
    "X_API_KEY",
    "auth",
    "authorization",
    "admin_key",
    "client_secret",
    "password",
    "subscription-key",
    "key[]",
    "api%5Fkey",  # `api_key`, its name percent-encoded
]


@pytest.mark.parametrize("name", KEY_PARAMETERS)
def test_a_key_in_the_url_is_refused_in_every_mode(
    dev_gateway: RunningGateway, gateway: RunningGateway, name: str
) -> None:
    """Keys are read from headers only: a key-like query parameter is a 401 that says so,
    with or without a valid key in a header, in development mode from loopback too."""
    query = f"?{name}={CANARY_IN_URL}"
    for gw, key in ((dev_gateway, None), (gateway, GATEWAY_TEST_KEY)):
        with gw.client(key=key) as http:
            for resp in (
                http.post("/v1/images/generations" + query, json=GENERATE),
                http.post("/v1/images/edits" + query, data={"prompt": "p"}),
                http.get("/v1/models" + query + "&limit=2"),
                http.get("/v1/jobs" + query),
                http.get("/v1/usage" + query),
            ):
                assert resp.status_code == 401, (gw.settings.gateway_api_keys, resp.text)
                error = resp.json()["error"]
                assert error["code"] == "api_key_in_url"
                assert "headers only" in error["message"] and "X-API-Key" in error["message"]
                assert CANARY_IN_URL not in resp.text
                assert resp.headers["x-should-retry"] == "false"


def test_other_query_parameters_are_not_keys(gateway: RunningGateway) -> None:
    """What clients and the gateway's own links send: the AzureOpenAI SDK's `api-version`,
    signed image URLs' `expires`/`sig`, `/v1/usage`'s `key_id`."""
    with gateway.client() as http:
        resp = http.get("/v1/models?api-version=2024-10-21&limit=1&expires=1&sig=ab")
        assert resp.status_code == 200, resp.text
        assert http.get("/v1/usage?key_id=key_0123456789abcdef").status_code != 401


def test_the_openai_sdk_with_a_key_in_extra_query_is_told_where_keys_go(
    gateway: RunningGateway,
) -> None:
    import openai

    with openai.OpenAI(
        base_url=gateway.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0
    ) as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            client.images.generate(
                model="local/local-art",
                prompt="a fox",
                size="256x256",
                extra_query={"api_key": GATEWAY_TEST_KEY},
            )
    assert caught.value.code == "api_key_in_url"
    assert GATEWAY_TEST_KEY not in str(caught.value.body)


def test_the_azure_api_key_header_is_a_key_header(
    dev_gateway: RunningGateway, gateway: RunningGateway
) -> None:
    """`api-key: <key>` (the AzureOpenAI SDK's header) counts like `X-API-Key`, in every mode:
    a valid key is served, a wrong one is a 401, an empty one carries none."""
    with gateway.client(key=None) as http:
        assert http.get("/v1/models", headers={"api-key": GATEWAY_TEST_KEY}).status_code == 200
        resp = http.post(
            "/v1/images/generations", json=GENERATE, headers={"api-key": GATEWAY_TEST_KEY}
        )
        assert resp.status_code == 200, resp.text
        for headers in ({"api-key": "wrong-key-entirely"}, {"api-key": ""}):
            resp = http.post("/v1/images/generations", json=GENERATE, headers=headers)
            assert resp.status_code == 401, resp.text
            assert resp.json()["error"]["code"] == "invalid_api_key"
        # The order of precedence: X-API-Key, then api-key, then Authorization.
        both = {"X-API-Key": "wrong-key-entirely", "api-key": GATEWAY_TEST_KEY}
        assert http.get("/v1/models", headers=both).status_code == 401
        both = {"api-key": "wrong-key-entirely", "Authorization": f"Bearer {GATEWAY_TEST_KEY}"}
        assert http.get("/v1/models", headers=both).status_code == 401
    with dev_gateway.client(key=None) as http:
        for extra in ({}, REMOTE):
            resp = http.post(
                "/v1/images/generations",
                json=GENERATE,
                headers={"api-key": "wrong-key-entirely", **extra},
            )
            assert resp.status_code == 401, resp.text
            assert resp.json()["error"]["code"] == "invalid_api_key"
        assert http.get("/v1/models", headers={"api-key": ""}).status_code == 200  # none


def test_the_azure_openai_sdk_authenticates_with_its_api_key_header(
    dev_gateway: RunningGateway, gateway: RunningGateway
) -> None:
    import openai

    def azure(gw: RunningGateway, key: str) -> openai.AzureOpenAI:
        return openai.AzureOpenAI(
            base_url=gw.url + "/v1", api_key=key, api_version="2024-10-21", max_retries=0
        )

    with azure(gateway, GATEWAY_TEST_KEY) as client:
        assert any(m.id == "local/local-art" for m in client.models.list())
    for gw in (gateway, dev_gateway):
        with azure(gw, "sk-not-a-gateway-key") as client:
            with pytest.raises(openai.AuthenticationError) as caught:
                client.models.list()
        assert caught.value.code == "invalid_api_key"
