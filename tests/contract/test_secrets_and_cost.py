"""For every provider, `local` included: what a generation cost is recorded (the answer's
`cost`, the usage ledger's row, `/v1/usage`), and no key — the provider's, the client's, the
admin's — shows in any answer (body or header) or log line, even when the provider's error
answers echo the provider key in every common error shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin_helpers import ADMIN_TEST_KEY
from tests.conftest import GATEWAY_TEST_KEY, LogCapture
from tests.contract.harness import (
    ATTEMPTS,
    Served,
    assert_no_secrets,
    brief,
    each_provider,
    ledger_row,
    shown,
)
from tests.contract.providers import COST_BASES

# Error statuses a provider might echo its key with; the retryable ones on every attempt.
ECHO_STATUSES = {400: 1, 401: 1, 402: 1, 422: 1, 429: ATTEMPTS, 500: ATTEMPTS}


@pytest.mark.parametrize("provider", each_provider(upstream=False), scope="module")
def test_the_cost_is_recorded(served: Served) -> None:
    resp = served.generate(served.body())
    assert resp.status_code == 200, brief(resp)
    cost = resp.json()["cost"]
    assert cost["basis"] == served.contract.cost_basis
    assert cost["basis"] in COST_BASES
    row = ledger_row(served.gateway, resp.headers["x-request-id"])
    assert (row["provider"], row["model"], row["status"]) == (
        served.contract.provider,
        served.contract.model,
        "succeeded",
    )
    if cost["basis"] == "unpriced":
        assert cost["usd"] is None and row["cost_micros"] is None
    else:
        assert cost["usd"] >= 0
        assert row["cost_micros"] == round(cost["usd"] * 1_000_000)
    with served.gateway.client(key=ADMIN_TEST_KEY) as admin:
        usage = admin.get("/v1/usage", params={"group_by": "provider"}).json()
    mine = [g for g in usage["data"] if g["provider"] == served.contract.provider]
    assert mine and mine[0]["succeeded"] >= 1, usage


@pytest.mark.parametrize("provider", each_provider(upstream=False), scope="module")
def test_no_key_in_any_answer_or_log_line(served: Served, gateway_logs: LogCapture) -> None:
    answers = []
    with served.gateway.client() as http:
        answers.append(http.post("/v1/images/generations", json=served.body()))
        answers.append(http.post("/v1/images/generations", json=served.body(quality="bogus")))
        for path in ("/v1/providers", "/v1/models", "/healthz", "/readyz", "/openapi.json"):
            answers.append(http.get(path))
    with served.gateway.client(key="wrong" + GATEWAY_TEST_KEY) as http:
        answers.append(http.get("/v1/models"))
    if served.emulator is not None:
        key = served.emulator.api_key
        for status, times in ECHO_STATUSES.items():
            for echo in (_echo(status, key, times), _echo_list(status, key, times)):
                served.emulator.add_faults([echo])
                answers.append(served.generate(served.body()))
                assert answers[-1].status_code >= 400, brief(answers[-1])
    with served.gateway.client() as http:
        # Error codes become metric labels (`igw_errors_total{code}`): none may carry a key.
        answers.append(http.get("/metrics"))
    assert len(gateway_logs.lines) >= len(answers) - 1
    texts = [shown(resp) for resp in answers] + [repr(served.gateway.settings)]
    assert_no_secrets(texts + gateway_logs.lines, served.secrets)


def _echo(status: int, key: str, times: int) -> dict[str, Any]:
    """An error answer quoting the key in the shapes providers use, in its code and the field
    it names too (both are passed on, and a code becomes a metric label)."""
    return {
        "match": "submit",
        "status": status,
        "times": times,
        "body": {
            "error": {"message": f"invalid key {key}", "type": "x", "code": key, "param": key},
            "detail": f"key {key} rejected",
            "message": f"key {key}",
        },
    }


def _echo_list(status: int, key: str, times: int) -> dict[str, Any]:
    """FastAPI's validation list (BFL's 422), naming the key as the field."""
    return {
        "match": "submit",
        "status": status,
        "times": times,
        "body": {"detail": [{"loc": ["body", key], "msg": f"bad {key}", "type": "x"}]},
    }
