"""The xAI adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating and editing through the gateway with xAI's own fields, its model
aliases, its rules (checked by the gateway, since xAI falls back silently), its HTTP-200
refusals, its error bodies, its result host, and the emulator's lenient and strict modes.

Servers: the real gateway and the xAI emulator on loopback (`tests/contract/harness.py`).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.xai import XAIEmulator
from image_gateway.errors import UNKNOWN_OUTCOME
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS

XAI_TEST_KEY = "xai-test-canary-3c9e1f7a5b2d"
PLAIN_JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def emu() -> Iterator[XAIEmulator]:
    with XAIEmulator(api_key=XAI_TEST_KEY, strict=True) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def gw(emu: XAIEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    settings = provider_settings(CONTRACTS["xai"], emu)
    with serve_gateway(tmp_path_factory.mktemp("xai"), **settings) as gateway:
        yield gateway


@pytest.fixture(autouse=True)
def _reset(emu: XAIEmulator) -> None:
    emu.reset()


@pytest.fixture
def sdk(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)


def sent(emu: XAIEmulator) -> list[dict[str, Any]]:
    return [record["fields"] for record in emu.requests() if record["path"].startswith("/v1/")]


def image_file(size: tuple[int, int], name: str = "in.png") -> tuple[str, bytes, str]:
    return (name, png(size), "image/png")


def decoded(b64: str | None) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64 or "")))


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    body.setdefault("prompt", "a lighthouse")
    with gw.client() as http:
        return http.post("/v1/images/generations", json=body)


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_with_xais_own_fields(sdk: openai.OpenAI, emu: XAIEmulator) -> None:
    result = sdk.images.generate(
        model="xai/grok-imagine-image-2.0",
        prompt="a fox",
        n=3,
        quality="low",
        response_format="b64_json",
        user="end-user-1",
        extra_body={"aspect_ratio": "6:13", "provider_params": {"resolution": "2K"}},
    )
    assert len(result.data) == 3
    image = decoded(result.data[0].b64_json)
    assert image.format == "JPEG"
    assert abs(image.size[0] / image.size[1] - 9 / 19.5) < 0.02
    assert image.size[0] * image.size[1] > 3_500_000  # 2k: about 4 megapixels
    assert result.model_extra is not None
    assert result.model_extra["cost"] == {"usd": 0.18, "basis": "provider"}  # 3 x 2k low
    [fields] = sent(emu)
    assert fields == {
        "model": "grok-imagine-image-2.0",
        "prompt": "a fox",
        "n": 3,
        "response_format": "url",
        "aspect_ratio": "9:19.5",
        "resolution": "2k",
        "quality": "low",
        "user": "end-user-1",
    }
    stats = emu.stats()
    assert stats["submissions"] == 1 and stats["results_served"] == 3
    assert stats["result_requests_with_key"] == 0


def test_sdk_edits_several_images_sent_as_json(sdk: openai.OpenAI, emu: XAIEmulator) -> None:
    result = sdk.images.edit(
        model="xai/grok-imagine-image",
        prompt="put them together",
        image=[image_file((300, 200), "a.png"), image_file((64, 64), "b.png")],
        response_format="b64_json",
    )
    image = decoded(result.data[0].b64_json)
    assert abs(image.size[0] / image.size[1] - 1.5) < 0.02  # follows the first input image
    [fields] = sent(emu)
    assert "image" not in fields and len(fields["images"]) == 2
    first = fields["images"][0]
    assert first["type"] == "image_url"
    data = first["url"]
    assert isinstance(data, str) and data.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(data.partition(",")[2]))).size == (300, 200)


def test_sdk_edit_of_one_image_is_xais_image_object(sdk: openai.OpenAI, emu: XAIEmulator) -> None:
    result = sdk.images.edit(
        model="xai/grok-imagine-image-quality",
        prompt="make it night",
        image=image_file((64, 64)),
        extra_body={"aspect_ratio": "2:1"},
    )
    assert result.data[0].url  # xAI's default: the gateway's own stored image
    [fields] = sent(emu)
    assert set(fields["image"]) == {"url", "type"} and fields["aspect_ratio"] == "2:1"


@pytest.mark.parametrize(
    ("asked", "wire"),
    [
        ("grok-imagine-image-pro", "grok-imagine-image-quality"),
        ("grok-imagine-image-beta", "grok-imagine-image"),
        ("grok-2-image", "grok-2-image-1212"),
        ("grok-2-image-1212", "grok-2-image-1212"),
    ],
)
def test_aliases_go_out_as_the_ids_xai_serves(
    sdk: openai.OpenAI, emu: XAIEmulator, asked: str, wire: str
) -> None:
    result = sdk.images.generate(model=asked, prompt="a bare model id")
    assert result.data[0].url and result.model_extra is not None
    assert (result.model_extra["provider"], result.model) == ("xai", wire)
    assert [f["model"] for f in sent(emu)] == [wire]


def test_the_catalogue_lists_the_ids_xai_serves(gw: RunningGateway) -> None:
    with gw.client() as http:
        providers = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
    cards = {card["id"]: card for card in providers["xai"]["models"]}
    assert list(cards) == [
        "grok-imagine-image",
        "grok-imagine-image-quality",
        "grok-imagine-image-2.0",
        "grok-2-image-1212",
    ]
    assert providers["xai"]["default_model"] == "grok-imagine-image"
    assert cards["grok-imagine-image-2.0"]["quality"] == ["low", "medium"]
    assert cards["grok-imagine-image"]["provider_params"] == ["resolution"]
    assert cards["grok-imagine-image"]["output_formats"] == ["jpeg"]
    assert (
        not cards["grok-2-image-1212"]["edits"] and not cards["grok-2-image-1212"]["aspect_ratio"]
    )


# --- xAI's rules: checked by the gateway, as xAI falls back silently ----------------------------


@pytest.mark.parametrize(
    ("fields", "param", "says"),
    [
        ({"size": "1024x1024"}, "size", "aspect_ratio"),
        ({"style": "natural"}, "style", "not supported"),
        ({"aspect_ratio": "21:9"}, "aspect_ratio", "6:13"),
        ({"provider_params": {"resolution": "4K"}}, "provider_params.resolution", "503"),
        ({"provider_params": {"resolution": "1024"}}, "provider_params.resolution", "1k"),
        ({"provider_params": {"resolution": 2}}, "provider_params.resolution", "2k"),
        ({"quality": "low"}, "quality", "not supported"),
        ({"quality": "high", "model": "xai/grok-imagine-image-2.0"}, "quality", "low, medium"),
        ({"seed": 7}, "seed", "not supported"),
        ({"output_format": "webp"}, "output_format", "jpeg"),
        ({"negative_prompt": "fog"}, "negative_prompt", "not supported"),
        ({"n": 11}, "n", ""),
        ({"user": "a", "safety_identifier": "b"}, "safety_identifier", "one end-user id"),
        ({"model": "xai/grok-2-image-1212", "aspect_ratio": "16:9"}, "aspect_ratio", ""),
        (
            {"model": "xai/grok-2-image-1212", "provider_params": {"resolution": "2k"}},
            "provider_params.resolution",
            "accepted: none",
        ),
    ],
)
def test_what_xai_would_ignore_is_refused_before_anything_is_sent(
    gw: RunningGateway, emu: XAIEmulator, fields: dict[str, Any], param: str, says: str
) -> None:
    resp = generate(gw, **{"model": "xai/grok-imagine-image", **fields})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["param"] == param and says in error["message"]
    assert emu.stats()["requests"]["generate"] == 0


def test_openai_defaults_xai_lacks_mean_not_given(sdk: openai.OpenAI, emu: XAIEmulator) -> None:
    """What the SDK and many clients send explicitly (`style: vivid`, `output_format: png`,
    `quality: auto`) is accepted as "not given", never sent to xAI."""
    result = sdk.images.generate(
        model="xai/grok-imagine-image",
        prompt="p",
        style="vivid",
        quality="auto",
        output_format="png",
        response_format="b64_json",
    )
    assert decoded(result.data[0].b64_json).format == "JPEG"
    assert not {"style", "quality", "output_format"} & set(sent(emu)[0])


@pytest.mark.parametrize(
    ("model", "files", "data", "param"),
    [
        ("xai/grok-imagine-image", 4, {}, "image"),
        ("xai/grok-imagine-image", 1, {"mask": True}, "mask"),
        ("xai/grok-2-image-1212", 1, {}, "model"),
        ("xai/grok-imagine-image", 1, {"size": "1024x1024"}, "size"),
    ],
)
def test_edits_xai_cannot_make_are_refused_before_anything_is_sent(
    gw: RunningGateway, emu: XAIEmulator, model: str, files: int, data: dict[str, Any], param: str
) -> None:
    parts: list[tuple[str, tuple[str, bytes, str]]] = [
        ("image[]", image_file((64, 64), f"{i}.png")) for i in range(files)
    ]
    if data.pop("mask", False):
        parts.append(("mask", ("m.png", png((64, 64), "RGBA"), "image/png")))
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits", data={"model": model, "prompt": "p", **data}, files=parts
        )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert emu.stats()["requests"]["edit"] == 0


# --- refusals and failures in xAI's own forms ---------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "says"),
    [("[moderate-image]", "withheld 2 of 2 images"), ("[block]", "flagged by input moderation")],
)
def test_a_refusal_given_with_http_200_is_a_content_policy_violation(
    gw: RunningGateway, emu: XAIEmulator, marker: str, says: str
) -> None:
    resp = generate(gw, model="xai/grok-imagine-image", prompt=f"a {marker} scene", n=2)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == ("content_policy_violation", "xai")
    assert says in error["message"]
    assert emu.stats()["submissions"] == 1  # accepted once, never sent again


def _fault(status: int, body: Any, times: int = 1, **extra: Any) -> dict[str, Any]:
    return {"match": "submit", "status": status, "body": body, "times": times, **extra}


QUOTA_TEXT = (
    "Your team team-x has either used all available credits or reached its monthly spending "
    "limit. To continue making API requests, please purchase more credits or raise your "
    "spending limit."
)


@pytest.mark.parametrize(
    ("fault", "status", "code", "submits"),
    [
        (
            _fault(
                400,
                {
                    "code": "Client specified an invalid argument",
                    "error": "Incorrect API key provided: xa***2d. You can obtain an API key "
                    "from https://console.x.ai.",
                },
            ),
            502,
            "provider_auth_failed",
            1,
        ),
        (
            _fault(403, {"code": "The caller does not have permission", "error": QUOTA_TEXT}),
            402,
            "provider_quota_exhausted",
            1,
        ),
        (
            _fault(429, {"code": "Some resource has been exhausted", "error": QUOTA_TEXT}),
            402,
            "provider_quota_exhausted",
            1,
        ),
        (
            _fault(
                403,
                {
                    "code": "The caller does not have permission to execute the specified "
                    "operation",
                    "error": "Content violates usage guidelines. Failed check: SAFETY_CHECK",
                },
            ),
            400,
            "content_policy_violation",
            1,
        ),
        (
            _fault(400, {"error": {"message": "blocked", "code": "usage_guideline_violation"}}),
            400,
            "content_policy_violation",
            1,
        ),
        (
            _fault(
                422,
                "Failed to deserialize the JSON body into the target type: unknown field `x`",
                headers={"content-type": "text/plain; charset=utf-8"},
            ),
            400,
            "invalid_request_error",
            1,
        ),
        (
            _fault(404, {"code": "Some requested entity was not found", "error": "no model"}),
            404,
            "model_not_found",
            1,
        ),
        (
            _fault(
                503,
                {
                    "code": "The service is currently unavailable",
                    "error": "model_service_unavailable",
                },
                times=2,
            ),
            502,
            "upstream_error",
            2,
        ),
    ],
)
def test_xais_error_bodies_end_as_the_right_error(
    gw: RunningGateway,
    emu: XAIEmulator,
    fault: dict[str, Any],
    status: int,
    code: str,
    submits: int,
) -> None:
    emu.add_faults([fault])
    resp = generate(gw, model="xai/grok-imagine-image")
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert code in (error["code"], error["type"]), error
    assert emu.stats()["requests"]["generate"] == submits
    if fault["status"] == 422:
        assert "Failed to deserialize" in error["message"]
    if fault["status"] == 404:
        assert "XAI_BASE_URL" in error["message"]


def test_a_wrong_key_is_xais_400_and_ends_as_provider_auth_failed(
    emu: XAIEmulator, tmp_path: Path
) -> None:
    settings = {**provider_settings(CONTRACTS["xai"], emu), "xai_api_key": "xai-wrong-key-1234"}
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway, model="xai/grok-imagine-image")
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "XAI_API_KEY" in error["message"]
    assert "wrong-key" not in resp.text
    assert emu.stats()["auth_failures"] == 1


# --- where results come from --------------------------------------------------------------------


def test_b64_json_answers_are_read_with_or_without_a_data_uri(
    emu: XAIEmulator, tmp_path: Path
) -> None:
    settings = {**provider_settings(CONTRACTS["xai"], emu), "xai_response_format": "b64_json"}
    with serve_gateway(tmp_path, **settings) as gateway:
        first = generate(gateway, model="xai/grok-imagine-image", response_format="b64_json")
        emu.add_faults([{"match": "submit", "plain_b64": True}])
        second = generate(gateway, model="xai/grok-imagine-image", response_format="b64_json")
    for resp in (first, second):
        assert resp.status_code == 200, resp.text
        assert decoded(resp.json()["data"][0]["b64_json"]).format == "JPEG"
    assert [f["response_format"] for f in sent(emu)] == ["b64_json", "b64_json"]
    assert emu.stats()["results_served"] == 0


def test_a_result_host_that_is_not_trusted_is_not_fetched(emu: XAIEmulator, tmp_path: Path) -> None:
    settings = {**provider_settings(CONTRACTS["xai"], emu), "xai_trusted_hosts": []}
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway, model="xai/grok-imagine-image")
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert "refused" in error["message"] and UNKNOWN_OUTCOME in error["message"]
    assert "add it to XAI_TRUSTED_HOSTS" in error["message"]  # how the operator trusts it
    assert f"to trust {emu.poll_url}" in error["message"]  # the result host, not the API
    assert resp.headers["x-should-retry"] == "false"
    assert emu.stats()["submissions"] == 1 and emu.stats()["results_served"] == 0


def test_an_expired_result_url_is_an_unknown_outcome_never_sent_again(tmp_path: Path) -> None:
    with XAIEmulator(api_key=XAI_TEST_KEY, url_ttl=-60) as expired:
        with serve_gateway(tmp_path, **provider_settings(CONTRACTS["xai"], expired)) as gateway:
            resp = generate(gateway, model="xai/grok-imagine-image")
        stats = expired.stats()
    assert resp.status_code == 502, resp.text
    assert "HTTP 403" in resp.json()["error"]["message"]
    assert stats["submissions"] == 1 and stats["requests"]["result"] == 1


def test_a_fake_image_from_the_result_host_is_refused(gw: RunningGateway, emu: XAIEmulator) -> None:
    emu.add_faults([{"match": "result", "image": "html"}])
    resp = generate(gw, model="xai/grok-imagine-image")
    assert resp.status_code == 502, resp.text
    assert resp.json()["error"]["code"] == "invalid_image_output"


# --- the emulator: lenient where xAI is, strict on request --------------------------------------


@pytest.fixture(scope="module")
def lenient() -> Iterator[XAIEmulator]:
    with XAIEmulator(api_key=XAI_TEST_KEY) as emulator:
        yield emulator


def call(emulator: XAIEmulator, path: str, body: Any, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {XAI_TEST_KEY}", **kwargs.pop("headers", {})}
    with httpx.Client(base_url=emulator.base_url, headers=headers, timeout=10) as http:
        if isinstance(body, str):
            return http.post(path, content=body, headers=PLAIN_JSON)
        return http.post(path, json=body, **kwargs)


def test_bad_values_fall_back_silently_or_are_refused_when_strict(
    lenient: XAIEmulator, emu: XAIEmulator
) -> None:
    body = {
        "prompt": "p",
        "aspect_ratio": "21:9",
        "resolution": "1K",
        "response_format": "base64",
        "image": {"url": "https://example.invalid/a.png"},
    }
    lenient.reset()
    resp = call(lenient, "/images/generations", body)
    assert resp.status_code == 200, resp.text
    url = resp.json()["data"][0]["url"]  # response_format fell back to url
    assert "&w=1024&h=1024&" in url  # 1k, auto (1:1)
    stats = lenient.stats()
    assert (stats["silent_fallbacks"], stats["dropped_inputs"], stats["submissions"]) == (3, 1, 1)
    for name in ("aspect_ratio", "resolution", "response_format", "image"):
        resp = call(emu, "/images/generations", {"prompt": "p", name: body[name]})
        assert resp.status_code == 400, (name, resp.text)
        assert set(resp.json()) == {"code", "error"}


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/images/generations", {"prompt": "p", "resolution": "4k"}, 503, "model_service"),
        ("/images/generations", {"prompt": "p", "size": "1024x1024"}, 400, "Argument not"),
        ("/images/generations", {"prompt": "p", "output_format": "png"}, 422, "unknown field"),
        ("/images/generations", {"n": 1}, 422, "missing field `prompt`"),
        ("/images/generations", {"prompt": "p", "n": 11}, 400, "between 1 and 10"),
        ("/images/generations", {"prompt": "p", "model": "grok-9"}, 404, "grok-9"),
        ("/images/generations", "{not json", 400, "Failed to parse"),
        ("/images/edits", {"prompt": "p"}, 400, "image"),
        (
            "/images/edits",
            {"prompt": "p", "images": [{"url": "https://example.invalid/a.png"}] * 4},
            400,
            "At most 3",
        ),
    ],
)
def test_what_xai_refuses_the_emulator_refuses(
    lenient: XAIEmulator, path: str, body: Any, status: int, says: str
) -> None:
    resp = call(lenient, path, body)
    assert resp.status_code == status, resp.text
    assert says in resp.text


def test_edits_take_json_not_openais_multipart_form(lenient: XAIEmulator) -> None:
    with httpx.Client(base_url=lenient.base_url, timeout=10) as http:
        resp = http.post(
            "/images/edits",
            headers={"Authorization": f"Bearer {XAI_TEST_KEY}"},
            data={"prompt": "p"},
            files={"image": image_file((64, 64))},
        )
    assert resp.status_code == 415, resp.text


def test_keys_are_checked_and_never_echoed(lenient: XAIEmulator) -> None:
    with httpx.Client(base_url=lenient.base_url, timeout=10) as http:
        missing = http.post("/images/generations", json={"prompt": "p"})
        wrong = http.post(
            "/images/generations",
            json={"prompt": "p"},
            headers={"Authorization": "Bearer xai-not-the-key-9876"},
        )
    assert missing.status_code == 401
    assert wrong.status_code == 400 and "Incorrect API key provided: xa***76" in wrong.text
    assert "not-the-key" not in wrong.text


def test_the_rate_limit_is_xais_429_with_a_retry_hint() -> None:
    with XAIEmulator(api_key=XAI_TEST_KEY, rate_limit=1) as limited:
        first = call(limited, "/images/generations", {"prompt": "p"})
        second = call(limited, "/images/generations", {"prompt": "p"})
        stats = limited.stats()
    assert first.status_code == 200, first.text
    assert second.status_code == 429 and int(second.headers["retry-after"]) >= 1
    assert second.json() == {
        "code": "Some resource has been exhausted",
        "error": "Rate limit exceeded",
    }
    assert stats["submissions"] == 1


def test_result_urls_are_signed(lenient: XAIEmulator) -> None:
    url = call(lenient, "/images/generations", {"prompt": "p"}).json()["data"][0]["url"]
    assert url.startswith(lenient.poll_base_url + "/xai-imgen/xai-tmp-imgen-")
    with httpx.Client(timeout=10) as http:
        good = http.get(url)
        altered = http.get(url.replace("&w=1024&", "&w=2048&"))
    assert good.status_code == 200 and good.headers["content-type"] == "image/jpeg"
    assert altered.status_code == 403 and altered.headers["x-ms-error-code"]
