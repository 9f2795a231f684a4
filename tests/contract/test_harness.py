"""The harness's parametrization, with temporary table entries (the real table is left alone):
a provider without an `edit_model` is documented as allowed, so every edit case of the suite
is skipped for it, with the reason, rather than run on a model that cannot edit."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from _pytest.mark.structures import ParameterSet

from tests.contract.harness import each_provider
from tests.contract.providers import CONTRACTS

REPO = Path(__file__).resolve().parents[2]


def skips(params: list[ParameterSet], provider: str) -> list[str]:
    (param,) = [p for p in params if p.values == (provider,)]
    return [mark.kwargs["reason"] for mark in param.marks if mark.name == "skip"]


def test_an_entry_without_an_edit_model_skips_the_edit_cases_with_the_reason() -> None:
    contracts = {**CONTRACTS, "bfl-flux": replace(CONTRACTS["bfl-flux"], edit_model=None)}
    edits = each_provider(upstream=True, edits=True, contracts=contracts)
    assert skips(edits, "bfl-flux") == ["bfl-flux has no model that edits"]
    assert skips(edits, "openai") == []
    assert skips(edits, "local") == [f"local calls no upstream: {CONTRACTS['local'].offline}"]
    # Its generation cases still run.
    assert skips(each_provider(upstream=True, contracts=contracts), "bfl-flux") == []
    assert skips(each_provider(upstream=False, edits=True, contracts=contracts), "bfl-flux") == [
        "bfl-flux has no model that edits"
    ]


PLUGIN = """
from dataclasses import replace


def pytest_configure(config):
    from tests.contract.providers import CONTRACTS

    CONTRACTS["bfl-flux"] = replace(CONTRACTS["bfl-flux"], edit_model=None, deliveries=())
"""


def test_the_suites_edit_cases_are_skipped_for_such_an_entry(tmp_path: Path) -> None:
    """The contract suite itself, collected with bfl-flux's entry temporarily without an edit
    model (a plugin replaces it before the test modules read the table): each edit case is
    skipped with the reason, and none runs (before, 9 of test_failures.py's 10 failed: they
    sent an edit to flux-dev, which takes no input image)."""
    (tmp_path / "no_edit_model.py").write_text(PLUGIN)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("IMAGE_GATEWAY_REQUIRE_SERVICES", None)
    select = ["tests/contract", "-k", "edit and bfl-flux", "-p", "no_edit_model"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *select, "-rs", "-q", "-n", "0", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert "10 skipped" in out and "passed" not in out and "failed" not in out, out
    assert "bfl-flux has no model that edits" in out, out
