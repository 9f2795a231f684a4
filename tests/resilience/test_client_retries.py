"""What the official SDK does with the gateway's answers, at its default `max_retries=2`.

openai-python retries 408, 409, 429 and 5xx twice unless the answer carries `x-should-retry`
(`_base_client.SyncAPIClient._should_retry`). Each test drives `images.generate` through the
real SDK against a gateway wired to the emulators and counts both sides: the HTTP requests the
SDK sent to the gateway and the submissions the emulator saw. A failure that may have been paid
is never sent again (one SDK request, at most one paid submission); a failure no retry can fix
is not retried either; a retry-safe failure still is, and then succeeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from image_gateway.errors import UNKNOWN_OUTCOME
from tests.conftest import GATEWAY_TEST_KEY, OpenAIEmulatorHandle
from tests.resilience.conftest import FaultGateway

GPT = {"model": "gpt-image-1", "prompt": "a lighthouse", "size": "1024x1024"}
FLUX = {"model": "flux-dev", "prompt": "a lighthouse"}


class CountingSDK:
    """The official client with its default retries, counting the requests it sends."""

    def __init__(self, gw: FaultGateway, **headers: str) -> None:
        self.gw = gw
        self.sent = 0

        def count(request: Any) -> None:
            self.sent += 1

        self.client = openai.OpenAI(
            base_url=gw.url + "/v1",
            api_key=GATEWAY_TEST_KEY,
            default_headers=headers or None,
            http_client=openai.DefaultHttpxClient(event_hooks={"request": [count]}),
        )
        assert self.client.max_retries == 2  # the SDK's default, not ours

    def generate(self, body: dict[str, Any]) -> Any:
        return self.client.images.generate(**body)

    def fails(self, body: dict[str, Any]) -> openai.APIStatusError:
        with pytest.raises(openai.APIStatusError) as caught:
            self.generate(body)
        err = caught.value
        self.gw.output.append(f"{err.status_code} {dict(err.response.headers)} {err.body}")
        return err


@pytest.fixture
def sdk_for() -> Iterator[Callable[..., CountingSDK]]:
    """`sdk_for(gw, **headers)`: a counting SDK client, closed when the test ends."""
    made: list[CountingSDK] = []

    def make(gw: FaultGateway, **headers: str) -> CountingSDK:
        made.append(CountingSDK(gw, **headers))
        return made[-1]

    yield make
    for sdk in made:
        sdk.client.close()


def generations(openai_emu: OpenAIEmulatorHandle) -> int:
    return int(openai_emu.stats()["requests"]["generate"])


def message(err: openai.APIStatusError) -> str:
    return str(err.response.json()["error"]["message"])


# Each case: gateway settings, emulator faults, the request, the expected status and code.
MAY_HAVE_BEEN_PAID = {
    "openai-reset-after-send": (
        {},
        {"openai": [{"match": "generate", "reset": True}]},
        GPT,
        502,
        "upstream_error",
    ),
    "openai-hang-past-the-deadline": (
        {"request_deadline_seconds": 0.5},
        {"openai": [{"match": "generate", "stall": True}]},
        GPT,
        504,
        "deadline_exceeded",
    ),
    "openai-200-not-json": (
        {},
        {"openai": [{"match": "generate", "status": 200, "body": "<html>proxy</html>"}]},
        GPT,
        502,
        "upstream_error",
    ),
    "bfl-accept-then-reset": (
        {},
        {"bfl": [{"match": "submit", "accept_then_reset": True}]},
        FLUX,
        502,
        "upstream_error",
    ),
    "bfl-task-lost": (
        {},
        {
            "bfl": [
                {"match": "poll", "status": 200, "body": {"status": "Task not found"}, "times": 9}
            ]
        },
        FLUX,
        502,
        "task_not_found",
    ),
    "bfl-task-failed": (
        {},
        {"bfl": [{"match": "poll", "status": 200, "body": {"status": "Error"}}]},
        FLUX,
        502,
        "generation_failed",
    ),
    "bfl-never-ready": (
        {"bfl_poll_timeout_seconds": 0.3},
        {},
        {**FLUX, "prompt": "[never-ready] a lighthouse"},
        504,
        "upstream_timeout",
    ),
    "bfl-result-download-fails": (
        {},
        {"bfl": [{"match": "sample", "status": 500}]},
        FLUX,
        502,
        "upstream_error",
    ),
}


@pytest.mark.parametrize(
    ("settings", "faults", "body", "status", "code"),
    list(MAY_HAVE_BEEN_PAID.values()),
    ids=list(MAY_HAVE_BEEN_PAID),
)
def test_a_failure_that_may_have_been_paid_is_never_sent_again(
    fault_gateway: Any,
    sdk_for: Any,
    openai_emu: OpenAIEmulatorHandle,
    bfl: Any,
    settings: dict[str, Any],
    faults: dict[str, list[dict[str, Any]]],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    gw: FaultGateway = fault_gateway(**settings)
    openai_emu.add_faults(faults.get("openai", []))
    bfl.add_faults(faults.get("bfl", []))
    sdk = sdk_for(gw)
    err = sdk.fails(body)
    assert (err.status_code, err.code) == (status, code), err.body
    assert err.response.headers["x-should-retry"] == "false"
    assert UNKNOWN_OUTCOME in message(err)
    assert sdk.sent == 1  # without the header the SDK would have sent it twice more
    # Exactly one submission reached a provider (the emulators count a reset or stalled POST).
    assert generations(openai_emu) + bfl.stats()["submits"] == 1


def test_a_fanned_out_request_whose_sibling_was_paid_is_never_sent_again(
    fault_gateway: Any, sdk_for: Any, bfl: Any
) -> None:
    # Two FLUX calls: one is accepted (and charged), the other refused with a 503 — on its own
    # a retry-safe failure, but sending the request again would pay for the first image twice.
    gw: FaultGateway = fault_gateway(retry_max_attempts=1)
    bfl.add_faults([{"match": "submit", "status": 503}])
    sdk = sdk_for(gw)
    err = sdk.fails({**FLUX, "n": 2})
    assert err.status_code == 502 and err.response.headers["x-should-retry"] == "false"
    assert UNKNOWN_OUTCOME in message(err)
    assert sdk.sent == 1 and bfl.stats()["submits"] == 1


def test_a_fallback_failing_after_an_unknown_primary_is_never_sent_again(
    fault_gateway: Any, sdk_for: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> None:
    # The primary's answer was lost after sending; the fallback is refused (retry-safe alone).
    gw: FaultGateway = fault_gateway(retry_max_attempts=1)
    openai_emu.add_faults([{"match": "generate", "reset": True}])
    bfl.add_faults([{"match": "submit", "status": 503}])
    sdk = sdk_for(gw)
    err = sdk.fails({**GPT, "extra_body": {"fallbacks": ["flux-dev"]}})
    assert err.status_code == 502 and err.response.headers["x-should-retry"] == "false"
    assert UNKNOWN_OUTCOME in message(err)
    assert sdk.sent == 1 and generations(openai_emu) == 1 and bfl.stats()["submits"] == 0


QUOTA = {"error": {"message": "quota", "type": "x", "param": None, "code": "insufficient_quota"}}
NOT_FIXED_BY_A_RETRY = {
    "not-configured": ({"openai_api_key": None}, [], 503, "provider_not_configured", 0),
    "bad-provider-key": (
        {},
        [{"match": "generate", "status": 401}],
        502,
        "provider_auth_failed",
        1,
    ),
    "quota": (
        {},
        [{"match": "generate", "status": 429, "body": QUOTA}],
        402,
        "provider_quota_exhausted",
        1,
    ),
    "prompt-too-long": ({"max_prompt_chars": 5}, [], 400, "invalid_value", 0),
    "body-too-large": ({"max_request_bytes": 1024}, [], 413, "payload_too_large", 0),
}


@pytest.mark.parametrize(
    ("settings", "faults", "status", "code", "calls"),
    list(NOT_FIXED_BY_A_RETRY.values()),
    ids=list(NOT_FIXED_BY_A_RETRY),
)
def test_an_error_a_retry_cannot_fix_is_not_retried(
    fault_gateway: Any,
    sdk_for: Any,
    openai_emu: OpenAIEmulatorHandle,
    settings: dict[str, Any],
    faults: list[dict[str, Any]],
    status: int,
    code: str,
    calls: int,
) -> None:
    gw: FaultGateway = fault_gateway(**settings)
    openai_emu.add_faults(faults)
    sdk = sdk_for(gw)
    body = {**GPT, "prompt": "a lighthouse " * 100} if status == 413 else GPT
    err = sdk.fails(body)
    assert (err.status_code, err.code) == (status, code), err.body
    assert err.response.headers["x-should-retry"] == "false"
    assert UNKNOWN_OUTCOME not in message(err)  # nothing was accepted upstream
    assert sdk.sent == 1 and generations(openai_emu) == calls


def test_an_idempotency_key_reused_with_another_body_is_a_409_not_retried(
    fault_gateway: Any, sdk_for: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway()
    sdk = sdk_for(gw, **{"Idempotency-Key": "key-1"})
    assert sdk.generate(GPT).data
    err = sdk.fails({**GPT, "prompt": "another prompt"})
    assert err.status_code == 409 and err.code == "idempotency_key_reused"
    assert err.response.headers["x-should-retry"] == "false"
    assert sdk.sent == 2 and generations(openai_emu) == 1


def test_a_stored_job_failure_replayed_for_its_key_is_not_retried(
    fault_gateway: Any, sdk_for: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    # A synchronous request with an Idempotency-Key runs as a job; its key answers with the
    # job's stored failure from then on, so a retry cannot change the answer.
    gw: FaultGateway = fault_gateway(retry_max_attempts=1)
    openai_emu.add_faults([{"match": "generate", "reset": True}])
    sdk = sdk_for(gw, **{"Idempotency-Key": "key-2"})
    for _ in range(2):
        err = sdk.fails(GPT)
        assert err.status_code == 502 and err.response.headers["x-should-retry"] == "false"
        assert UNKNOWN_OUTCOME in message(err)
    assert sdk.sent == 2 and generations(openai_emu) == 1


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ({"match": "generate", "status": 429, "headers": {"Retry-After": "1"}}, 429),
        ({"match": "generate", "status": 500}, 502),
    ],
    ids=["provider-rate-limit", "provider-5xx"],
)
def test_a_retry_safe_failure_is_retried_by_the_sdk_and_succeeds(
    fault_gateway: Any,
    sdk_for: Any,
    openai_emu: OpenAIEmulatorHandle,
    fault: dict[str, Any],
    status: int,
) -> None:
    # The provider refuses three times without producing anything: once to a plain client (to
    # read the answer), twice to the SDK, whose third try succeeds.
    gw: FaultGateway = fault_gateway(retry_max_attempts=1)
    openai_emu.add_faults([{**fault, "times": 3}])
    first = gw.post(GPT)
    assert first.status_code == status and first.headers["x-should-retry"] == "true"
    if status == 429:
        assert first.headers["retry-after"] == "1"
    assert UNKNOWN_OUTCOME not in first.json()["error"]["message"]
    sdk = sdk_for(gw)
    assert len(sdk.generate(GPT).data) == 1
    assert sdk.sent == 3 and generations(openai_emu) == 4  # one paid, three refused


def test_an_open_circuit_is_retried_after_its_retry_after(
    fault_gateway: Any, sdk_for: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: FaultGateway = fault_gateway(
        retry_max_attempts=1, circuit_failure_threshold=1, circuit_cooldown_seconds=1
    )
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    assert gw.post(GPT).status_code == 502  # one outage opens the circuit
    open_answer = gw.post(GPT)
    assert open_answer.status_code == 503 and open_answer.json()["error"]["code"] == "circuit_open"
    assert open_answer.headers["x-should-retry"] == "true"
    assert open_answer.headers["retry-after"] == "1"
    sdk = sdk_for(gw)
    assert len(sdk.generate(GPT).data) == 1  # a 503, then the probe after Retry-After
    assert sdk.sent == 2 and generations(openai_emu) == 2


def test_an_edit_over_the_body_limit_is_a_413_not_retried(
    fault_gateway: Any, sdk_for: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    # The routed path's body limit (the generations route has its own, tested above).
    gw: FaultGateway = fault_gateway(max_request_bytes=4096)
    sdk = sdk_for(gw)
    with pytest.raises(openai.APIStatusError) as caught:
        sdk.client.images.edit(
            model="gpt-image-1", prompt="p", image=("in.png", b"\x89PNG\r\n\x1a\n" + bytes(8192))
        )
    err = caught.value
    assert err.status_code == 413 and err.response.headers["x-should-retry"] == "false"
    assert sdk.sent == 1 and generations(openai_emu) == 0
