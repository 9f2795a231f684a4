"""Every failure is attributable, every image described.

- The access log line names `provider` and `model` on every path once they are known — failures
  after the provider was called (moderation, quota, 502, 504), refusals before (validation, not
  configured), edits, asynchronous jobs (the 202, and the job's own "job finished" line), a
  synchronous request run as a job (Idempotency-Key), and fallbacks (the one tried last).
- Each image in an answer carries its real `size` ("WxH", read from its header): a provider may
  fit what was asked (FLUX.2 makes 1920x1088 for 1920x1080).
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from tests.conftest import (
    BFL_TEST_KEY,
    GATEWAY_TEST_KEY,
    OPENAI_TEST_KEY,
    LogCapture,
    OpenAIEmulatorHandle,
    RunningGateway,
    emulator_settings,
)
from tests.jobs.support import ASYNC, eventually, wait_job

GENERATIONS = "/v1/images/generations"


def access_line(logs: LogCapture, resp: httpx.Response) -> dict[str, Any]:
    """The access line of the request that got `resp` (found by its request id)."""
    request_id = resp.headers["x-request-id"]

    def find() -> dict[str, Any] | None:
        for line in map(json.loads, list(logs.lines)):
            if line["logger"] == "image_gateway.access" and line["request_id"] == request_id:
                return dict(line)
        return None

    return eventually(find, timeout=5)  # written as the response ends


def png(size: tuple[int, int] = (64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


def dims(item: dict[str, Any]) -> str:
    with Image.open(io.BytesIO(base64.b64decode(item["b64_json"]))) as image:
        return f"{image.size[0]}x{image.size[1]}"


@pytest.fixture
def gw(start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any) -> RunningGateway:
    return start_gateway(
        **emulator_settings(openai_emu, bfl),
        request_deadline_seconds=4.0,  # a silent submission waits for the deadline
        bfl_poll_timeout_seconds=1.0,
    )


QUOTA = {
    "match": "generate",
    "status": 429,
    "body": {
        "error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}
    },
}


@pytest.mark.parametrize(
    ("body", "faults", "status", "code"),
    [
        (
            {"model": "gpt-image-1", "prompt": "a [moderate] fox"},
            [],
            400,
            "content_policy_violation",
        ),
        ({"model": "gpt-image-1", "prompt": "p"}, [QUOTA], 402, "provider_quota_exhausted"),
        ({"model": "gpt-image-1", "prompt": "p"}, [{"status": 500}], 502, "upstream_error"),
        ({"model": "gpt-image-1", "prompt": "p"}, [{"stall": True}], 504, "deadline_exceeded"),
        ({"model": "gpt-image-1", "prompt": "p", "quality": "best"}, [], 400, "invalid_value"),
    ],
)
def test_openai_failures_name_provider_and_model(
    gw: RunningGateway,
    openai_emu: OpenAIEmulatorHandle,
    gateway_logs: LogCapture,
    body: dict[str, Any],
    faults: list[dict[str, Any]],
    status: int,
    code: str,
) -> None:
    openai_emu.add_faults(faults)
    with gw.client() as http:
        resp = http.post(GENERATIONS, json=body)
    assert resp.status_code == status and resp.json()["error"]["code"] == code, resp.text
    line = access_line(gateway_logs, resp)
    assert (line["status"], line["provider"], line["model"]) == (status, "openai", "gpt-image-1")


@pytest.mark.parametrize(
    ("prompt", "status"),
    [("a [never-ready] fox", 504), ("[moderate-request] fox", 400), ("[error] fox", 502)],
)
def test_bfl_failures_name_provider_and_model(
    gw: RunningGateway, gateway_logs: LogCapture, prompt: str, status: int
) -> None:
    with gw.client() as http:
        resp = http.post(GENERATIONS, json={"model": "flux-dev", "prompt": prompt})
    assert resp.status_code == status, resp.text
    line = access_line(gateway_logs, resp)
    assert (line["provider"], line["model"]) == ("bfl-flux", "flux-dev")


def test_a_provider_without_a_key_is_named(start_gateway: Any, gateway_logs: LogCapture) -> None:
    gw = start_gateway()
    with gw.client() as http:
        resp = http.post(GENERATIONS, json={"model": "flux-2-pro", "prompt": "p"})
    assert resp.status_code == 503
    assert access_line(gateway_logs, resp)["model"] == "flux-2-pro"


def test_an_edit_failure_names_provider_and_model(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, gateway_logs: LogCapture
) -> None:
    openai_emu.add_faults([{"match": "edit", "status": 503}])
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"model": "gpt-image-1.5", "prompt": "p"},
            files={"image": ("in.png", png(), "image/png")},
        )
    assert resp.status_code == 502
    line = access_line(gateway_logs, resp)
    assert (line["path"], line["provider"], line["model"]) == (
        "/v1/images/edits",
        "openai",
        "gpt-image-1.5",
    )


def test_fallbacks_name_the_one_that_failed_last(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, bfl: Any, gateway_logs: LogCapture
) -> None:
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    bfl.add_faults([{"match": "submit", "status": 500}])
    body = {"model": "gpt-image-1", "prompt": "p", "fallbacks": ["flux-dev", "local-art"]}
    with gw.client() as http:
        served = http.post(GENERATIONS, json=body)
        assert served.status_code == 200 and served.json()["provider"] == "local"
        line = access_line(gateway_logs, served)
        assert (line["provider"], line["model"]) == ("local", "local-art")

        openai_emu.add_faults([{"match": "generate", "status": 500}])
        bfl.add_faults([{"match": "submit", "status": 500}])
        failed = http.post(GENERATIONS, json={**body, "fallbacks": ["flux-dev"]})
    assert failed.status_code == 502
    line = access_line(gateway_logs, failed)
    assert (line["provider"], line["model"]) == ("bfl-flux", "flux-dev")


def test_an_unconfigured_fallback_leaves_the_one_that_was_called(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle, gateway_logs: LogCapture
) -> None:
    gw = start_gateway(openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url)
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    with gw.client() as http:
        resp = http.post(
            GENERATIONS, json={"model": "gpt-image-1", "prompt": "p", "fallbacks": ["flux-dev"]}
        )
    assert resp.status_code == 502
    line = access_line(gateway_logs, resp)
    assert (line["provider"], line["model"]) == ("openai", "gpt-image-1")


def job_lines(logs: LogCapture, job_id: str) -> list[dict[str, Any]]:
    return [
        line
        for line in map(json.loads, list(logs.lines))
        if line["msg"] == "job finished" and line["job_id"] == job_id
    ]


def test_async_jobs_are_attributed(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, gateway_logs: LogCapture
) -> None:
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    with gw.client() as http:
        accepted = http.post(
            GENERATIONS, json={"model": "gpt-image-1", "prompt": "p"}, headers=ASYNC
        )
        assert accepted.status_code == 202, accepted.text
        line = access_line(gateway_logs, accepted)
        assert (line["status"], line["provider"], line["model"]) == (202, "openai", "gpt-image-1")
        job = wait_job(http, accepted.json()["id"])
        assert job["status"] == "failed"
        assert set(job["error"]) == {"error"}  # who it failed at is for logs, not the job's JSON
        ok = http.post(GENERATIONS, json={"model": "flux-dev", "prompt": "p"}, headers=ASYNC)
        done = wait_job(http, ok.json()["id"])
    [failed_line] = eventually(lambda: job_lines(gateway_logs, job["id"]))
    assert failed_line["status"] == "failed" and failed_line["error_code"] == "upstream_error"
    assert (failed_line["provider"], failed_line["model"]) == ("openai", "gpt-image-1")
    assert failed_line["request_id"] == accepted.headers["x-request-id"]
    [done_line] = eventually(lambda: job_lines(gateway_logs, done["id"]))
    assert (done_line["status"], done_line["provider"], done_line["model"]) == (
        "succeeded",
        "bfl-flux",
        "flux-dev",
    )


@pytest.mark.parametrize(
    ("body", "status", "target"),
    [
        ({"model": "flux-dev", "prompt": "p", "quality": "high"}, 400, ("bfl-flux", "flux-dev")),
        ({"model": "gpt-image-1", "prompt": "p"}, 503, ("openai", "gpt-image-1")),
    ],
)
def test_an_async_refusal_names_what_was_asked_for(
    start_gateway: Any,
    bfl: Any,
    gateway_logs: LogCapture,
    body: dict[str, Any],
    status: int,
    target: tuple[str, str],
) -> None:
    """Refused before its 202 (a value the model cannot take; a provider without a key)."""
    gw = start_gateway(
        bfl_api_key=BFL_TEST_KEY, bfl_base_url=bfl.base_url, bfl_trusted_hosts=bfl.poll_base_url
    )
    with gw.client() as http:
        resp = http.post(GENERATIONS, json=body, headers=ASYNC)
    assert resp.status_code == status, resp.text
    line = access_line(gateway_logs, resp)
    assert (line["provider"], line["model"]) == target


def test_a_sync_request_run_as_a_job_is_attributed(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, gateway_logs: LogCapture
) -> None:
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    key = {"Idempotency-Key": "attribution-1"}
    with gw.client() as http:
        failed = http.post(GENERATIONS, json={"model": "gpt-image-1", "prompt": "p"}, headers=key)
        served = http.post(
            GENERATIONS,
            json={"model": "gpt-image-1", "prompt": "p", "fallbacks": ["local-art"]},
            headers={"Idempotency-Key": "attribution-2"},
        )
    assert failed.status_code == 502
    line = access_line(gateway_logs, failed)
    assert (line["provider"], line["model"]) == ("openai", "gpt-image-1")
    assert served.status_code == 200, served.text
    line = access_line(gateway_logs, served)
    assert (line["provider"], line["model"]) == ("openai", "gpt-image-1")  # it served


# Sizes.


def test_flux_2_fits_the_size_and_says_so(gw: RunningGateway) -> None:
    sdk = openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)
    result = sdk.images.generate(model="flux-2-pro", prompt="a fox", size="1920x1080")  # type: ignore[arg-type]
    item = result.data[0].model_dump()
    assert item["size"] == "1920x1088" == dims(item)


@pytest.mark.parametrize(
    ("body", "sizes"),
    [
        ({"model": "flux-dev", "size": "1920x1080"}, None),  # fitted within 1440 by 32s
        ({"model": "flux-kontext-pro", "aspect_ratio": "21:9"}, None),  # BFL picks the size
        ({"model": "gpt-image-1", "size": "1536x1024", "n": 2}, ["1536x1024"] * 2),
        ({"model": "gpt-image-2", "size": "2048x1152", "output_format": "jpeg"}, ["2048x1152"]),
        ({"model": "local-art", "size": "320x192", "n": 3}, ["320x192"] * 3),
    ],
)
def test_every_image_carries_its_size(
    gw: RunningGateway, body: dict[str, Any], sizes: list[str] | None
) -> None:
    with gw.client() as http:
        resp = http.post(GENERATIONS, json={"prompt": "p", **body})
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    assert [item["size"] for item in data] == [dims(item) for item in data]
    if sizes is not None:
        assert [item["size"] for item in data] == sizes
    else:
        assert data[0]["size"] != body.get("size")  # fitted: what was made, not what was asked


def test_url_answers_and_job_results_carry_sizes_too(gw: RunningGateway) -> None:
    body = {"model": "flux-2-pro", "prompt": "p", "size": "1920x1080", "response_format": "url"}
    with gw.client() as http:
        sync = http.post(GENERATIONS, json=body).json()["data"][0]
        image = Image.open(io.BytesIO(http.get(sync["url"]).content))
        job = wait_job(http, http.post(GENERATIONS, json=body, headers=ASYNC).json()["id"])
    assert sync["size"] == "1920x1088" and image.size == (1920, 1088)
    assert job["status"] == "succeeded" and job["result"]["data"][0]["size"] == "1920x1088"
