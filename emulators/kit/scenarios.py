"""The standard failures a contract suite plays against every provider, by name.

Each emulator maps a name to a fault (the `POST /_emulator/faults` object) that renders that
failure in the provider's own form, in a small table; `Emulator.scenario(name, times)` queues
it for the next paid submission(s). A name missing from an emulator's table is one the provider
has no form for (`Emulator.supports(name)` is False), such as an HTTP-200 moderation answer at
OpenAI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SCENARIOS: tuple[str, ...] = (
    "rate_limited",  # 429 with the provider's retry hint, 1 s
    "server_error",  # 500/503 in the provider's error shape
    "hang",  # no answer until the client gives up
    "reset_after_send",  # accepted and billed, then the connection is reset before the answer
    "malformed_json",  # 200 with a body that is not JSON
    "moderated",  # the provider's HTTP-error form of a moderation refusal
    "moderated_200",  # its HTTP-200 form (a poll status), where it has one
    "quota",  # out of credits or quota, in the provider's form
)

ScenarioTable = Mapping[str, Mapping[str, Any]]


class UnknownScenario(ValueError):
    """Not one of SCENARIOS, or one this provider has no form for."""


def scenario_fault(table: ScenarioTable, name: str, times: int = 1) -> dict[str, Any]:
    """The fault object that plays `name` on the next `times` paid submissions."""
    if name not in SCENARIOS:
        raise UnknownScenario(f"unknown scenario {name!r}; expected one of {list(SCENARIOS)}")
    if name not in table:
        raise UnknownScenario(f"this provider has no form of {name!r}")
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise UnknownScenario("times: expected an integer >= 1")
    return {"match": "submit", **table[name], "times": times}


def check_table(table: ScenarioTable) -> None:
    """For an emulator's class definition: only standard names."""
    unknown = set(table) - set(SCENARIOS)
    if unknown:
        raise ValueError(f"not standard scenarios: {sorted(unknown)}")
