"""The README's "Using it" snippets run as written: they define what they use (`$KEY`, the
input image of the edit) and work against a gateway wired to the provider emulators, with
only the gateway's address changed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    GATEWAY_TEST_KEY,
    RunningGateway,
    emulator_settings,
)

ROOT = Path(__file__).resolve().parent.parent
README_URL = "http://127.0.0.1:8000"


def using_it() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("## Using it") : text.index("### Endpoints")]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", using_it(), re.S)


@pytest.fixture
def wired(
    start_gateway: Callable[..., RunningGateway], bfl: Any, openai_emu: Any
) -> RunningGateway:
    return start_gateway(
        **emulator_settings(openai_emu, bfl),
    )


def run(command: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_sdk_snippet_runs_as_written(wired: RunningGateway, tmp_path: Path) -> None:
    (snippet,) = blocks("python")
    assert 'KEY = os.environ["KEY"]' in snippet and 'open("in.png", "wb")' in snippet
    code = snippet.replace(README_URL, wired.url)
    result = run([sys.executable, "-c", code], tmp_path, KEY=GATEWAY_TEST_KEY)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "in.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_snippet_runs_with_the_key_it_defines(
    wired: RunningGateway, tmp_path: Path
) -> None:
    define, unified = blocks("sh")[:2]
    assert "export KEY=" in define
    key = run(["bash", "-c", define.splitlines()[0] + ' && printf %s "$KEY"'], tmp_path).stdout
    assert len(key) >= 32  # a random key, as the README makes it
    command = unified.strip().replace(README_URL, wired.url)
    command = command.replace("curl ", "curl --fail-with-body --silent --show-error ", 1)
    result = run(["bash", "-c", command], tmp_path, KEY=GATEWAY_TEST_KEY)
    assert result.returncode == 0, result.stdout[:500] + result.stderr
    assert '"provider":"bfl-flux"' in result.stdout
