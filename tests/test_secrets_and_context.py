"""Secrets never leave the gateway; every response carries a request id; probes answer."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import (
    BFL_TEST_KEY,
    CANARIES,
    GATEWAY_TEST_KEY,
    OPENAI_TEST_KEY,
    LogCapture,
    OpenAIEmulatorHandle,
    RunningGateway,
    emulator_settings,
)


def fragments(secret: str, length: int = 8) -> set[str]:
    return {secret[i : i + length] for i in range(len(secret) - length + 1)}


def test_no_secret_in_any_response_or_log_across_failures(
    start_gateway, openai_emu: OpenAIEmulatorHandle, bfl: Any, gateway_logs: LogCapture
) -> None:
    gw = start_gateway(
        **emulator_settings(openai_emu, bfl),
        upstream_read_timeout_seconds=0.5,
        request_deadline_seconds=1.0,  # ends the stalled generation (it waits up to the deadline)
        bfl_poll_timeout_seconds=0.5,
    )
    echo_keys = {
        "error": {
            "message": f"keys {OPENAI_TEST_KEY} {BFL_TEST_KEY}",
            "type": "x",
            "code": None,
            "param": None,
        },
        "detail": BFL_TEST_KEY,
    }
    openai_emu.add_faults(
        [
            {"match": "generate", "status": 401, "body": echo_keys},
            {"match": "generate", "status": 400, "body": echo_keys},
            {"match": "generate", "status": 500, "body": echo_keys},
            {"match": "generate", "status": 429, "body": echo_keys},
            {"match": "generate", "reset": True},
            {"match": "generate", "stall": True},
        ]
    )
    bfl.add_faults(
        [
            {
                "match": "submit",
                "status": 422,
                "body": {
                    "detail": [
                        {"loc": ["body", "width"], "msg": f"bad {BFL_TEST_KEY}", "type": "x"}
                    ]
                },
            },
            {"match": "submit", "status": 403, "body": {"detail": BFL_TEST_KEY}},
            {"match": "poll", "status": 200, "body": {"status": "Error", "details": BFL_TEST_KEY}},
        ]
    )
    texts: list[str] = []
    with gw.client() as http:
        for _ in range(6):
            texts.append(
                http.post(
                    "/v1/images/generations", json={"model": "gpt-image-1", "prompt": "p"}
                ).text
            )
        for _ in range(3):
            texts.append(
                http.post("/v1/images/generations", json={"model": "flux-dev", "prompt": "p"}).text
            )
        texts.append(
            http.post(
                "/v1/images/generations", json={"model": "flux-dev", "prompt": "[never-ready]"}
            ).text
        )
        for path in ("/healthz", "/readyz", "/v1/providers", "/v1/models", "/openapi.json"):
            texts.append(http.get(path).text)
    with gw.client(key="wrong" + GATEWAY_TEST_KEY) as http:
        texts.append(http.get("/v1/models").text)
    texts.append(repr(gw.settings))
    haystack = "\n".join(texts + gateway_logs.lines)
    assert len(gateway_logs.lines) >= 10
    for secret in CANARIES:
        leaked = [f for f in fragments(secret) if f in haystack]
        assert not leaked, (secret, leaked[:3])


def test_request_id_is_echoed_or_generated(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        mine = http.get("/healthz", headers={"X-Request-ID": "client-abc.123"})
        assert mine.headers["x-request-id"] == "client-abc.123"
        generated = http.get("/healthz")
        assert generated.headers["x-request-id"].startswith("req_")
        hostile = http.get("/healthz", headers={"X-Request-ID": "a b\tc" + "x" * 300})
        assert hostile.headers["x-request-id"].startswith("req_")
        error = http.post(
            "/v1/images/generations",
            json={"prompt": "p", "n": 0},
            headers={"X-Request-ID": "trace-1"},
        )
        assert error.json()["error"]["request_id"] == "trace-1"


def test_access_log_is_one_json_line_per_request(
    gateway: RunningGateway, gateway_logs: LogCapture
) -> None:
    import json

    with gateway.client() as http:
        http.post("/v1/images/generations", json={"prompt": "line\r\nbreak\u202e", "size": "64x64"})
    # The access line is written after the response is sent: give it a moment.
    deadline = time.monotonic() + 5
    access: list[dict[str, Any]] = []
    while not access and time.monotonic() < deadline:
        access = [json.loads(line) for line in gateway_logs.lines if '"request"' in line]
        time.sleep(0.01)
    assert access and all("\n" not in line for line in gateway_logs.lines)
    entry = access[-1]
    assert entry["status"] == 200 and entry["provider"] == "local" and entry["client"] == "key-1"
    assert GATEWAY_TEST_KEY not in json.dumps(entry)


def test_probes(gateway: RunningGateway) -> None:
    with gateway.client(key=None) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz").json()
        assert ready["status"] == "ready" and ready["providers"]["local"] is True
        assert http.get("/docs").status_code == 200
        spec = http.get("/openapi.json").json()
        assert "GenerationBody" in spec["components"]["schemas"]
