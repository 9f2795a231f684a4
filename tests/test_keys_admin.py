"""Gateway keys through the real admin API: lifecycle, validation, who may call what, and
that neither a key nor the admin key is ever stored, echoed or logged."""

from __future__ import annotations

import io
import sqlite3
import time
from typing import Any

import pytest
from PIL import Image

from tests.admin_helpers import ADMIN_TEST_KEY, create_key, revoke_key
from tests.conftest import BFL_TEST_KEY, GATEWAY_TEST_KEY, LogCapture, RunningGateway

GENERATE = {"prompt": "a lighthouse", "size": "64x64"}


@pytest.fixture
def gw(start_gateway: Any) -> RunningGateway:
    gateway: RunningGateway = start_gateway(admin_api_key=ADMIN_TEST_KEY)
    return gateway


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(out, format="PNG")
    return out.getvalue()


def test_create_use_list_revoke(gw: RunningGateway) -> None:
    created = create_key(gw, name="alice", requests_per_minute=100, monthly_budget_usd=5)
    key, key_id = created["key"], created["id"]
    assert key.startswith("igw_") and len(key) >= 36
    assert created["prefix"] == key[:8]
    assert created["scopes"] == ["generate", "edit", "usage"]
    assert created["monthly_budget_usd"] == 5
    with gw.client(key=key) as http:
        assert http.post("/v1/images/generations", json=GENERATE).status_code == 200
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        listed = admin.get("/v1/admin/keys").json()["data"]
        assert [k["id"] for k in listed] == [key_id]
        one = admin.get(f"/v1/admin/keys/{key_id}").json()
        assert one["name"] == "alice" and one["active"] is True
        # The key's text is in the creation response only.
        assert key not in admin.get("/v1/admin/keys").text
        assert key not in admin.get(f"/v1/admin/keys/{key_id}").text
    revoked = revoke_key(gw, key_id)
    assert revoked["active"] is False and revoked["revoked_at"]
    # Revoked through this instance: refused at once, cache or not.
    with gw.client(key=key) as http:
        resp = http.post("/v1/images/generations", json=GENERATE)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "invalid_api_key"
    again = revoke_key(gw, key_id)  # idempotent, keeps the first time
    assert again["revoked_at"] == revoked["revoked_at"]


def test_revocation_on_another_instance_takes_at_most_the_cache_time(
    start_gateway: Any,
) -> None:
    a = start_gateway(admin_api_key=ADMIN_TEST_KEY, key_cache_seconds=1.0)
    b = start_gateway(admin_api_key=ADMIN_TEST_KEY, key_cache_seconds=1.0)  # same SQLite file
    created = create_key(a, name="shared")
    with b.client(key=created["key"]) as http:
        assert http.get("/v1/models").status_code == 200  # b caches the key
        revoke_key(a, created["id"])
        assert http.get("/v1/models").status_code == 200  # within b's cache time
        time.sleep(1.1)
        assert http.get("/v1/models").status_code == 401


def test_admin_routes_need_the_admin_key(gw: RunningGateway) -> None:
    stored = create_key(gw, name="client")
    routes = [
        ("POST", "/v1/admin/keys"),
        ("GET", "/v1/admin/keys"),
        ("GET", f"/v1/admin/keys/{stored['id']}"),
        ("POST", f"/v1/admin/keys/{stored['id']}/revoke"),
    ]
    for method, path in routes:
        with gw.client(key=None) as http:
            assert http.request(method, path, json={"name": "x"}).status_code == 401, path
        # Client keys, unrestricted or not, are refused: only the admin mints keys, so no
        # key can create one wider than itself.
        for key in (GATEWAY_TEST_KEY, stored["key"]):
            with gw.client(key=key) as http:
                resp = http.request(method, path, json={"name": "wider", "scopes": ["usage"]})
            assert resp.status_code == 403, (path, resp.text)
            assert resp.json()["error"]["code"] == "admin_only"
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        names = [k["name"] for k in admin.get("/v1/admin/keys").json()["data"]]
    assert names == ["client"]


def test_admin_api_disabled_without_admin_key(start_gateway: Any) -> None:
    gw = start_gateway()
    with gw.client(key=None) as http:
        resp = http.get("/v1/admin/keys")
    assert resp.status_code == 401
    with gw.client() as http:
        resp = http.get("/v1/admin/keys")
    assert resp.status_code == 403
    assert "ADMIN_API_KEY" in resp.json()["error"]["message"]


