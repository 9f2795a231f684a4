"""Every provider meets the standard failures the same way, through the real gateway over real
sockets: each of the emulator's scenarios (`emulators.kit.SCENARIOS`, in the provider's own
form) ends in the right status and error code; what may have been accepted upstream is never
submitted a second time, and says its outcome is unknown; no key shows in the answer or in any
log line. The gateway retries once (`harness.CORE_SETTINGS`): a retryable failure played once
is recovered from, played on every attempt is the answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from emulators.kit import SCENARIOS, UnknownScenario
from image_gateway.errors import UNKNOWN_OUTCOME
from tests.conftest import LogCapture
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


@dataclass(frozen=True)
class Outcome:
    status: int
    code: str | None  # the gateway's error code; None for a success
    submits: int  # paid submissions that reached the provider
    accepted: int | None = None  # of those, how many it accepted (would bill); None: either
    unknown: bool = False  # the provider may have charged: the answer says so, never re-sent


# (scenario, times played) -> what the client gets and what the provider saw.
OUTCOMES: dict[tuple[str, int], Outcome] = {
    ("rate_limited", 1): Outcome(200, None, submits=2, accepted=1),
    ("rate_limited", ATTEMPTS): Outcome(429, "provider_rate_limited", submits=2, accepted=0),
    ("server_error", 1): Outcome(200, None, submits=2, accepted=1),
    ("server_error", ATTEMPTS): Outcome(502, "upstream_error", submits=2, accepted=0),
    ("hang", 1): Outcome(504, "upstream_timeout", submits=1, unknown=True),
    ("reset_after_send", 1): Outcome(502, "upstream_error", submits=1, accepted=1, unknown=True),
    ("malformed_json", 1): Outcome(502, "upstream_error", submits=1, unknown=True),
    ("moderated", 1): Outcome(400, "content_policy_violation", submits=1),
    ("moderated_200", 1): Outcome(400, "content_policy_violation", submits=1, accepted=1),
    ("quota", 1): Outcome(402, "provider_quota_exhausted", submits=1, accepted=0),
}
assert {name for name, _ in OUTCOMES} == set(SCENARIOS), "a standard scenario has no outcome"


SCENARIO_IDS = [f"{name}x{times}" for name, times in OUTCOMES]


@pytest.mark.parametrize("provider", each_provider(upstream=True), scope="module")
@pytest.mark.parametrize(("scenario", "times"), list(OUTCOMES), ids=SCENARIO_IDS)
def test_a_standard_failure_ends_in_the_right_error_never_paid_twice(
    upstream: Served, gateway_logs: LogCapture, scenario: str, times: int
) -> None:
    play(upstream, gateway_logs, scenario, times, edit=False)


@pytest.mark.parametrize("provider", each_provider(upstream=True, edits=True), scope="module")
@pytest.mark.parametrize(("scenario", "times"), list(OUTCOMES), ids=SCENARIO_IDS)
def test_a_standard_failure_of_an_edit_ends_the_same_way(
    upstream: Served, gateway_logs: LogCapture, scenario: str, times: int
) -> None:
    """The same on `POST /v1/images/edits` (multipart, an input image), a second paid path;
    skipped for a provider whose entry has no `edit_model` (none of its models edits)."""
    play(upstream, gateway_logs, scenario, times, edit=True)


def play(upstream: Served, logs: LogCapture, scenario: str, times: int, edit: bool) -> None:
    """Queue `scenario` for `times` submissions, send one request, check what came of it."""
    contract = upstream.contract
    if scenario in contract.no_form:
        # Declared in the table: the provider has no form of it, and its emulator agrees.
        assert not upstream.emu.supports(scenario)
        with pytest.raises(UnknownScenario):
            upstream.emu.scenario(scenario)
        return
    expected = OUTCOMES[scenario, times]
    model = contract.edit_model if edit else contract.model
    assert model is not None, "an edit case of a provider without edits is skipped"
    upstream.emu.scenario(scenario, times=times)
    body = upstream.body(model)
    started = time.monotonic()
    resp = upstream.send(body, edit)
    elapsed = time.monotonic() - started

    assert resp.status_code == expected.status, brief(resp)
    assert upstream.submits() == expected.submits, upstream.emu.stats()
    if expected.accepted is not None:
        assert upstream.accepted() == expected.accepted, upstream.emu.stats()
    assert upstream.accepted() <= 1, "a second paid submission"
    answer = resp.json()
    row = ledger_row(upstream.gateway, resp.headers["x-request-id"])
    if expected.code is None:
        assert answer["data"] and answer["cost"]["basis"] in COST_BASES
        if not edit:
            assert answer["cost"]["basis"] == contract.cost_basis
        assert row["status"] == "succeeded"
    else:
        error = answer["error"]
        assert (error["code"], error["provider"]) == (expected.code, contract.provider)
        assert row["error_code"] == expected.code
        if expected.unknown:
            assert UNKNOWN_OUTCOME in error["message"]
            assert resp.headers["x-should-retry"] == "false"
            assert row["status"] == "unknown"
        else:
            assert UNKNOWN_OUTCOME not in error["message"]
    if scenario == "rate_limited":
        # The provider's hint (1 s) is honoured before the retry, and passed on when retries
        # run out.
        assert elapsed >= 0.9
        if expected.code is not None:
            assert float(resp.headers["retry-after"]) >= 1
            assert resp.headers["x-should-retry"] == "true"
    assert_no_secrets([shown(resp), *logs.lines], upstream.secrets)


@pytest.mark.parametrize("provider", each_provider(upstream=True), scope="module")
def test_the_declared_forms_are_the_emulators(upstream: Served) -> None:
    """What the table says the provider has no form of is exactly what its emulator lacks."""
    lacking = {name for name in SCENARIOS if not upstream.emu.supports(name)}
    assert lacking == set(upstream.contract.no_form)
