"""`image-gateway keys|db ...` in a subprocess, against the same database a gateway uses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from image_gateway.db.migrate import head_revision

REPO = Path(__file__).resolve().parents[1]


def _cli(
    tmp_path: Path, *args: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path}/gateway.db",
    }
    return subprocess.run(
        [sys.executable, "-m", "image_gateway", *args],
        cwd=tmp_path,  # no .env of the repository is read
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_list_revoke(tmp_path: Path, start_gateway: Any) -> None:
    created = _cli(
        tmp_path,
        "keys",
        "create",
        "--name",
        "cli-key",
        "--providers",
        "local",
        "--models",
        "local/local-art",
        "--rpm",
        "5",
        "--budget",
        "1.5",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    body = json.loads(created.stdout)
    key, key_id = body["key"], body["id"]
    assert body["allowed_providers"] == ["local"] and body["requests_per_minute"] == 5
    assert body["monthly_budget_usd"] == 1.5

    human = _cli(tmp_path, "keys", "create", "--name", "second", "--scopes", "usage")
    assert human.returncode == 0, human.stderr
    assert human.stdout.count("igw_") == 2  # the prefix line and the key line, once
    assert "only time the key is shown" in human.stdout

    listing = _cli(tmp_path, "keys", "list")
    assert listing.returncode == 0
    assert key_id in listing.stdout and "second" in listing.stdout
    assert key not in listing.stdout and key[8:] not in listing.stdout
    as_json = json.loads(_cli(tmp_path, "keys", "list", "--json").stdout)
    assert [k["name"] for k in as_json] == ["cli-key", "second"]
    assert all("key" not in k and "key_hash" not in k for k in as_json)

    # The server uses the same database: the CLI's key works there, and its revocation too.
    gw = start_gateway(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/gateway.db", key_cache_seconds=0
    )
    with gw.client(key=key) as http:
        assert (
            http.post("/v1/images/generations", json={"prompt": "p", "size": "64x64"}).status_code
            == 200
        )
    revoked = _cli(tmp_path, "keys", "revoke", key_id)
    assert revoked.returncode == 0 and f"revoked {key_id}" in revoked.stdout
    with gw.client(key=key) as http:
        assert http.get("/v1/models").status_code == 401
    assert "revoked" in _cli(tmp_path, "keys", "list").stdout


def test_unknown_ids_and_bad_arguments(tmp_path: Path) -> None:
    for key_id in ("key_0000000000000000", "x' OR '1'='1"):
        result = _cli(tmp_path, "keys", "revoke", key_id)
        assert result.returncode == 1 and "no key" in result.stderr
    for args, field in [
        (("--models", "nope/m"), "allowed_models"),
        (("--rpm", "0"), "requests_per_minute"),
        (("--scopes", "admin"), "scopes"),
        (("--budget", "-1"), "monthly_budget_usd"),
    ]:
        result = _cli(tmp_path, "keys", "create", "--name", "x", *args)
        assert result.returncode == 2, result.stderr
        assert field in result.stderr
    assert _cli(tmp_path, "keys").returncode == 2  # argparse: an action is required
    assert json.loads(_cli(tmp_path, "keys", "list", "--json").stdout) == []


def test_db_upgrade(tmp_path: Path) -> None:
    result = _cli(tmp_path, "db", "upgrade", database_url=f"sqlite:///{tmp_path}/a/b/g.db")
    assert result.returncode == 0, result.stderr
    assert f"revision {head_revision()}" in result.stdout
    assert (tmp_path / "a" / "b" / "g.db").exists()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("mysql://user:hunter2-secret@host/db", 2),  # refused by settings validation
        ("postgresql://postgres:hunter2-secret@127.0.0.1:1/db", 1),  # nothing listens there
    ],
)
def test_database_problems_never_print_the_url_password(
    tmp_path: Path, url: str, code: int
) -> None:
    result = _cli(tmp_path, "keys", "list", database_url=url)
    assert result.returncode == code, result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    if code == 2:
        assert "DATABASE_URL" in result.stderr


def test_console_script() -> None:
    script = Path(sys.executable).with_name("image-gateway")
    if not script.exists():
        pytest.skip("the package is not installed (make run/test installs it with pip -e)")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "keys" in result.stdout