def test_admin_key_cannot_generate(gw: RunningGateway) -> None:
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        resp = admin.post("/v1/images/generations", json=GENERATE)
        assert resp.status_code == 403
        assert resp.json()["error"]["code"] == "admin_key_cannot_generate"
        assert admin.get("/v1/usage").status_code == 200


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "a\nb"}, "name"),
        ({"name": "n", "scopes": ["admin"]}, "scopes"),
        ({"name": "n", "scopes": []}, "scopes"),
        ({"name": "n", "allowed_providers": ["nope"]}, "allowed_providers"),
        ({"name": "n", "allowed_providers": "local"}, "allowed_providers"),
        ({"name": "n", "allowed_models": ["local-art"]}, "allowed_models"),
        ({"name": "n", "allowed_models": ["local/nope"]}, "allowed_models"),
        ({"name": "n", "requests_per_minute": 0}, "requests_per_minute"),
        ({"name": "n", "requests_per_minute": "ten"}, "requests_per_minute"),
        ({"name": "n", "max_concurrent": -1}, "max_concurrent"),
        ({"name": "n", "monthly_budget_usd": -0.01}, "monthly_budget_usd"),
        ({"name": "n", "monthly_budget_usd": "lots"}, "monthly_budget_usd"),
        ({"name": "n", "key": "igw_chosen_by_the_caller_0000000000000"}, "key"),
        ({"name": "n", "key_hash": "00" * 32}, "key_hash"),
    ],
)
def test_key_fields_are_validated(gw: RunningGateway, body: dict[str, Any], param: str) -> None:
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        resp = admin.post("/v1/admin/keys", json=body)
        assert resp.status_code == 400, resp.text
        assert resp.json()["error"]["param"] == param
        assert admin.get("/v1/admin/keys").json()["data"] == []


def test_bad_json_and_unknown_ids(gw: RunningGateway) -> None:
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        resp = admin.post("/v1/admin/keys", content=b"{not json", headers={"content-type": "x"})
        assert resp.status_code == 400
        assert admin.post("/v1/admin/keys", json=["name"]).status_code == 400
        for key_id in ("key_0123456789abcdef", "nope", "key_' OR '1'='1", "1; SELECT pg_sleep(5)"):
            started = time.monotonic()
            assert admin.get(f"/v1/admin/keys/{key_id}").status_code == 404
            assert admin.post(f"/v1/admin/keys/{key_id}/revoke").status_code == 404
            assert time.monotonic() - started < 1


def test_provider_aliases_are_canonical(gw: RunningGateway) -> None:
    created = create_key(gw, allowed_providers=["bfl", "local"], allowed_models=["flux/flux-dev"])
    assert created["allowed_providers"] == ["bfl-flux", "local"]
    assert created["allowed_models"] == ["bfl-flux/flux-dev"]


def test_allowed_providers_and_models(start_gateway: Any, bfl: Any) -> None:
    gw = start_gateway(
        admin_api_key=ADMIN_TEST_KEY,
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
    )
    only_openai = create_key(gw, allowed_providers=["openai"])["key"]
    with gw.client(key=only_openai) as http:
        resp = http.post("/v1/images/generations", json=GENERATE)
    assert resp.status_code == 403
    error = resp.json()["error"]
    assert error["code"] == "model_not_allowed" and "local/local-art" in error["message"]

    only_model = create_key(gw, allowed_models=["local/local-art", "bfl-flux/flux-dev"])["key"]
    with gw.client(key=only_model) as http:
        assert http.post("/v1/images/generations", json=GENERATE).status_code == 200
        assert (
            http.post("/v1/images/generations", json={**GENERATE, "model": "flux-dev"})
        ).status_code == 200
        resp = http.post("/v1/images/generations", json={**GENERATE, "model": "flux-pro-1.1"})
        assert resp.status_code == 403
        assert "bfl-flux/flux-pro-1.1" in resp.json()["error"]["message"]
    assert bfl.stats()["submits"] == 1  # the refused request never reached BFL


def test_scopes(gw: RunningGateway) -> None:
    generate_only = create_key(gw, scopes=["generate"])["key"]
    edit_only = create_key(gw, scopes=["edit"])["key"]
    usage_only = create_key(gw, scopes=["usage"])["key"]
    files = {"image": ("in.png", _png(), "image/png")}
    edit = {"prompt": "make it blue", "model": "local-art", "size": "64x64"}
    with gw.client(key=generate_only) as http:
        assert http.post("/v1/images/generations", json=GENERATE).status_code == 200
        resp = http.post("/v1/images/edits", data=edit, files=files)
        assert resp.status_code == 403, resp.text
        assert resp.json()["error"]["code"] == "missing_scope"
        assert http.get("/v1/usage").status_code == 403
    with gw.client(key=edit_only) as http:
        resp = http.post("/v1/images/generations", json=GENERATE)
        assert resp.status_code == 403 and "'generate'" in resp.json()["error"]["message"]
        assert http.post("/v1/images/edits", data=edit, files=files).status_code == 200
    with gw.client(key=usage_only) as http:
        assert http.post("/v1/images/generations", json=GENERATE).status_code == 403
        assert http.get("/v1/usage").status_code == 200


