"""Which limit ends which upstream call, end to end (README "Timeouts").

A submission the provider may charge for (an OpenAI generation or edit, a BFL submit) waits as
long as the request's deadline allows, however long it stays silent; connecting stays bounded by
the short connect timeout; short calls (BFL polls, result downloads) keep the short read
timeout. Timeouts are scaled down (tenths of a second) to keep the tests quick.
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from PIL import Image

from image_gateway.errors import UNKNOWN_OUTCOME
from tests.conftest import GATEWAY_TEST_KEY, OpenAIEmulatorHandle
from tests.resilience.conftest import FaultGateway

GPT = {"model": "gpt-image-1", "prompt": "a lighthouse", "size": "1024x1024"}
FLUX = {"model": "flux-dev", "prompt": "a lighthouse"}
SLOW = 0.8  # seconds the provider stays silent: 4 read timeouts, well inside the deadline
SHORT = {"upstream_read_timeout_seconds": 0.2, "request_deadline_seconds": 5}


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def sdk(fault_gateway: Any) -> Iterator[tuple[FaultGateway, openai.OpenAI]]:
    gw: FaultGateway = fault_gateway(**SHORT)
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY)
    yield gw, client
    client.close()


def submissions(openai_emu: OpenAIEmulatorHandle, bfl: Any) -> int:
    requests = openai_emu.stats()["requests"]
    return int(requests["generate"] + requests["edit"] + bfl.stats()["submits"])


@pytest.mark.parametrize("call", ["openai-generation", "openai-edit", "bfl-submit"])
def test_a_submission_silent_past_the_read_timeout_succeeds_within_the_deadline(
    sdk: tuple[FaultGateway, openai.OpenAI],
    openai_emu: OpenAIEmulatorHandle,
    bfl: Any,
    call: str,
) -> None:
    _, client = sdk
    started = time.monotonic()
    if call == "openai-generation":
        openai_emu.add_faults([{"match": "generate", "delay": SLOW}])
        result = client.images.generate(**GPT)
    elif call == "openai-edit":
        openai_emu.add_faults([{"match": "edit", "delay": SLOW}])
        result = client.images.edit(model="gpt-image-1", prompt="p", image=("in.png", png()))
    else:
        bfl.add_faults([{"match": "submit", "delay": SLOW}])
        result = client.images.generate(**FLUX)  # type: ignore[arg-type]
    assert len(result.data) == 1 and time.monotonic() - started >= SLOW
    assert submissions(openai_emu, bfl) == 1


def test_an_async_job_waits_for_a_slow_generation_too(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway(**SHORT)
    openai_emu.add_faults([{"match": "generate", "delay": SLOW}])
    with gw.running.client() as http:
        job = http.post("/v1/images/generations", json=GPT, headers={"Prefer": "respond-async"})
        assert job.status_code == 202, job.text
        deadline = time.monotonic() + 10
        while (view := http.get(f"/v1/jobs/{job.json()['id']}").json())["status"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline, view
            time.sleep(0.05)
    assert view["status"] == "succeeded", view
    assert openai_emu.stats()["requests"]["generate"] == 1


def test_a_generation_past_the_deadline_is_a_504_that_says_do_not_retry(
    fault_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway(
        upstream_read_timeout_seconds=0.1, request_deadline_seconds=0.6
    )
    openai_emu.add_faults([{"match": "generate", "stall": True}])
    started = time.monotonic()
    resp = gw.post(GPT)
    elapsed = time.monotonic() - started
    assert resp.status_code == 504 and resp.json()["error"]["code"] == "deadline_exceeded"
    assert 0.55 <= elapsed < 3  # the deadline ended it, not the 0.1-s read timeout
    assert resp.headers["x-should-retry"] == "false"
    assert UNKNOWN_OUTCOME in resp.json()["error"]["message"]
    assert openai_emu.stats()["requests"]["generate"] == 1


def test_a_result_download_keeps_the_short_read_timeout(fault_gateway: Any, bfl: Any) -> None:
    # (Polls too: tests/providers/test_bfl_e2e.py::test_failed_polls_are_retried_until_ready.)
    gw: FaultGateway = fault_gateway(upstream_read_timeout_seconds=0.3, request_deadline_seconds=30)
    bfl.add_faults([{"match": "sample", "stall": True}])
    started = time.monotonic()
    resp = gw.post(FLUX)
    assert resp.status_code == 504 and time.monotonic() - started < 3
    assert resp.headers["x-should-retry"] == "false"  # the task was accepted (and charged)
    assert bfl.stats()["submits"] == 1


@pytest.fixture
def no_tls_handshake() -> Iterator[int]:
    """A port whose listener never accepts: TCP connects, the TLS handshake never ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def test_connecting_keeps_the_short_connect_timeout(
    fault_gateway: Any, no_tls_handshake: int
) -> None:
    gw: FaultGateway = fault_gateway(
        openai_base_url=f"https://127.0.0.1:{no_tls_handshake}/v1",
        upstream_connect_timeout_seconds=0.3,
        request_deadline_seconds=30,
        retry_max_attempts=1,
    )
    started = time.monotonic()
    resp = gw.post(GPT)
    assert resp.status_code == 504 and time.monotonic() - started < 3
    assert resp.json()["error"]["message"] == "openai did not accept a connection in time"
    assert resp.headers["x-should-retry"] == "true"  # nothing was sent: safe to try again
