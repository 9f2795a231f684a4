"""The BFL adapter end to end: gateway and BFL emulator on loopback ports, real clients."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import openai
import pytest
from PIL import Image

from tests.conftest import BFL_TEST_KEY, GATEWAY_TEST_KEY, Canary, RunningGateway

SEED_BODY = {
    "provider": "bfl-flux",
    "prompt": "a lighthouse",
    "n": 1,
    "user_id": "user-test-123",
    "provider_params": {"model": "flux-kontext-pro", "aspect_ratio": "16:9"},
}


@pytest.fixture
def gw(start_gateway, bfl) -> RunningGateway:
    return start_gateway(
        bfl_api_key=BFL_TEST_KEY, bfl_base_url=bfl.base_url, bfl_trusted_hosts=bfl.poll_base_url
    )


def generate(gw: RunningGateway, body: dict[str, Any]) -> Any:
    with gw.client() as http:
        return http.post("/v1/images/generations", json=body)


def image_of(item: dict[str, Any]) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))


def test_seed_request_works_exactly_as_written(gw: RunningGateway, bfl: Any) -> None:
    with gw.client(key=None) as http:
        resp = http.post(
            "/v1/images/generations", json=SEED_BODY, headers={"X-API-Key": GATEWAY_TEST_KEY}
        )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["provider"], body["model"]) == ("bfl-flux", "flux-kontext-pro")
    image = image_of(body["data"][0])
    assert image.format == "PNG" and abs(image.size[0] / image.size[1] - 16 / 9) < 0.05
    assert isinstance(body["data"][0]["seed"], int)
    stats = bfl.stats()
    assert stats["submits"] == 1
    assert stats["last_submit"]["endpoint"] == "/v1/flux-kontext-pro"
    assert stats["last_submit"]["json"]["aspect_ratio"] == "16:9"
    assert stats["polls"] >= 1 and stats["samples"] == 1
    assert stats["sample_requests_with_key"] == 0


def test_openai_sdk_with_flux_model_and_size(gw: RunningGateway, bfl: Any) -> None:
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)
    result = client.images.generate(model="bfl-flux/flux-pro-1.1", prompt="fox", size="1024x768")
    image = image_of(result.data[0].model_dump())
    assert image.size == (1024, 768) and image.format == "JPEG"
    assert bfl.stats()["last_submit"]["json"]["width"] == 1024


def test_bare_flux2_id_fans_out_n_with_consecutive_seeds(gw: RunningGateway, bfl: Any) -> None:
    resp = generate(
        gw,
        {
            "model": "flux-2-pro",
            "prompt": "p",
            "n": 3,
            "seed": 100,
            "size": "512x512",
            "output_format": "webp",
        },
    )
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    assert len(data) == 3 and sorted(d["seed"] for d in data) == [100, 101, 102]
    assert all(image_of(d).format == "WEBP" for d in data)
    stats = bfl.stats()
    assert stats["submits"] == 3 and stats["submits_by_endpoint"] == {"/v1/flux-2-pro": 3}
    cost = resp.json()["cost"]
    assert cost["basis"] == "provider" and cost["credits"] == 9.0  # 3 x 3 credits (<= 1 MP)
    assert cost["usd"] == pytest.approx(0.09) and "usage" not in resp.json()


def test_url_response_outlives_the_signed_sample(start_gateway) -> None:
    from emulators.bfl import BFLEmulator

    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=0.05, sample_ttl=0.5) as short:
        gw = start_gateway(
            bfl_api_key=BFL_TEST_KEY,
            bfl_base_url=short.base_url,
            bfl_trusted_hosts=short.poll_base_url,
        )
        resp = generate(gw, {"model": "flux-dev", "prompt": "p", "response_format": "url"})
        assert resp.status_code == 200, resp.text
        time.sleep(1.0)  # the provider's signed URL is dead now; ours is not
        with gw.client(key=None) as http:
            image = http.get(resp.json()["data"][0]["url"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"


def png(size: tuple[int, int], mode: str = "RGB", colour: Any = (10, 20, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, "PNG")
    return buf.getvalue()


def test_kontext_edit_sends_reference_images(gw: RunningGateway, bfl: Any) -> None:
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)
    result = client.images.edit(
        model="flux-kontext-pro",
        prompt="night",
        image=[("a.png", png((64, 64)), "image/png"), ("b.png", png((64, 64)), "image/png")],
    )
    assert result.data[0].b64_json
    sent = bfl.stats()["last_submit"]["json"]
    assert base64.b64decode(sent["input_image"]).startswith(b"\x89PNG")
    assert "input_image_2" in sent and "input_image_3" not in sent


def test_fill_converts_an_openai_mask(gw: RunningGateway, bfl: Any) -> None:
    mask = Image.new("RGBA", (256, 256), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 128, 256))
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"model": "flux-pro-1.0-fill", "prompt": "sky"},
            files={
                "image": ("i.png", png((256, 256)), "image/png"),
                "mask": ("m.png", buf.getvalue(), "image/png"),
            },
        )
    assert resp.status_code == 200, resp.text
    sent = bfl.stats()["last_submit"]["json"]
    bfl_mask = Image.open(io.BytesIO(base64.b64decode(sent["mask"])))
    assert bfl_mask.getpixel((10, 10)) == 255 and bfl_mask.getpixel((200, 10)) == 0


@pytest.mark.parametrize("model", ["flux-kontext-pro", "flux-pro-1.0-expand", "flux-2-pro"])
def test_a_mask_is_refused_where_bfl_would_drop_it(
    gw: RunningGateway, bfl: Any, model: str
) -> None:
    """Only Fill reads `mask` (BFL's OpenAPI); elsewhere it is a 400, never dropped unread."""
    mask = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"model": model, "prompt": "sky"},
            files={
                "image": ("i.png", png((64, 64)), "image/png"),
                "mask": ("m.png", buf.getvalue(), "image/png"),
            },
        )
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["param"], error["code"]) == ("mask", "unsupported_parameter")
    assert bfl.stats()["submits"] == 0


