"""The Replicate emulator on its own, over HTTP: the two ways to create a prediction, the
statuses a prediction goes through (`Cancel-After` making it `aborted` or `canceled`), a
held answer (`Prefer: wait`), input checks in Replicate's problem-JSON shape, retention, and
its file host."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulators.replicate import ReplicateEmulator
from emulators.replicate.app import duration
from emulators.replicate.catalog import MODELS

KEY = "r8_emulator-test"
SCHNELL = MODELS["black-forest-labs/flux-schnell"]


@pytest.fixture(scope="module")
def emu() -> Iterator[ReplicateEmulator]:
    with ReplicateEmulator(api_key=KEY, queue_seconds=0.5, generation_seconds=0.5) as emulator:
        yield emulator


@pytest.fixture
def http(emu: ReplicateEmulator) -> Iterator[httpx.Client]:
    emu.reset()
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=emu.base_url, headers=headers, timeout=10) as client:
        yield client


def create(http: httpx.Client, prompt: str = "a fox", **headers: str) -> dict[str, Any]:
    resp = http.post(
        "/models/black-forest-labs/flux-schnell/predictions",
        json={"input": {"prompt": prompt, "num_outputs": 2}},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    answer: dict[str, Any] = resp.json()
    return answer


def get(http: httpx.Client, prediction: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = http.get(prediction["urls"]["get"]).json()
    return answer


def test_a_prediction_starts_runs_and_succeeds_with_files(http: httpx.Client) -> None:
    prediction = create(http)
    assert prediction["status"] == "starting" and prediction["output"] is None
    time.sleep(0.6)  # its status follows the clock: starting 0.5 s, then processing 0.5 s
    assert get(http, prediction)["status"] == "processing"
    time.sleep(0.5)
    done = get(http, prediction)
    assert done["status"] == "succeeded" and len(done["output"]) == 2
    anonymous = httpx.get(done["output"][0])  # the file host needs no key by default
    assert anonymous.status_code == 200 and anonymous.headers["content-type"] == "image/webp"
    tampered = httpx.get(done["output"][0].replace("w=", "w=9"))
    assert tampered.status_code == 403


def test_a_held_answer_comes_when_the_prediction_ends(http: httpx.Client) -> None:
    started = time.monotonic()
    prediction = create(http, Prefer="wait=5")
    assert prediction["status"] == "succeeded"
    assert 0.9 < time.monotonic() - started < 5


@pytest.mark.parametrize(("limit", "status"), [("100ms", "aborted"), ("0.75s", "canceled")])
def test_cancel_after_aborts_or_cancels(http: httpx.Client, limit: str, status: str) -> None:
    prediction = create(http, **{"Cancel-After": limit})
    time.sleep(1.1)
    assert get(http, prediction)["status"] == status


def test_cancel_stops_a_running_prediction(http: httpx.Client, emu: ReplicateEmulator) -> None:
    prediction = create(http)
    canceled = http.post(prediction["urls"]["cancel"]).json()
    assert canceled["status"] == "canceled" and emu.stats()["cancels"] == 1


def test_versions_in_every_form_and_the_refusals(http: httpx.Client) -> None:
    for version in (SCHNELL.version, f"{SCHNELL.name}:{SCHNELL.version}", SCHNELL.name):
        resp = http.post("/predictions", json={"version": version, "input": {"prompt": "x"}})
        assert resp.status_code == 201, (version, resp.text)
    community = http.post("/predictions", json={"version": "acme/sdxl-lite", "input": {}})
    assert community.status_code == 422  # not official: a version id is needed
    assert community.json()["title"] == "Invalid version or not permitted"
    unknown = http.post("/models/acme/nothing/predictions", json={"input": {"prompt": "x"}})
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("data", "kind", "field"),
    [
        ({"prompt": "x", "signal": 1}, "additional_property_not_allowed", ""),
        ({"prompt": "x", "aspect_ratio": "7:4"}, "enum", "aspect_ratio"),
        ({"prompt": "x", "num_outputs": 5}, "number_lte", "num_outputs"),
        ({"prompt": "x", "go_fast": "yes"}, "invalid_type", "go_fast"),
        ({}, "required", "prompt"),
    ],
)
def test_inputs_are_checked_like_replicate(
    http: httpx.Client, data: dict[str, Any], kind: str, field: str
) -> None:
    resp = http.post("/models/black-forest-labs/flux-schnell/predictions", json={"input": data})
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["title"] == "Input validation failed" and body["status"] == 422
    assert body["invalid_fields"][0]["type"] == kind
    assert body["invalid_fields"][0]["field"] == field


def test_data_is_removed_after_the_retention() -> None:
    with ReplicateEmulator(api_key=KEY, generation_seconds=0.0, retention=0.2) as emu:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=emu.base_url, headers=headers) as http:
            prediction = create(http)
            assert prediction["status"] == "succeeded" and prediction["output"]
            time.sleep(0.3)
            later = get(http, prediction)
    assert later["output"] is None and later["data_removed"] is True


def test_the_file_host_can_require_the_key() -> None:
    with ReplicateEmulator(api_key=KEY, generation_seconds=0.0, file_auth=True) as emu:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=emu.base_url, headers=headers) as http:
            url = create(http)["output"][0]
            assert http.get(url).status_code == 200
        assert httpx.get(url).status_code == 401
        assert emu.stats()["file_refusals"] == 1


def test_cancel_after_durations() -> None:
    assert duration("1m") == 60 and duration("1h2m3s") == 3723 and duration("1.5s") == 1.5
    assert duration("250ms") == 0.25 and duration("90") == 90
    assert duration("soon") is None and duration("1d") is None
