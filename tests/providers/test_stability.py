"""The Stability adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating and editing through the gateway with Stability's own fields, both
`accept` forms, the HTTP-200 CONTENT_FILTERED refusal, every error body, the rate limit and its
lock-out, masks, the edit modes' rules, and the emulator on its own.

Servers: the real gateway and the Stability emulator on loopback (`tests/contract/harness.py`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.stability import StabilityEmulator
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.providers import support
from tests.providers.support import decoded, fetched, provider_fixtures

STABILITY_TEST_KEY = "sk-stability-test-canary-8e2d4c6a"


emu, gw, _reset, sdk = provider_fixtures(
    "stability", lambda: StabilityEmulator(api_key=STABILITY_TEST_KEY, strict=True)
)


def sent(emu: StabilityEmulator) -> list[dict[str, Any]]:
    return [record["fields"] for record in emu.requests()]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    return support.generate(gw, "stability/stable-image-core", **body)


def edit(gw: RunningGateway, files: dict[str, Any], **data: Any) -> httpx.Response:
    data.setdefault("prompt", "a lighthouse")
    with gw.client() as http:
        return http.post("/v1/images/edits", data=data, files=files)


def rgba_png(size: tuple[int, int], transparent_box: tuple[int, int, int, int] | None) -> bytes:
    img = Image.new("RGBA", size, (10, 20, 30, 255))
    if transparent_box is not None:
        img.paste((0, 0, 0, 0), transparent_box)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_with_stabilitys_own_fields(
    sdk: openai.OpenAI, emu: StabilityEmulator
) -> None:
    result = sdk.images.generate(
        model="stability/stable-image-ultra",
        prompt="a fox",
        n=2,
        size="1536x1024",
        response_format="b64_json",
        extra_body={
            "seed": 77,
            "negative_prompt": "fog",
            "output_format": "webp",
            "provider_params": {"style_preset": "anime"},
        },
    )
    assert len(result.data) == 2
    image = decoded(result.data[0].b64_json)
    assert image.format == "WEBP"
    assert abs(image.size[0] / image.size[1] - 1.5) < 0.05
    assert result.model_extra is not None
    assert result.model_extra["cost"] == {"usd": 0.16, "basis": "price_table"}  # 2 x 8 credits
    # The fan-out's two calls run at once: either may reach the emulator first.
    first, second = sorted(sent(emu), key=lambda form: form["seed"] != "77")
    assert first == {
        "prompt": "a fox",
        "aspect_ratio": "3:2",
        "negative_prompt": "fog",
        "seed": "77",
        "output_format": "webp",
        "style_preset": "anime",
    }
    assert second["seed"] != "77"  # the fan-out gives each image its own seed
    stats = emu.stats()
    assert stats["submissions"] == 2 and stats["credits_spent"] == 16


def test_sd35_models_are_the_sd3_endpoints_model_field(
    sdk: openai.OpenAI, emu: StabilityEmulator
) -> None:
    result = sdk.images.generate(
        model="stability/sd3.5-flash",
        prompt="a fox",
        response_format="b64_json",
        extra_body={"aspect_ratio": "9:16", "provider_params": {"cfg_scale": 1}},
    )
    image = decoded(result.data[0].b64_json)
    assert image.size[0] < image.size[1]
    [fields] = sent(emu)
    assert fields["model"] == "sd3.5-flash" and fields["aspect_ratio"] == "9:16"
    assert fields["cfg_scale"] == "1" and "mode" not in fields
    assert emu.requests()[0]["path"] == "/v2beta/stable-image/generate/sd3"


def test_sdk_image_to_image_needs_strength(sdk: openai.OpenAI, emu: StabilityEmulator) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.edit(
            model="stability/sd3.5-large", prompt="a fox", image=("in.png", png((96, 64)))
        )
    assert refused.value.body["param"] == "provider_params.strength"  # type: ignore[index]
    assert emu.stats()["requests"]["generate"] == 0
    result = sdk.images.edit(
        model="stability/sd3.5-large",
        prompt="a fox",
        image=("in.png", png((96, 64)), "image/png"),
        response_format="b64_json",
        extra_body={"provider_params": '{"strength": 0.6}'},
    )
    assert decoded(result.data[0].b64_json).size == (96, 64)
    [fields] = sent(emu)
    assert fields["mode"] == "image-to-image" and fields["strength"] == "0.6"
    assert "aspect_ratio" not in fields and fields["image"]["content_type"] == "image/png"


def test_sdk_gets_urls_of_the_stored_images(
    sdk: openai.OpenAI, gw: RunningGateway, emu: StabilityEmulator
) -> None:
    """`response_format: "url"`: Stability answers bytes; the gateway stores them and its
    URLs serve them, with the type the bytes have."""
    result = sdk.images.generate(
        model="stability/stable-image-core",
        prompt="a fox",
        size="1024x1024",
        response_format="url",
        extra_body={"output_format": "jpeg"},
    )
    assert result.data[0].b64_json is None
    assert result.data[0].url and result.data[0].url.startswith(gw.url)
    image = fetched(result.data[0].url)
    assert image.format == "JPEG" and image.size == (1280, 1280)  # Core's 1.5 MP at 1:1
    edit = sdk.images.edit(
        model="stability/stable-image-erase",
        prompt="the lamp post",
        image=("in.png", png((128, 96)), "image/png"),
        response_format="url",
    )
    image = fetched(edit.data[0].url)
    assert image.format == "PNG" and image.size == (128, 96)
    assert emu.stats()["submissions"] == 2


def test_sdk_inpaints_with_an_openai_mask_made_stabilitys(
    sdk: openai.OpenAI, emu: StabilityEmulator
) -> None:
    mask = rgba_png((128, 128), (0, 0, 64, 64))
    result = sdk.images.edit(
        model="stability/stable-image-inpaint",
        prompt="a cat",
        image=("in.png", png((128, 128)), "image/png"),
        mask=("mask.png", mask, "image/png"),
        response_format="b64_json",
    )
    assert decoded(result.data[0].b64_json).size == (128, 128)
    [record] = emu.requests()
    assert record["path"] == "/v2beta/stable-image/edit/inpaint"
    assert record["fields"]["mask"]["content_type"] == "image/png"
    assert record["fields"]["prompt"] == "a cat"


def test_the_mask_is_white_where_openais_was_transparent(gw: RunningGateway) -> None:
    from image_gateway.providers.kit.masks import WHITE, black_and_white_mask

    converted = black_and_white_mask(rgba_png((8, 8), (0, 0, 4, 4)), edited=WHITE)
    with Image.open(io.BytesIO(converted)) as img:
        assert img.getpixel((0, 0)) == 255 and img.getpixel((7, 7)) == 0


@pytest.mark.parametrize(
    ("model", "params", "path", "size", "prompt_sent"),
    [
        ("stable-image-erase", {}, "erase", (128, 128), False),
        ("stable-image-outpaint", {"left": 64, "up": 32}, "outpaint", (192, 160), True),
        (
            "stable-image-search-and-replace",
            {"search_prompt": "dog"},
            "search-and-replace",
            (128, 128),
            True,
        ),
    ],
)
def test_each_edit_mode_is_its_endpoint(
    gw: RunningGateway,
    emu: StabilityEmulator,
    model: str,
    params: dict[str, Any],
    path: str,
    size: tuple[int, int],
    prompt_sent: bool,
) -> None:
    import json

    resp = edit(
        gw,
        {"image": ("in.png", png((128, 128)), "image/png")},
        model=f"stability/{model}",
        provider_params=json.dumps(params),
    )
    assert resp.status_code == 200, resp.text
    assert decoded(resp.json()["data"][0]["b64_json"]).size == size
    [record] = emu.requests()
    assert record["path"] == f"/v2beta/stable-image/edit/{path}"
    assert ("prompt" in record["fields"]) is prompt_sent
    for name, value in params.items():
        assert record["fields"][name] == str(value)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"size": "1024x1000"}, "size"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"size": "1536x1024", "aspect_ratio": "16:9"}, "aspect_ratio"),
        ({"seed": 4294967295}, "seed"),
        ({"provider_params": {"style_preset": "watercolour"}}, "provider_params.style_preset"),
        ({"provider_params": {"strength": 0.5}}, "provider_params.strength"),
        ({"model": "stability/sd3.5-large", "provider_params": {"cfg_scale": 11}},
         "provider_params.cfg_scale"),
        ({"output_format": "gif"}, "output_format"),
        ({"provider_params": {"steps": 3}}, "provider_params.steps"),
    ],
)  # fmt: skip
def test_what_stability_would_refuse_is_refused_before_anything_is_sent(
    gw: RunningGateway, emu: StabilityEmulator, body: dict[str, Any], param: str
) -> None:
    resp = generate(gw, **body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert emu.stats()["requests"]["generate"] == 0


@pytest.mark.parametrize(
    ("model", "params", "param"),
    [
        ("stable-image-outpaint", {}, "provider_params.left"),
        ("stable-image-search-and-replace", {}, "provider_params.search_prompt"),
        ("stable-image-outpaint", {"left": -1}, "provider_params.left"),
    ],
)
def test_edit_modes_without_what_they_need_are_refused(
    gw: RunningGateway, emu: StabilityEmulator, model: str, params: dict[str, Any], param: str
) -> None:
    import json

    resp = edit(
        gw,
        {"image": ("in.png", png((128, 128)), "image/png")},
        model=f"stability/{model}",
        provider_params=json.dumps(params),
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert emu.stats()["requests"]["edit"] == 0


def test_a_mask_for_a_mode_without_one_is_refused(gw: RunningGateway) -> None:
    resp = edit(
        gw,
        {
            "image": ("in.png", png((128, 128)), "image/png"),
            "mask": ("m.png", rgba_png((128, 128), (0, 0, 8, 8)), "image/png"),
        },
        model="stability/stable-image-search-and-replace",
        provider_params='{"search_prompt": "dog"}',
    )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "mask"


# --- answers in both forms, and refusals ----------------------------------------------------------


def test_image_bytes_answers_are_read_with_their_seed_header(
    emu: StabilityEmulator, tmp_path: Path
) -> None:
    settings = {**provider_settings(CONTRACTS["stability"], emu), "stability_accept": "image/*"}
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway, seed=1234, output_format="jpeg")
    assert resp.status_code == 200, resp.text
    item = resp.json()["data"][0]
    assert decoded(item["b64_json"]).format == "JPEG" and item["seed"] == 1234


def test_an_image_answer_to_a_json_request_is_read_too(
    gw: RunningGateway, emu: StabilityEmulator
) -> None:
    emu.add_faults([{"match": "submit", "as_image": True}])
    resp = generate(gw, seed=99)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"][0]["seed"] == 99


@pytest.mark.parametrize("accept", ["application/json", "image/*"])
def test_content_filtered_on_a_200_is_a_content_policy_violation(
    emu: StabilityEmulator, tmp_path: Path, accept: str
) -> None:
    settings = {**provider_settings(CONTRACTS["stability"], emu), "stability_accept": accept}
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway, prompt="a [filtered] scene")
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == ("content_policy_violation", "stability")
    assert "CONTENT_FILTERED" in error["message"] and "charged" in error["message"]
    assert emu.stats()["submissions"] == 1 and emu.stats()["filtered"] == 1


def _fault(status: int, body: Any, times: int = 1, **extra: Any) -> dict[str, Any]:
    return {"match": "submit", "status": status, "body": body, "times": times, **extra}


def _stab(name: str, *errors: str) -> dict[str, Any]:
    return {"id": "0123456789abcdef0123456789abcdef", "name": name, "errors": list(errors)}


@pytest.mark.parametrize(
    ("fault", "status", "code", "param", "submits"),
    [
        (_fault(400, _stab("bad_request", "style_preset: must be one of enhance, anime")),
         400, "bad_request", "provider_params.style_preset", 1),
        (_fault(400, _stab("bad_request", "aspect_ratio: is invalid")),
         400, "bad_request", "aspect_ratio", 1),
        (_fault(422, _stab("invalid_language",
                           "English is the only supported language for this service.")),
         400, "invalid_language", None, 1),
        (_fault(422, _stab("public_figure", "Our system detected the likeness of a public figure")),
         400, "content_policy_violation", None, 1),
        (_fault(403, _stab("content_moderation", "Your request was flagged")),
         400, "content_policy_violation", None, 1),
        (_fault(401, {"id": "x", "name": "unauthorized", "message": "missing header"}),
         502, "provider_auth_failed", None, 1),
        (_fault(402, _stab("payment_required", "You lack sufficient credits")),
         402, "provider_quota_exhausted", None, 1),
        (_fault(413, _stab("payload_too_large", "body: payloads cannot be larger than 10MiB")),
         413, "payload_too_large", "image", 1),
        (_fault(500, _stab("internal_error", "An unexpected server error has occurred"), times=2),
         502, "upstream_error", None, 2),
    ],
)  # fmt: skip
def test_stabilitys_error_bodies_end_as_the_right_error(
    gw: RunningGateway,
    emu: StabilityEmulator,
    fault: dict[str, Any],
    status: int,
    code: str,
    param: str | None,
    submits: int,
) -> None:
    emu.add_faults([fault])
    resp = generate(gw)
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert code in (error["code"], error["type"]), error
    assert error.get("param") == param
    assert emu.stats()["requests"]["generate"] == submits
    if fault["status"] in (400, 422) and code != "content_policy_violation":
        assert fault["body"]["errors"][0] in error["message"]


def test_the_429_asks_for_the_60_second_lock_out(
    gw: RunningGateway, emu: StabilityEmulator
) -> None:
    body = {"id": "rate_limit_exceeded", "name": "rate_limit_exceeded",
            "errors": ["You have exceeded the rate limit of 150 requests within a 10 second "
                       "period, and have been timed out for 60 seconds."]}  # fmt: skip
    emu.add_faults([_fault(429, body)])
    resp = generate(gw)
    assert resp.status_code == 429, resp.text
    assert resp.headers["retry-after"] == "60"
    assert resp.json()["error"]["code"] == "provider_rate_limited"
    assert emu.stats()["requests"]["generate"] == 1


def test_the_emulators_own_lock_out_reaches_the_client_as_a_60_second_hint(
    tmp_path: Path,
) -> None:
    with StabilityEmulator(api_key=STABILITY_TEST_KEY, rate_limit=1) as emulator:
        settings = provider_settings(CONTRACTS["stability"], emulator)
        with serve_gateway(tmp_path, **settings) as gateway:
            assert generate(gateway).status_code == 200
            resp = generate(gateway)
        assert resp.status_code == 429, resp.text
        assert resp.headers["retry-after"] == "60"  # no Retry-After from Stability: its text
        assert emulator.stats()["rate_limited"] == 1


def test_a_wrong_key_is_provider_auth_failed_and_never_shown(
    emu: StabilityEmulator, tmp_path: Path
) -> None:
    settings = {
        **provider_settings(CONTRACTS["stability"], emu),
        "stability_api_key": "sk-wrong-stability-key-77",
    }
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "STABILITY_API_KEY" in error["message"]
    assert "wrong-stability" not in resp.text
    assert emu.stats()["auth_failures"] == 1


def test_the_catalogue_lists_the_models_and_their_params(gw: RunningGateway) -> None:
    with gw.client() as http:
        providers = http.get("/v1/providers").json()["data"]
    [stability] = [p for p in providers if p["id"] == "stability"]
    cards = {card["id"]: card for card in stability["models"]}
    assert set(cards) == {
        *("stable-image-ultra", "stable-image-core", "sd3.5-large", "sd3.5-large-turbo"),
        *("sd3.5-medium", "sd3.5-flash", "stable-image-inpaint", "stable-image-erase"),
        *("stable-image-outpaint", "stable-image-search-and-replace"),
    }
    assert cards["stable-image-erase"]["requires_input_image"] is True
    # A mask is read by inpaint and erase only (STAB-OAS); the others would send it unread.
    assert {card for card in cards if cards[card]["mask"]} == {
        "stable-image-inpaint",
        "stable-image-erase",
    }
    schema = cards["stable-image-core"]["provider_params_schema"]["style_preset"]
    assert "anime" in schema["enum"]


# --- the emulator on its own -------------------------------------------------------------------


@pytest.fixture
def lenient() -> Iterator[StabilityEmulator]:
    with StabilityEmulator(rate_limit=3, lockout=30) as emulator:
        yield emulator


def call(
    emulator: StabilityEmulator, service: str, fields: dict[str, str], **kwargs: Any
) -> httpx.Response:
    headers = {"authorization": f"Bearer {emulator.api_key}", "accept": "application/json"}
    headers.update(kwargs.pop("headers", {}))
    files = kwargs.pop("files", {"none": ("", b"")})
    return httpx.post(
        f"{emulator.base_url}/v2beta/stable-image/{service}",
        data=fields,
        files=files,
        headers=headers,
        timeout=10,
    )


def test_the_emulator_wants_multipart_and_names_bad_fields(lenient: StabilityEmulator) -> None:
    url = f"{lenient.base_url}/v2beta/stable-image/generate/core"
    as_json = httpx.post(
        url, json={"prompt": "x"}, headers={"authorization": "Bearer " + lenient.api_key}
    )
    assert as_json.status_code == 400
    assert as_json.json()["errors"] == ["content-type: must be multipart/form-data"]
    bad = call(lenient, "generate/core", {"prompt": "x", "aspect_ratio": "4:3"})
    assert bad.status_code == 400 and bad.json()["errors"][0].startswith("aspect_ratio:")
    missing = call(
        lenient, "generate/ultra", {"prompt": "x"}, files={"image": ("a.png", png((64, 64)))}
    )
    assert missing.json()["errors"] == ["strength: is required when image is provided"]


def test_the_emulator_answers_either_accept(lenient: StabilityEmulator) -> None:
    as_json = call(lenient, "generate/sd3", {"prompt": "x", "model": "sd3-large", "seed": "5"})
    assert as_json.headers["content-type"] == "application/json; type=image/png"
    assert as_json.json()["finish_reason"] == "SUCCESS" and as_json.json()["seed"] == 5
    assert lenient.stats()["silent_reroutes"] == 1
    raw = call(lenient, "generate/core", {"prompt": "x", "output_format": "webp"},
               headers={"accept": "image/*"})  # fmt: skip
    assert raw.headers["content-type"] == "image/webp" and raw.headers["finish-reason"] == "SUCCESS"
    assert Image.open(io.BytesIO(raw.content)).format == "WEBP"


def test_the_emulators_rate_limit_locks_out(lenient: StabilityEmulator) -> None:
    for _ in range(3):
        assert call(lenient, "generate/core", {"prompt": "x"}).status_code == 200
    over = call(lenient, "generate/core", {"prompt": "x"})
    assert over.status_code == 429 and over.json()["name"] == "rate_limit_exceeded"
    assert "timed out for 60 seconds" in over.json()["errors"][0]
    lenient.app.rate.clear()  # the window is over, the lock-out is not
    assert call(lenient, "generate/core", {"prompt": "x"}).status_code == 429
    assert lenient.stats()["submissions"] == 3


def test_the_emulators_keys_and_moderation(lenient: StabilityEmulator) -> None:
    wrong = call(lenient, "generate/core", {"prompt": "x"}, headers={"authorization": "Bearer no"})
    assert wrong.status_code == 401 and wrong.json()["name"] == "unauthorized"
    assert "no" not in wrong.json()["errors"][0].split()
    moderated = call(lenient, "generate/core", {"prompt": "a [moderate] x"})
    assert moderated.status_code == 403 and moderated.json()["name"] == "content_moderation"
    erased = call(lenient, "edit/erase", {}, files={"image": ("a.png", png((64, 64)))},
                  headers={})  # fmt: skip
    assert erased.status_code == 200
    assert lenient.stats()["credits_spent"] == 5  # erase; the 403 is free