def test_fill_without_image_is_refused_before_submitting(gw: RunningGateway, bfl: Any) -> None:
    resp = generate(gw, {"model": "flux-pro-1.0-fill", "prompt": "p"})
    assert resp.status_code == 400 and bfl.stats()["submits"] == 0


@pytest.mark.parametrize("marker", ["[moderate-request]", "[moderate-content]"])
def test_moderation_is_a_400_content_policy_violation(gw: RunningGateway, marker: str) -> None:
    resp = generate(gw, {"model": "flux-dev", "prompt": f"a {marker} b"})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "content_policy_violation"


def test_task_error_is_a_502(gw: RunningGateway) -> None:
    resp = generate(gw, {"model": "flux-dev", "prompt": "[error]"})
    assert resp.status_code == 502 and resp.json()["error"]["code"] == "generation_failed"


def test_never_ready_hits_the_polling_deadline(start_gateway, bfl: Any) -> None:
    gw = start_gateway(
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
        bfl_poll_timeout_seconds=0.6,
    )
    started = time.monotonic()
    resp = generate(gw, {"model": "flux-dev", "prompt": "[never-ready]"})
    assert resp.status_code == 504 and resp.json()["error"]["code"] == "upstream_timeout"
    assert time.monotonic() - started < 3
    assert bfl.stats()["submits"] == 1


def test_provider_validation_error_names_the_field(gw: RunningGateway, bfl: Any) -> None:
    """BFL's own 422 (steps 1-50 on flux-dev, a range the gateway leaves to it) names the field."""
    resp = generate(gw, {"model": "flux-dev", "prompt": "p", "provider_params": {"steps": 99}})
    assert resp.status_code == 400
    assert resp.json()["error"]["param"] == "provider_params.steps"


