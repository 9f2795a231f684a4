"""`make run` on a machine whose Python is too old (or missing) stops at once with one clear
line saying how to pick another, and leaves no virtual environment behind for later runs to
reuse; a .venv made by an old Python, or a half-made one, is not reused either.

Each case runs the real Makefile with `VENV` in a temporary folder and a fake interpreter that
logs how it was called, so the tests never install anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def fake_python(folder: Path, version: str, *, venv_fails: bool = False) -> Path:
    """A `python3` that reports `version` and logs every other call to `calls`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "python3"
    on_venv = 'mkdir -p "$3/bin"; exit 1' if venv_fails else "exit 3"
    script.write_text(
        f"""#!/bin/sh
echo "$@" >> "{folder}/calls"
case "$*" in
  *version_info*) echo {version} ;;
  "-m venv "*) {on_venv} ;;
  *) exit 3 ;;
esac
"""
    )
    script.chmod(0o755)
    return script


def make(
    tmp_path: Path, *args: str, path_first: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path_first is not None:
        env["PATH"] = f"{path_first}:{env['PATH']}"
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args, f"VENV={tmp_path / 'venv'}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def calls(folder: Path) -> list[str]:
    log = folder / "calls"
    return log.read_text().splitlines() if log.exists() else []


def test_python_older_than_3_11_stops_make_run_with_one_clear_line(tmp_path: Path) -> None:
    fake = fake_python(tmp_path / "bin", "3.10")
    result = make(tmp_path, "run", path_first=fake.parent)  # PYTHON=python3 from PATH
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: image-gateway needs Python 3.11 or newer; PYTHON (python3) is 3.10. "
        "Pick another: make run PYTHON=python3.12"
    ]
    assert "pip" not in result.stdout + result.stderr
    assert not (tmp_path / "venv").exists()
    assert all("version_info" in call for call in calls(fake.parent))  # only asked its version


def test_a_missing_interpreter_is_named(tmp_path: Path) -> None:
    result = make(tmp_path, "test", "PYTHON=python3.99-not-installed")
    assert result.returncode != 0
    assert (
        "error: PYTHON (python3.99-not-installed) is not a working Python; install Python 3.11 "
        "or newer, or pick one: make test PYTHON=python3.12"
    ) in result.stderr
    assert not (tmp_path / "venv").exists()


def test_a_venv_made_by_an_old_python_is_not_reused(tmp_path: Path) -> None:
    old = fake_python(tmp_path / "venv" / "bin", "3.10")
    old.rename(old.parent / "python")
    result = make(tmp_path, "run")
    assert result.returncode != 0
    assert (
        f"error: {tmp_path / 'venv'} was made by Python 3.10; image-gateway needs 3.11 or newer. "
        "Remove it (make clean), then: make run PYTHON=python3.12"
    ) in result.stderr
    assert all("version_info" in call for call in calls(old.parent))  # no pip install into it


def test_a_half_made_venv_is_removed(tmp_path: Path) -> None:
    """`python -m venv` that fails midway (Debian without python3-venv, a full disk)."""
    fake = fake_python(tmp_path / "bin", "3.12", venv_fails=True)
    result = make(tmp_path, "run", f"PYTHON={fake}")
    assert result.returncode != 0
    assert any(call.startswith("-m venv") for call in calls(fake.parent))
    assert not (tmp_path / "venv").exists()
