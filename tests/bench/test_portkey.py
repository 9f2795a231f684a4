"""Portkey's gateway as a benchmark peer: skipped with a note where it cannot run, and, where the
harness has installed it (`bench/.portkey`, from the npm registry), measured like the others
against the same emulator, its first answer checked to be an image."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import portkey
from bench.procs import Processes, Server
from bench.stack import Context

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = pytest.mark.skipif(
    portkey.version() != portkey.VERSION or portkey.node_version() is None,
    reason=f"Portkey {portkey.VERSION} is not installed in bench/.portkey (python -m bench "
    "installs it from the npm registry) or Node.js is missing",
)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Portkey's folder moved to an empty temporary one (nothing installed there)."""
    home = tmp_path / ".portkey"
    package = home / "node_modules" / "@portkey-ai" / "gateway"
    monkeypatch.setattr(portkey, "HOME", home)
    monkeypatch.setattr(portkey, "PACKAGE_DIR", package)
    monkeypatch.setattr(portkey, "START_SCRIPT", package / "build" / "start-server.js")
    return home


def test_not_installed_and_no_install_is_skipped_with_a_note(
    elsewhere: Path, tmp_path: Path
) -> None:
    if portkey.node_version() is None:
        pytest.skip("Node.js is not installed here")
    ctx = Context(out_dir=tmp_path, portkey_install=False)
    assert portkey.ensure(ctx) is False
    assert ctx.notes == [
        f"Portkey skipped: @portkey-ai/gateway@{portkey.VERSION} not in {elsewhere} and "
        "--no-portkey-install"
    ]
    assert not elsewhere.exists()  # nothing was installed


def test_without_node_it_is_skipped_with_a_note(
    elsewhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    ctx = Context(out_dir=tmp_path)
    assert portkey.ensure(ctx) is False
    assert ctx.notes == ["Portkey skipped: Node.js (`node`) is not on PATH"]
    assert portkey.node_version() is None


def test_another_installed_version_is_not_used(elsewhere: Path, tmp_path: Path) -> None:
    if portkey.node_version() is None:
        pytest.skip("Node.js is not installed here")
    portkey.START_SCRIPT.parent.mkdir(parents=True)
    portkey.START_SCRIPT.write_text("")
    (portkey.PACKAGE_DIR / "package.json").write_text('{"version": "1.9.8"}')
    ctx = Context(out_dir=tmp_path, portkey_install=False)
    assert portkey.version() == "1.9.8"
    assert portkey.ensure(ctx) is False
    assert "--no-portkey-install" in ctx.notes[0]


def test_requests_name_the_emulator_in_portkeys_headers(tmp_path: Path) -> None:
    upstream = Server("up", 9101, None, tmp_path / "up.log", 0.0)  # type: ignore[arg-type]
    node = Server("pk", 8787, None, tmp_path / "pk.log", 0.0)  # type: ignore[arg-type]
    target = portkey.target(node, upstream)
    assert target.url == "http://127.0.0.1:8787/v1/images/generations"
    assert target.headers == {
        "Authorization": "Bearer sk-emulator",
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": "http://127.0.0.1:9101/v1",
    }


@INSTALLED
def test_quick_overhead_run_measures_portkey(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "bench", "--quick", "--scenarios", "overhead"]
    argv += ["--loadgen", "python", "--no-litellm", "--no-reference", "--no-portkey-install"]
    argv += ["--concurrency", "1,4", "--duration", "0.5", "--out", str(tmp_path)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["machine"]["portkey"] == portkey.VERSION
    assert not [n for n in results["notes"] if "Portkey" in n]
    overhead = results["scenarios"]["overhead"]
    for concurrency in (1, 4):
        row = next(
            r
            for r in overhead["rows"]
            if r["target"] == "portkey" and r["concurrency"] == concurrency
        )
        assert row["requests"] > 0 and row["errors"] == 0, row
        assert row["cpu_us_per_req"] > 0, row
    node = next(s for s in overhead["servers"] if s["name"] == "overhead-portkey")
    assert node["peak_rss_mb"] > 0 and node["cpu_s"] > 0


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp* has them) of the sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@INSTALLED
def test_it_listens_on_loopback_only(tmp_path: Path) -> None:
    """start-server.js gives Node a port and no host (every interface); the preload binds it
    to 127.0.0.1 like every other server of the benchmark."""
    with Processes(tmp_path / "logs") as procs:
        server = portkey.start(procs, Context(out_dir=tmp_path), "portkey")
        assert _listening(server.port) == {"0100007F"}  # 127.0.0.1, little-endian hex
