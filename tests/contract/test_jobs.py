"""For every provider, as an asynchronous job (`Prefer: respond-async`, run by the gateway's
own worker): a job succeeds with its image and its cost, and a job whose submission the
provider accepted but whose answer was lost ends `failed` with the outcome unknown, submitted
once: the worker never pays twice."""

from __future__ import annotations

import pytest

from image_gateway.errors import UNKNOWN_OUTCOME
from tests.contract.harness import Served, brief, each_provider, ledger_row
from tests.jobs.support import submit, wait_job


@pytest.mark.parametrize("provider", each_provider(upstream=False), scope="module")
def test_a_job_succeeds_with_its_image_and_cost(served: Served) -> None:
    with served.gateway.client() as http:
        accepted = http.post(
            "/v1/images/generations", json=served.body(), headers={"Prefer": "respond-async"}
        )
        assert accepted.status_code == 202, brief(accepted)
        job = accepted.json()
        done = wait_job(http, job["id"])
        assert done["status"] == "succeeded", done
        result = done["result"]
        assert (result["provider"], result["model"]) == (
            served.contract.provider,
            served.contract.model,
        )
        assert result["data"] and (result["data"][0].get("b64_json") or result["data"][0]["url"])
        assert result["cost"]["basis"] == served.contract.cost_basis
        row = ledger_row(served.gateway, accepted.headers["x-request-id"])
        assert row["status"] == "succeeded", row


@pytest.mark.parametrize("provider", each_provider(upstream=True), scope="module")
def test_a_job_whose_answer_was_lost_is_never_submitted_again(upstream: Served) -> None:
    upstream.emu.scenario("reset_after_send", times=2)
    with upstream.gateway.client() as http:
        job = submit(http, upstream.body())
        done = wait_job(http, job["id"])
    assert done["status"] == "failed", done
    assert UNKNOWN_OUTCOME in done["error"]["error"]["message"], done["error"]
    assert (upstream.submits(), upstream.accepted()) == (1, 1)
