"""The client commands (`image-gateway generate|edit|models|jobs`) run as a person runs them: in
a subprocess, against a real gateway wired to the BFL and OpenAI emulators over loopback, with
their output on pipes and on a pseudo-terminal."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import BFL_TEST_KEY, GATEWAY_TEST_KEY, RunningGateway, emulator_settings

REPO = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TRACEBACK = "Traceback"


@pytest.fixture
def gw(start_gateway: Any, openai_emu: Any, bfl: Any) -> RunningGateway:
    return start_gateway(**emulator_settings(openai_emu, bfl))


def _env(tmp_path: Path, gw: RunningGateway | None, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "IMAGE_GATEWAY_API_KEY": GATEWAY_TEST_KEY,
    }
    if gw is not None:
        env["IMAGE_GATEWAY_URL"] = gw.url
    env.update(extra)
    return env


def cli(
    tmp_path: Path, gw: RunningGateway | None, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "image_gateway", *args],
        cwd=tmp_path,
        env=_env(tmp_path, gw, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def cli_on_terminal(
    tmp_path: Path, gw: RunningGateway, *args: str, columns: int = 120
) -> tuple[int, str]:
    """Run with stdout and stderr on one pseudo-terminal, `columns` wide; its exit status
    and everything it wrote there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "image_gateway", *args],
        cwd=tmp_path,
        env=_env(tmp_path, gw, TERM="xterm-256color", COLUMNS=str(columns), LINES="40"),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


def decoded(path: Path) -> Image.Image:
    image = Image.open(io.BytesIO(path.read_bytes()))
    image.load()
    return image


def test_generate_on_local_and_emulated_providers_without_a_terminal(
    tmp_path: Path, gw: RunningGateway, bfl: Any, openai_emu: Any
) -> None:
    result = cli(
        tmp_path,
        gw,
        "generate",
        "a lighthouse at dusk",
        "-m",
        "flux-pro-1.1",
        "-m",
        "gpt-image-1",
        "-m",
        "local",
        "-n",
        "2",
        "--size",
        "1024x1024",
        "-o",
        "out",
    )
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 6
    for path in files:
        assert re.fullmatch(r"job_[0-9a-f]+-[12]\.(png|jpg|webp)", path.name), path.name
        assert decoded(path).size == (1024, 1024)
    # The table: provider, model, latency, cost, then one path a line.
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["provider", "model", "latency", "cost", "path"]
    for provider, model in [("bfl-flux", "flux-pro-1.1"), ("openai", "gpt-image-1")]:
        row = next(line for line in lines if line.startswith(provider))
        assert model in row and re.search(r"\d+\.\d s", row) and "$" in row
    assert "local-art" in result.stdout
    assert all(f"out/{path.name}" in result.stdout for path in files)
    assert not ANSI.search(result.stdout + result.stderr)  # plain when not on a terminal
    assert all(line == line.rstrip() for line in lines)
    # Progress: one plain line a change on stderr, each naming its job. Whether a "running"
    # line is seen depends on timing (a loaded gateway may report the job only once it is done),
    # so only the lines every run gives are asserted.
    assert re.search(r"job_\w+ flux-pro-1.1: saved", result.stderr)
    assert re.search(r"job_\w+ local: saved", result.stderr)
    assert bfl.stats()["submits"] == 2 and openai_emu.stats()
    assert GATEWAY_TEST_KEY not in result.stdout + result.stderr


