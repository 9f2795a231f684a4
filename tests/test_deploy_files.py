"""The deployment files, read as their tools would (no Docker engine or Vercel here): the
Dockerfile's base is an exact release and its runtime stage carries no build leftovers; the
compose file's PUBLIC_BASE_URL follows the published port; vercel.json is today's form."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def stages(dockerfile: str) -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split by FROM."""
    text = re.sub(r"\\\n\s*", " ", dockerfile)
    lines = [line.strip() for line in text.splitlines()]
    found: list[list[str]] = [[]]
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            found.append([])
        found[-1].append(line)
    return found


def test_the_docker_image_has_a_pinned_base_and_no_build_leftovers() -> None:
    preamble, build, runtime = stages((ROOT / "Dockerfile").read_text())
    (arg,) = preamble
    assert re.fullmatch(r"ARG PYTHON_IMAGE=python:3\.1[1-9]\.\d+-slim-[a-z]+", arg), arg
    assert build[0] == "FROM ${PYTHON_IMAGE} AS build"
    assert runtime[0] == "FROM ${PYTHON_IMAGE}"
    # The runtime stage takes the venv and main.py from the build stage, nothing else: no
    # sources, pip cache, build/ or egg-info folder.
    copies = [line for line in runtime if line.startswith("COPY")]
    assert copies == [
        "COPY --from=build /opt/venv /opt/venv",
        "COPY --from=build /src/main.py ./",
        "COPY --from=build /src/__pycache__ ./__pycache__",
    ]
    assert not any(line.startswith("RUN") and "pip" in line for line in runtime)
    assert any(line.startswith("USER ") for line in runtime)
    assert runtime[-1].startswith('CMD ["uvicorn", "main:app"')


def test_compose_public_base_url_follows_the_published_port() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["x-gateway"]["environment"]
    assert env["PUBLIC_BASE_URL"] == "${PUBLIC_BASE_URL:-http://127.0.0.1:${GATEWAY_PORT:-8000}}"
    assert compose["services"]["gateway"]["ports"] == ["${GATEWAY_PORT:-8000}:8000"]


def test_vercel_json_is_todays_form() -> None:
    config = json.loads((ROOT / "vercel.json").read_text())
    assert "builds" not in config and "routes" not in config  # legacy keys
    assert set(config["functions"]) == {"main.py"}
    assert 1 <= config["functions"]["main.py"]["maxDuration"] <= 300  # the Hobby plan's limit
    # Vercel's Python runtime loads `app` from main.py and picks the Python version from
    # requires-python: its default, 3.12, must satisfy it.
    assert re.search(r"^app = ", (ROOT / "main.py").read_text(), re.M)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
