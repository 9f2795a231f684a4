"""Every bad input gets a clear 400/404/413 naming the field, before any upstream call."""

from __future__ import annotations

import io
import json
import socket

import openai
import pytest
from PIL import Image

from tests.conftest import GATEWAY_TEST_KEY, RunningGateway


def post(gw: RunningGateway, payload: object) -> tuple[int, dict]:
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=payload)
    assert resp.headers["content-type"] == "application/json"
    return resp.status_code, resp.json()


@pytest.mark.parametrize(
    ("payload", "status", "param"),
    [
        ({}, 400, "prompt"),
        ({"prompt": ""}, 400, "prompt"),
        ({"prompt": 5}, 400, "prompt"),
        ({"prompt": "p", "n": 0}, 400, "n"),
        ({"prompt": "p", "n": 11}, 400, "n"),
        ({"prompt": "p", "n": 10**9}, 400, "n"),
        ({"prompt": "p", "size": "0x0"}, 400, "size"),
        ({"prompt": "p", "size": "99999x1"}, 400, "size"),
        ({"prompt": "p", "size": "1024x1024;rm"}, 400, "size"),
        ({"prompt": "p", "aspect_ratio": "wide"}, 400, "aspect_ratio"),
        ({"prompt": "p", "seed": -1}, 400, "seed"),
        ({"prompt": "p", "response_format": "file"}, 400, "response_format"),
        ({"prompt": "p", "output_format": "gif"}, 400, "output_format"),
        ({"prompt": "p", "model": "no-such-model"}, 404, "model"),
        ({"prompt": "p", "provider": "nope"}, 404, "provider"),
        ({"prompt": "p", "model": "nope/x"}, 404, "provider"),
        ({"prompt": "p", "model": "local/nope"}, 404, "model"),
        ({"prompt": "p", "provider": "openai", "model": "local/local-art"}, 400, "model"),
        ({"prompt": "p", "api_base": "http://127.0.0.1:1"}, 400, "api_base"),
        ({"prompt": "p", "base_url": "http://127.0.0.1:1"}, 400, "base_url"),
        ({"prompt": "p", "extra_headers": {"x": "y"}}, 400, "extra_headers"),
        (
            {"prompt": "p", "provider_params": {"api_base": "http://x"}},
            400,
            "provider_params.api_base",
        ),
        ({"prompt": "p", "provider_params": {"model": "local-art", "seed": "x"}}, 400, "seed"),
        ({"prompt": "p", "model": "local-art", "provider_params": {"model": "other"}}, 400, None),
        ({"prompt": "p", "provider_params": "not-an-object"}, 400, "provider_params"),
        ([1, 2], 400, None),
    ],
)
def test_bad_bodies(
    gateway: RunningGateway, payload: object, status: int, param: str | None
) -> None:
    code, body = post(gateway, payload)
    assert code == status, body
    error = body["error"]
    assert error["message"] and error["type"]
    if param is not None:
        assert error["param"] == param
    assert "detail" not in body  # never the framework's own shape


def test_a_well_formed_size_too_small_says_the_models_range(gateway: RunningGateway) -> None:
    """`7x7` is "WIDTHxHEIGHT": it is refused for the model's sides, not as malformed."""
    code, body = post(gateway, {"prompt": "p", "model": "local-art", "size": "7x7"})
    assert code == 400 and body["error"]["param"] == "size", body
    assert "between 64 and 2048" in body["error"]["message"], body


def test_error_names_the_field_not_the_value(gateway: RunningGateway) -> None:
    secret_looking = "sk-" + "A" * 40
    code, body = post(gateway, {"prompt": "p", "size": secret_looking})
    assert code == 400 and secret_looking not in str(body)


def test_unknown_provider_param_lists_what_is_accepted(gateway: RunningGateway) -> None:
    code, body = post(
        gateway,
        {
            "prompt": "p",
            "provider": "bfl-flux",
            "model": "flux-dev",
            "provider_params": {"stepz": 3},
        },
    )
    assert code == 400
    assert body["error"]["param"] == "provider_params.stepz"
    assert "steps" in body["error"]["message"] and "guidance" in body["error"]["message"]