def test_injection_payloads_as_keys_are_401_without_delay(gw: RunningGateway) -> None:
    create_key(gw, name="victim")
    payloads = [
        "' OR '1'='1",
        "igw_' OR 1=1 --",
        "1'; SELECT pg_sleep(5);--",
        "x' UNION SELECT key_hash FROM api_keys --",
        "igw_%' OR key_hash LIKE '%",
    ]
    with gw.client(key=None) as http:
        for payload in payloads:
            for headers in ({"X-API-Key": payload}, {"Authorization": f"Bearer {payload}"}):
                started = time.monotonic()
                resp = http.get("/v1/models", headers=headers)
                assert resp.status_code == 401
                assert time.monotonic() - started < 1
                assert payload not in resp.text


def test_keys_are_never_stored_echoed_or_logged(
    gw: RunningGateway, gateway_logs: LogCapture
) -> None:
    created = create_key(gw, name="secretive", monthly_budget_usd=1)
    key = created["key"]
    with gw.client(key=key) as http:
        assert http.post("/v1/images/generations", json=GENERATE).status_code == 200
        assert http.get("/v1/usage").status_code == 200
    with gw.client(key=key[:-1] + "x") as http:
        assert http.get("/v1/models").status_code == 401
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        texts = [admin.get("/v1/admin/keys").text, admin.get("/v1/usage?group_by=key").text]
    time.sleep(0.2)  # the ledger writer flushes
    db_path = gw.settings.database_url.get_secret_value().split("///", 1)[1]
    raw = b""
    for suffix in ("", "-wal"):
        try:
            with open(db_path + suffix, "rb") as f:
                raw += f.read()
        except FileNotFoundError:
            pass
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT key_hash, prefix FROM api_keys").fetchall()
    import hashlib

    assert rows == [(hashlib.sha256(key.encode()).hexdigest(), key[:8])]
    haystack = "\n".join(texts + gateway_logs.lines)
    # No 9-character piece of the admin key anywhere; of the client key, none past its
    # 8-character display prefix.
    for secret, first in ((key, 8), (ADMIN_TEST_KEY, 0)):
        for i in range(first, len(secret) - 8):
            piece = secret[i : i + 9]
            assert piece not in haystack, piece
            assert piece.encode() not in raw, piece
    assert repr(gw.settings).count(ADMIN_TEST_KEY) == 0


def test_no_raw_key_in_any_sql_statement(gw: RunningGateway) -> None:
    from sqlalchemy import event

    created = create_key(gw, name="watched")
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append(f"{statement} {params!r}")

    engine = gw.server.server.config.app.state.persistence.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        payload = "zz' OR '1'='1' --"
        with gw.client(key=created["key"]) as http:
            assert http.get("/v1/models").status_code == 200
        with gw.client(key=payload) as http:
            assert http.get("/v1/models").status_code == 401
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements, "the stored-key lookup did not reach the database"
    text = "\n".join(statements)
    assert created["key"] not in text and payload not in text
    assert "key_hash = ?" in text or "key_hash = $1" in text


def test_scope_by_route_matrix(gw: RunningGateway) -> None:
    """Who may call what: each credential against each route a scope or the admin guards."""
    keys = {
        "none": None,
        "env": GATEWAY_TEST_KEY,
        "admin": ADMIN_TEST_KEY,
        "generate": create_key(gw, scopes=["generate"])["key"],
        "edit": create_key(gw, scopes=["edit"])["key"],
        "usage": create_key(gw, scopes=["usage"])["key"],
    }
    files = {"image": ("in.png", _png(), "image/png")}
    edit = {"prompt": "blue", "model": "local-art", "size": "64x64"}
    routes: dict[str, Any] = {
        "generate": lambda h: h.post("/v1/images/generations", json=GENERATE),
        "edit": lambda h: h.post("/v1/images/edits", data=edit, files=files),
        "usage": lambda h: h.get("/v1/usage"),
        "list keys": lambda h: h.get("/v1/admin/keys"),
        "mint key": lambda h: h.post("/v1/admin/keys", json={"name": "minted"}),
    }
    expected = {
        "none": {"generate": 401, "edit": 401, "usage": 401, "list keys": 401, "mint key": 401},
        "env": {"generate": 200, "edit": 200, "usage": 200, "list keys": 403, "mint key": 403},
        "admin": {"generate": 403, "edit": 403, "usage": 200, "list keys": 200, "mint key": 201},
        "generate": {"generate": 200, "edit": 403, "usage": 403, "list keys": 403, "mint key": 403},
        "edit": {"generate": 403, "edit": 200, "usage": 403, "list keys": 403, "mint key": 403},
        "usage": {"generate": 403, "edit": 403, "usage": 200, "list keys": 403, "mint key": 403},
    }
    actual = {}
    for who, key in keys.items():
        with gw.client(key=key) as http:
            actual[who] = {route: call(http).status_code for route, call in routes.items()}
    assert actual == expected