def test_json_is_one_document_on_stdout(tmp_path: Path, gw: RunningGateway) -> None:
    result = cli(
        tmp_path,
        gw,
        "generate",
        "a fox",
        "-m",
        "local",
        "-m",
        "bfl",
        "--seed",
        "7",
        "--user-id",
        "u-1",
        "--json",
        "-o",
        str(tmp_path / "json-out"),
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # nothing else on stdout
    jobs = {job["requested"]: job for job in document["jobs"]}
    assert set(jobs) == {"local", "bfl"}
    assert (jobs["bfl"]["provider"], jobs["bfl"]["model"]) == ("bfl-flux", "flux-pro-1.1")
    assert jobs["local"]["provider"] == "local"
    for job in jobs.values():
        assert job["status"] == "succeeded" and job["job_id"].startswith("job_")
        assert job["latency_seconds"] > 0 and job["error"] is None
        assert isinstance(job["cost"]["usd"], float)
        [path] = job["paths"]
        assert re.fullmatch(rf"{job['job_id']}-1\.(png|jpg)", Path(path).name)
    assert sorted(document["paths"]) == sorted(p for job in jobs.values() for p in job["paths"])
    for path in document["paths"]:
        decoded(Path(path))
    # The request carried the options: the job as the gateway kept it.
    listed = json.loads(cli(tmp_path, gw, "jobs", "list", "--json").stdout)
    assert {job["user_id"] for job in listed["data"]} == {"u-1"}


def test_a_terminal_gets_a_live_display_and_the_table(tmp_path: Path, gw: RunningGateway) -> None:
    status, output = cli_on_terminal(
        tmp_path, gw, "generate", "a lighthouse", "-m", "flux-pro-1.1", "-m", "local", "-o", "o"
    )
    assert status == 0, output
    assert TRACEBACK not in output
    assert "\x1b[" in output  # drawn: colours, cursor moves redrawing the progress table
    text = ANSI.sub("", output)
    for header in ("model", "status", "progress", "elapsed", "partials", "job"):
        assert header in text
    assert "100%" in text and "saved" in text
    files = sorted((tmp_path / "o").iterdir())
    assert len(files) == 2
    for path in files:
        assert path.name in text
        decoded(path)
    assert re.search(r"bfl-flux\s+flux-pro-1.1\s+\d+\.\d s\s+\$0\.\d+\s+o/job_", text)


@pytest.fixture(scope="module")
def slow_bfl() -> Iterator[Any]:
    """BFL tasks that take 2 s, reporting `progress` on every poll meanwhile."""
    from emulators.bfl import BFLEmulator

    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=2.0) as emulator:
        yield emulator


def test_progress_is_shown_as_the_provider_reports_it(
    tmp_path: Path, start_gateway: Any, slow_bfl: Any
) -> None:
    slow_bfl.reset()
    gw = start_gateway(
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=slow_bfl.base_url,
        bfl_trusted_hosts=slow_bfl.poll_base_url,
        job_progress_seconds=0.1,
        sse_poll_seconds=0.1,
    )
    result = cli(tmp_path, gw, "generate", "a slow fox", "-m", "flux-dev")
    assert result.returncode == 0, result.stderr
    lines = re.findall(r"flux-dev: running( \(\w+\))? (\d+)%", result.stderr)
    shown = [int(p) for _, p in lines]
    assert shown and all(0 <= p < 100 for p in shown), result.stderr
    assert shown == sorted(shown), result.stderr
    # A line per change of what it shows: the percentage, or the provider's status word (BFL's
    # "Pending" may first appear at a percentage already shown).
    assert all(a != b for a, b in pairwise(lines)), result.stderr
    assert re.search(r"flux-dev: saved", result.stderr)


