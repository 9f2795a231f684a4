"""Helpers for tests that read what the gateway recorded: `/v1/usage` (admin key), the ledger
rows themselves (SQLite), and `/metrics` counters."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from tests.admin_helpers import ADMIN_TEST_KEY
from tests.conftest import RunningGateway


def usage_totals(gw: RunningGateway, **params: Any) -> dict[str, Any]:
    with gw.client(key=ADMIN_TEST_KEY) as http:
        resp = http.get("/v1/usage", params=params)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def wait_rows(gw: RunningGateway, count: int) -> dict[str, Any]:
    """`/v1/usage` once the background writer has written `count` rows."""
    deadline = time.monotonic() + 5
    while True:
        body = usage_totals(gw, group_by="provider,model")
        if body["totals"]["requests"] >= count:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def ledger_rows(gw: RunningGateway) -> list[dict[str, Any]]:
    path = gw.settings.database_url.get_secret_value().split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM usage ORDER BY id")]


def metric(gw: RunningGateway, name: str, provider: str, model: str) -> float:
    with gw.client() as http:
        text = http.get("/metrics").text
    prefix = f'{name}{{model="{model}",provider="{provider}"}} '
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(lines[0].split()[-1]) if lines else 0.0