def test_prompt_length_limit(start_gateway) -> None:
    gw = start_gateway(max_prompt_chars=100)
    code, body = post(gw, {"prompt": "x" * 101})
    assert code == 400 and body["error"]["param"] == "prompt"


def test_invalid_and_deeply_nested_json(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        for raw in (b"{not json", b"[" * 100_000 + b"]" * 100_000, b'{"prompt": "\\ud800"}'):
            resp = http.post(
                "/v1/images/generations", content=raw, headers={"content-type": "application/json"}
            )
            assert resp.status_code == 400, raw[:20]
            assert resp.json()["error"]["type"] == "invalid_request_error"
        assert http.get("/healthz").status_code == 200


def test_oversized_body_is_refused_before_it_is_read(start_gateway) -> None:
    gw = start_gateway(max_request_bytes=64 * 1024)
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            content=b"x" * (65 * 1024),
            headers={"content-type": "application/json"},
        )
        assert resp.status_code == 413
        assert resp.json()["error"]["code"] == "payload_too_large"

        def chunks():
            for _ in range(100):
                yield b"y" * 1024

        resp = http.post(
            "/v1/images/generations", content=chunks(), headers={"content-type": "application/json"}
        )
        assert resp.status_code == 413


def test_huge_declared_body_answered_without_upload(start_gateway) -> None:
    """The 413 arrives while the client has sent only its headers."""
    gw = start_gateway(max_request_bytes=1024 * 1024)
    host, port = gw.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n"
            + f"X-API-Key: {GATEWAY_TEST_KEY}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


def tiny_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (8, 8)).save(buf, "PNG")
    return buf.getvalue()


def test_edits_need_multipart_and_an_image(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        resp = http.post("/v1/images/edits", json={"prompt": "p"})
        assert resp.status_code == 400
        resp = http.post(
            "/v1/images/edits", data={"prompt": "p"}, files={"other": ("a.png", b"x", "image/png")}
        )
        assert resp.status_code == 400
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art"},
            files={"mask": ("m.png", tiny_png(), "image/png")},
        )
        assert resp.status_code == 400 and resp.json()["error"]["param"] == "image"
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "provider_params": "[1]"},
            files={"image": ("a.png", tiny_png(), "image/png")},
        )
        assert resp.status_code == 400 and resp.json()["error"]["param"] == "provider_params"
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art"},
            files={"image": ("a.png", b"not an image", "image/png")},
        )
        assert resp.status_code == 400 and resp.json()["error"]["param"] == "image"


def test_unconfigured_provider_is_a_clear_503(gateway: RunningGateway) -> None:
    for model in ("openai/gpt-image-1", "flux-2-pro"):
        code, body = post(gateway, {"prompt": "p", "model": model})
        assert code == 503
        assert body["error"]["code"] == "provider_not_configured"
        assert "_API_KEY" in body["error"]["message"]


def test_wrong_method_and_unknown_route(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        resp = http.get("/v1/images/generations")
        assert resp.status_code == 405 and "error" in resp.json()
        resp = http.get("/v1/nothing-here")
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


def test_provider_params_spread_into_form_fields_says_how_to_send_them(
    gateway: RunningGateway,
) -> None:
    """The official SDK makes one multipart field per key of extra_body's provider_params
    (`provider_params[strength]`); the 400 says to send one field holding JSON, and that
    form is then read (here, its key is checked against what local-art accepts)."""
    sdk = openai.OpenAI(base_url=gateway.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)
    image = ("in.png", tiny_png(), "image/png")
    with pytest.raises(openai.BadRequestError) as spread:
        sdk.images.edit(
            model="local-art",
            prompt="make it night",
            image=image,
            extra_body={"provider_params": {"strength": 0.5}},
        )
    error = spread.value.body
    assert isinstance(error, dict)
    assert error["param"] == "provider_params[strength]"
    assert "one form field holding a JSON object" in error["message"]
    assert 'extra_body={"provider_params": json.dumps' in error["message"]
    with pytest.raises(openai.BadRequestError) as as_json:
        sdk.images.edit(
            model="local-art",
            prompt="make it night",
            image=image,
            extra_body={"provider_params": json.dumps({"strength": 0.5})},
        )
    error = as_json.value.body
    assert isinstance(error, dict) and error["param"] == "provider_params.strength"
