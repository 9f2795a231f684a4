"""How the benchmark wires its gateways (`bench/stack.py`): the BFL settings under the canonical
`BFL_FLUX_*` names, so what a shell exports for the real BFL cannot point a run at it, and under
the `BFL_*` aliases too, the only names a `--baseline` tree from before the provider kit reads."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import pytest

from bench.procs import Server
from bench.scenarios.long import poll_settings
from bench.stack import BFL_KEY, Context, gateway_env
from image_gateway.settings import load_settings


def test_bfl_points_at_the_emulator_whatever_the_shell_exports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bfl = Server("bfl", 19301, cast(Any, None), tmp_path / "bfl.log", time.monotonic())
    bfl.poll_port = 19302
    for name in ("BFL_FLUX_BASE_URL", "BFL_BASE_URL", "BFL_FLUX_TRUSTED_HOSTS"):
        monkeypatch.setenv(name, "https://api.bfl.ai")  # exported for the real BFL
    monkeypatch.setenv("BFL_FLUX_API_KEY", "bfl_real-key")
    env = gateway_env(Context(out_dir=tmp_path), bfl=bfl)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env

    settings = cast(Any, load_settings())
    assert settings.bfl_flux_base_url == "http://127.0.0.1:19301"
    assert settings.bfl_flux_api_key.get_secret_value() == BFL_KEY
    assert [str(origin) for origin in settings.bfl_flux_trusted_hosts] == ["http://127.0.0.1:19302"]
    for setting in ("BASE_URL", "API_KEY", "TRUSTED_HOSTS"):  # what a baseline tree reads
        assert env[f"BFL_{setting}"] == env[f"BFL_FLUX_{setting}"]


def test_the_long_scenario_names_its_poll_settings(tmp_path: Path) -> None:
    assert poll_settings(Context(out_dir=tmp_path)) == (
        "BFL_FLUX_POLL_INITIAL_SECONDS=0.5, BFL_FLUX_POLL_MAX_INTERVAL_SECONDS=2.0"
    )
    given = {"BFL_POLL_INITIAL_SECONDS": "0.2", "BFL_FLUX_POLL_MAX_INTERVAL_SECONDS": "1.0"}
    assert poll_settings(Context(out_dir=tmp_path, gateway_env=given)) == (
        "BFL_FLUX_POLL_INITIAL_SECONDS=0.2, BFL_FLUX_POLL_MAX_INTERVAL_SECONDS=1.0"
    )