def test_safety_tolerance_above_the_models_maximum_is_refused_before_sending(
    gw: RunningGateway, bfl: Any
) -> None:
    """0-6 on FLUX1.x, 0-5 on FLUX.2 (BFL's OpenAPI): checked by the gateway, nothing sent."""
    for model, top in (("flux-dev", 6), ("flux-2-pro", 5)):
        body = {"model": model, "prompt": "p", "provider_params": {"safety_tolerance": top + 1}}
        resp = generate(gw, body)
        assert resp.status_code == 400, resp.text
        assert resp.json()["error"]["param"] == "provider_params.safety_tolerance"
    assert bfl.stats()["submits"] == 0


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (
            {"match": "submit", "status": 429, "headers": {"retry-after": "7"}},
            429,
            "provider_rate_limited",
        ),
        (
            {"match": "submit", "status": 402, "body": {"detail": "Insufficient credits"}},
            402,
            "provider_quota_exhausted",
        ),
        ({"match": "submit", "status": 500}, 502, "upstream_error"),
        (
            {"match": "submit", "status": 200, "body": "<html>maintenance</html>"},
            502,
            "upstream_error",
        ),
        ({"match": "submit", "status": 200, "body": {"polling_url": "x"}}, 502, "upstream_error"),
        ({"match": "submit", "reset": True}, 502, "upstream_error"),
        (
            {"match": "submit", "status": 401, "body": {"detail": f"bad key {BFL_TEST_KEY}"}},
            502,
            "provider_auth_failed",
        ),
    ],
)
def test_submit_faults_map_to_clear_errors(
    gw: RunningGateway, bfl: Any, fault: dict, status: int, code: str
) -> None:
    bfl.add_faults([fault])
    resp = generate(gw, {"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code
    assert BFL_TEST_KEY not in resp.text
    if status == 429:
        assert resp.headers["retry-after"] == "7"


def test_accepted_then_reset_is_never_resubmitted(gw: RunningGateway, bfl: Any) -> None:
    bfl.add_faults([{"match": "submit", "accept_then_reset": True}])
    resp = generate(gw, {"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == 502
    time.sleep(0.3)
    assert bfl.stats()["submits"] == 1


def test_failed_polls_are_retried_until_ready(start_gateway, bfl: Any) -> None:
    gw = start_gateway(
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
        upstream_read_timeout_seconds=0.3,
    )
    bfl.add_faults(
        [
            {"match": "poll", "status": 500},
            {"match": "poll", "reset": True},
            {"match": "poll", "stall": True},
            {"match": "poll", "status": 200, "body": "garbage"},
        ]
    )
    resp = generate(gw, {"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == 200, resp.text
    assert bfl.stats()["submits"] == 1


def test_untrusted_polling_url_never_gets_the_key(
    gw: RunningGateway, bfl: Any, canary: Canary
) -> None:
    foreign = f"http://localhost:{canary.port}/v1/get_result?id=abc"
    bfl.add_faults(
        [{"match": "submit", "status": 200, "body": {"id": "abc", "polling_url": foreign}}]
    )
    resp = generate(gw, {"model": "flux-dev", "prompt": "p"})
    # The gateway polled its own configured host instead, where the task is unknown.
    assert resp.status_code == 502 and resp.json()["error"]["code"] == "task_not_found"
    assert canary.accepted == 0


def test_untrusted_sample_host_is_refused(gw: RunningGateway, bfl: Any, canary: Canary) -> None:
    sample = f"http://localhost:{canary.port}/x.png"
    bfl.add_faults(
        [
            {
                "match": "poll",
                "status": 200,
                "body": {"id": "x", "status": "Ready", "result": {"sample": sample}},
            }
        ]
    )
    resp = generate(gw, {"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == 502
    assert canary.accepted == 0


def test_expired_sample_is_a_502_not_a_hang(start_gateway, bfl: Any) -> None:
    gw = start_gateway(
        bfl_api_key=BFL_TEST_KEY, bfl_base_url=bfl.base_url, bfl_trusted_hosts=bfl.poll_base_url
    )
    bfl.add_faults([{"match": "sample", "status": 403, "body": "<Error>expired</Error>"}])
    resp = generate(gw, {"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == 502


def test_wrong_provider_key_is_a_502_without_the_key(start_gateway, bfl: Any) -> None:
    gw = start_gateway(
        bfl_api_key="bfl_wrong-key-value-123",
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
    )
    resp = generate(gw, {"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == 502 and resp.json()["error"]["code"] == "provider_auth_failed"
    assert "bfl_wrong-key-value-123" not in resp.text


def test_unreachable_provider_is_a_502(start_gateway, canary: Canary) -> None:
    canary.close()  # nothing listens there any more
    gw = start_gateway(bfl_api_key=BFL_TEST_KEY, bfl_base_url=f"http://127.0.0.1:{canary.port}")
    resp = generate(gw, {"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == 502


def test_a_refusal_without_error_json_still_says_what_happened(
    gw: RunningGateway, bfl: Any
) -> None:
    """A 400 whose body is no error JSON (a proxy's HTML page) is no empty message."""
    bfl.add_faults([{"match": "submit", "status": 400, "body": "<html>no</html>"}])
    resp = generate(gw, {"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == 400, resp.text
    message = resp.json()["error"]["message"]
    assert message == "bfl-flux rejected the request (HTTP 400) without saying why"
