"""Helpers for tests that manage keys through the real admin API."""

from __future__ import annotations

from typing import Any

from tests.conftest import RunningGateway

ADMIN_TEST_KEY = "igw-admin-canary-3c7e9a1f5d2b8e40"


def create_key(gw: RunningGateway, **fields: Any) -> dict[str, Any]:
    """POST /v1/admin/keys with the admin key; returns the body (with the one-time `key`)."""
    fields.setdefault("name", "test-key")
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        resp = admin.post("/v1/admin/keys", json=fields)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def revoke_key(gw: RunningGateway, key_id: str) -> dict[str, Any]:
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        resp = admin.post(f"/v1/admin/keys/{key_id}/revoke")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body