def test_edit_with_a_mask(tmp_path: Path, gw: RunningGateway) -> None:
    source = tmp_path / "in.png"
    Image.new("RGB", (256, 256), "navy").save(source)
    mask = tmp_path / "mask.png"
    Image.new("RGBA", (256, 256), (0, 0, 0, 0)).save(mask)
    result = cli(
        tmp_path,
        gw,
        "edit",
        str(source),
        "make it night",
        "--mask",
        str(mask),
        "-m",
        "local",
        "-m",
        "gpt-image-1",
        "--json",
        "-o",
        "edited",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert {job["provider"] for job in document["jobs"]} == {"local", "openai"}
    assert len(document["paths"]) == 2
    for path in document["paths"]:
        decoded(tmp_path / path)
    kinds = {job["kind"] for job in json.loads(cli(tmp_path, gw, "jobs", "--json").stdout)["data"]}
    assert kinds == {"edit"}


def test_models_lists_the_catalogue(tmp_path: Path, gw: RunningGateway) -> None:
    result = cli(tmp_path, gw, "models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["provider", "model", "configured", "n", "edits", "sizes"]
    local = next(line for line in lines if line.startswith("local "))
    assert "local-art (default)" in local and " yes " in local
    fill = next(line for line in lines if "flux-pro-1.0-fill " in line)
    assert re.search(r"bfl-flux\s+flux-pro-1.0-fill\s+yes\s+1-\d+\s+only\+mask\s", fill)
    kontext = next(line for line in lines if "flux-kontext-pro " in line)
    assert re.search(r"\s1-\d+\s+yes\s", kontext)  # edits, no mask
    gpt = next(line for line in lines if line.startswith("openai") and "gpt-image-1 " in line)
    assert "1024x1024" in gpt and "aspect_ratio" in gpt
    unconfigured = [line for line in lines[1:] if line.split()[2] == "no"]
    assert unconfigured and lines.index(unconfigured[0]) > lines.index(local)  # configured first
    as_json = json.loads(cli(tmp_path, gw, "models", "--configured", "--json").stdout)
    assert {p["id"] for p in as_json["data"]} == {"local", "openai", "bfl-flux"}


def test_jobs_list_show_cancel_and_wait(tmp_path: Path, gw: RunningGateway) -> None:
    with gw.client() as http:
        slow = http.post(
            "/v1/images/generations",
            json={"model": "flux-dev", "prompt": "[never-ready]"},
            headers={"Prefer": "respond-async"},
        ).json()["id"]
        quick = http.post(
            "/v1/images/generations",
            json={"model": "local", "prompt": "a cat", "n": 2},
            headers={"Prefer": "respond-async"},
        ).json()["id"]
    waited = cli(tmp_path, gw, "jobs", "wait", quick, "-o", "w")
    assert waited.returncode == 0, waited.stderr
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == [
        f"{quick}-1.png",
        f"{quick}-2.png",
    ]
    assert f"w/{quick}-1.png" in waited.stdout

    listing = cli(tmp_path, gw, "jobs")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[0].split()[:3] == ["id", "status", "kind"]
    assert slow in listing.stdout and quick in listing.stdout

    shown = cli(tmp_path, gw, "jobs", "show", quick)
    assert "status:   succeeded" in shown.stdout and "provider: local" in shown.stdout
    assert "images:   2" in shown.stdout
    full = json.loads(cli(tmp_path, gw, "jobs", "show", quick, "--json").stdout)
    assert full["id"] == quick and len(full["result"]["data"]) == 2

    canceled = cli(tmp_path, gw, "jobs", "cancel", slow)
    assert canceled.returncode == 0, canceled.stderr
    assert slow in canceled.stdout and "cancel" in canceled.stdout
    ended = cli(tmp_path, gw, "jobs", "wait", slow)
    assert ended.returncode == 1
    assert "canceled" in ended.stderr and TRACEBACK not in ended.stderr

    missing = cli(tmp_path, gw, "jobs", "show", "job_0000")
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")


def test_ctrl_c_names_the_jobs_that_go_on(tmp_path: Path, gw: RunningGateway) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "image_gateway", "generate", "[never-ready]", "-m", "flux-dev"],
        cwd=tmp_path,
        env=_env(tmp_path, gw),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = ""
    while "running" not in seen:
        line = proc.stderr.readline()
        assert line, seen
        seen += line
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    job_id = re.search(r"(job_\w+) goes on on the gateway", stderr)
    assert job_id, stderr
    assert f"image-gateway jobs cancel {job_id[1]}" in stderr
    assert TRACEBACK not in stderr and stdout == ""
    canceled = cli(tmp_path, gw, "jobs", "cancel", job_id[1])
    assert canceled.returncode == 0 and job_id[1] in canceled.stdout


def test_a_failed_job_and_a_refused_request(tmp_path: Path, gw: RunningGateway) -> None:
    result = cli(
        tmp_path, gw, "generate", "a [moderate-content] b", "-m", "flux-dev", "-m", "local"
    )
    assert result.returncode == 1
    assert re.search(r"^error: flux-dev: .+", result.stderr, re.M)
    assert "local-art" in result.stdout  # the other model's images are still saved and shown
    assert "failed:" in result.stdout

    bad_model = cli(tmp_path, gw, "generate", "a fox", "-m", "no-such-model")
    assert bad_model.returncode == 1
    assert "error: unknown model 'no-such-model'" in bad_model.stderr
    assert bad_model.stdout == "" and TRACEBACK not in bad_model.stderr

    bad_field = cli(tmp_path, gw, "generate", "a fox", "-m", "gpt-image-1", "--size", "1024x768")
    assert bad_field.returncode == 1 and "1024x768" in bad_field.stderr


def test_provider_params_and_common_fields_reach_the_provider(
    tmp_path: Path, gw: RunningGateway, bfl: Any
) -> None:
    result = cli(
        tmp_path,
        gw,
        "generate",
        "a fox",
        "-m",
        "flux-dev",
        "--size",
        "768x512",
        "--seed",
        "42",
        "--param",
        "steps=20",
        "--param",
        "prompt_upsampling=true",
        "-q",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet: no progress
    sent = bfl.stats()["last_submit"]["json"]
    assert (sent["width"], sent["height"], sent["seed"]) == (768, 512, 42)
    assert sent["steps"] == 20 and sent["prompt_upsampling"] is True


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_configuration_errors_exit_2_without_a_traceback(
    tmp_path: Path, gw: RunningGateway
) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    cases = [
        (("generate", "a fox"), {"IMAGE_GATEWAY_URL": closed}, "cannot reach"),
        (("models", "--url", "ftp://example.com"), {}, "--url must be an http"),
        (("models",), {"IMAGE_GATEWAY_URL": "gateway.example"}, "IMAGE_GATEWAY_URL must be"),
        (("jobs",), {"IMAGE_GATEWAY_API_KEY": "igw-wrong-key-0123456789"}, "IMAGE_GATEWAY_API_KEY"),
        (("generate", "x", "--param", "steps"), {}, "KEY=VALUE"),
        (("generate", "x", "-n", "two"), {}, "invalid int"),
        (("edit", "missing.png", "x"), {}, "cannot read missing.png"),
    ]
    for args, env, message in cases:
        result = cli(tmp_path, gw, *args, **env)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert TRACEBACK not in result.stderr and result.stdout == ""
        assert "igw-wrong-key" not in result.stderr and GATEWAY_TEST_KEY not in result.stderr


def test_partial_images_are_asked_through_the_job(
    tmp_path: Path, gw: RunningGateway, openai_emu: Any
) -> None:
    """`--partial-images` goes with every job; gpt-image-1 (a model that streams) then streams
    upstream, and the previews that reach the job's events while the CLI listens are counted.
    Previews are not stored, so how many arrive before the stream is open is timing: at most
    as many as asked."""
    result = cli(
        tmp_path, gw, "generate", "a boat", "-m", "gpt-image-1", "-m", "local",
        "--partial-images", "2", "--json", "-o", "p",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    jobs = {job["requested"]: job for job in json.loads(result.stdout)["jobs"]}
    assert 0 <= jobs["gpt-image-1"]["partial_images"] <= 2
    assert jobs["local"]["partial_images"] == 0  # a model that does not stream sends none
    sent = openai_emu.stats()["last_request"]["json"]
    assert sent["stream"] is True and sent["partial_images"] == 2


def test_url_with_v1_output_dir_checks_and_jobs_options(tmp_path: Path, gw: RunningGateway) -> None:
    # The start-up log's API URL (.../v1) is accepted as the gateway's.
    models = cli(tmp_path, gw, "models", "--url", gw.url + "/v1/", "--json")
    assert models.returncode == 0, models.stderr
    # -o is checked before anything is submitted: no job is made (and paid for).
    (tmp_path / "afile").write_text("x")
    for out, message in [("afile", "-o afile: not a directory"), ("afile/sub", "-o afile/sub")]:
        refused = cli(tmp_path, gw, "generate", "a cat", "-m", "local", "-o", out)
        assert refused.returncode == 2, refused.stderr
        assert message in refused.stderr and TRACEBACK not in refused.stderr
    assert cli(tmp_path, gw, "jobs").stdout.strip() == "no jobs"
    made = cli(tmp_path, gw, "generate", "a cat", "-m", "local", "-q", "-o", "new/deep")
    assert made.returncode == 0 and len(list((tmp_path / "new/deep").iterdir())) == 1
    # `jobs --limit N` is `jobs list --limit N`; ids are whole on a narrow terminal too.
    cli(tmp_path, gw, "generate", "a dog", "-m", "local", "-q")
    listed = cli(tmp_path, gw, "jobs", "--limit", "1", "--status", "succeeded")
    assert listed.returncode == 0, listed.stderr
    assert len(re.findall(r"^job_[0-9a-f]+ ", listed.stdout, re.M)) == 1
    after = cli(tmp_path, gw, "jobs", "--limit", "1", "list")
    assert len(re.findall(r"^job_", after.stdout, re.M)) == 1
    # The API's pointers come as the commands that do the same.
    unknown = cli(tmp_path, gw, "generate", "x", "-m", "no-such-model")
    assert "see image-gateway models" in unknown.stderr
    helped = cli(tmp_path, gw, "--help")
    assert "130 interrupted" in helped.stdout


def test_a_live_table_on_80_columns_keeps_job_ids_whole(tmp_path: Path, gw: RunningGateway) -> None:
    status, output = cli_on_terminal(
        tmp_path, gw, "generate", "a fox", "-m", "flux-pro-1.1-ultra", "-m", "local",
        "-o", "o", columns=80,
    )  # fmt: skip
    assert status == 0, output
    ids = {path.name.split("-")[0] for path in (tmp_path / "o").iterdir()}
    assert len(ids) == 2
    text = ANSI.sub("", output)
    assert all(job_id in text for job_id in ids), text


def test_output_that_cannot_be_written_exits_quietly(tmp_path: Path, gw: RunningGateway) -> None:
    for args in (("models",), ("generate", "a cat", "-m", "local", "-q", "-o", "f")):
        with open("/dev/full", "w") as full:
            result = subprocess.run(
                [sys.executable, "-m", "image_gateway", *args],
                cwd=tmp_path,
                env=_env(tmp_path, gw),
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                timeout=120,
            )
        assert result.returncode == 1, result.stderr
        assert "error: cannot write the output" in result.stderr
        assert TRACEBACK not in result.stderr and "Exception ignored" not in result.stderr
