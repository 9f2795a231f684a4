"""The Bedrock adapter end to end beyond the contract suite: the gateway and the Bedrock
emulator on loopback, driven with the official `openai` SDK and plain HTTP.

What only Bedrock has: `provider/model` ids with `.` and `:`, SigV4 (and API keys) checked by
the emulator with botocore, the Amazon envelope's edits (variation, inpainting with a mask in
Nova's convention or a mask prompt), Stability's HTTP-200 filter reasons, each of Bedrock's
exceptions, and the model rules enforced before anything is sent.
"""

from __future__ import annotations

import base64
import io
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from PIL import Image

from emulators.bedrock import ACCESS_KEY_ID, BedrockEmulator
from image_gateway.errors import UNKNOWN_OUTCOME
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway

SECRET = "bedrock-test-canary-secret-3e9a7c1f5d"
NOVA = "amazon.nova-canvas-v1:0"
TITAN = "amazon.titan-image-generator-v2:0"
ULTRA = "stability.stable-image-ultra-v1:0"
SD35 = "stability.sd3-5-large-v1:0"


@pytest.fixture(scope="module")
def bedrock_emulator() -> Iterator[BedrockEmulator]:
    with BedrockEmulator(api_key=SECRET, strict=True) as emulator:
        yield emulator


@pytest.fixture
def emu(bedrock_emulator: BedrockEmulator) -> BedrockEmulator:
    bedrock_emulator.reset()
    return bedrock_emulator


def sigv4(emu: BedrockEmulator, **overrides: Any) -> dict[str, Any]:
    settings = {
        "bedrock_base_url": emu.base_url,
        "bedrock_region": "us-east-1",
        "bedrock_access_key_id": ACCESS_KEY_ID,
        "bedrock_secret_access_key": SECRET,
    }
    return {**settings, **overrides}


@pytest.fixture
def gw(start_gateway: Callable[..., RunningGateway], emu: BedrockEmulator) -> RunningGateway:
    return start_gateway(**sigv4(emu))


@pytest.fixture
def sdk(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)


def png(size: tuple[int, int], mode: str = "RGB", colour: Any = (20, 40, 60)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def decoded(b64: str | None) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64 or "")))


def sent(emu: BedrockEmulator) -> list[dict[str, Any]]:
    return [record["fields"] for record in emu.requests()]


def post(gw: RunningGateway, body: dict[str, Any]) -> Any:
    with gw.client() as http:
        return http.post("/v1/images/generations", json=body)


# --- the official SDK ---------------------------------------------------------------------------


def test_the_sdk_generates_with_a_model_id_holding_dots_and_a_colon(
    sdk: openai.OpenAI, emu: BedrockEmulator
) -> None:
    result = sdk.images.generate(
        model=f"bedrock/{NOVA}", prompt="a lighthouse", size="1280x720", n=7, quality="premium"
    )
    assert len(result.data) == 7
    assert decoded(result.data[0].b64_json).size == (1280, 720)
    # numberOfImages is 1-5: seven images are two calls, of five and two.
    counts = sorted(f["imageGenerationConfig"]["numberOfImages"] for f in sent(emu))
    assert counts == [2, 5]
    assert emu.stats()["submissions"] == 2 and emu.stats()["auth_failures"] == 0


def test_the_sdk_generates_with_stability_on_bedrock(
    sdk: openai.OpenAI, emu: BedrockEmulator
) -> None:
    result = sdk.images.generate(
        model=f"bedrock/{ULTRA}", prompt="a fox", size="1024x1536", output_format="jpeg"
    )
    image = decoded(result.data[0].b64_json)
    assert image.format == "JPEG" and image.width < image.height
    (fields,) = sent(emu)
    assert fields == {"prompt": "a fox", "aspect_ratio": "2:3", "output_format": "jpeg"}


def test_the_sdk_edits_with_an_openai_mask_that_becomes_novas(
    sdk: openai.OpenAI, emu: BedrockEmulator
) -> None:
    image = png((512, 384))
    mask = Image.new("RGBA", (512, 384), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 256, 384))  # OpenAI: the transparent left half is edited
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    result = sdk.images.edit(
        model=f"bedrock/{NOVA}", image=("in.png", image), mask=("m.png", buf.getvalue()),
        prompt="a boat", n=2,
    )  # fmt: skip
    assert len(result.data) == 2
    assert decoded(result.data[0].b64_json).size == (512, 384)  # inpainting keeps the size
    (fields,) = sent(emu)
    assert fields["taskType"] == "INPAINTING" and "maskPrompt" not in fields["inPaintingParams"]
    # Nova's mask is black where OpenAI's was transparent, white elsewhere (the emulator keeps
    # the last body whole; its records keep large strings as their hash).
    assert emu.app.last_body is not None
    got = decoded(emu.app.last_body["inPaintingParams"]["maskImage"]).convert("RGB")
    assert got.getcolors() is not None and len(got.getcolors() or []) == 2
    assert got.getpixel((10, 10)) == (0, 0, 0) and got.getpixel((400, 10)) == (255, 255, 255)


def test_an_edit_without_a_mask_is_an_image_variation(
    sdk: openai.OpenAI, emu: BedrockEmulator
) -> None:
    result = sdk.images.edit(
        model=f"bedrock/{NOVA}",
        image=[("a.png", png((400, 400))), ("b.png", png((400, 400), colour=(9, 9, 9)))],
        prompt="in this style",
        size="512x512",
    )
    assert decoded(result.data[0].b64_json).size == (512, 512)
    (fields,) = sent(emu)
    assert fields["taskType"] == "IMAGE_VARIATION"
    assert len(fields["imageVariationParams"]["images"]) == 2


def test_a_stability_edit_is_image_to_image_with_its_strength(
    gw: RunningGateway, emu: BedrockEmulator
) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"model": f"bedrock/{ULTRA}", "prompt": "p",
                  "provider_params": '{"strength": 0.35}'},
            files={"image": ("in.png", png((128, 96)), "image/png")},
        )  # fmt: skip
    assert resp.status_code == 200, resp.text
    (fields,) = sent(emu)
    assert (fields["mode"], fields["strength"]) == ("image-to-image", 0.35)
    assert decoded(resp.json()["data"][0]["b64_json"]).size == (128, 96)


# --- refusals on HTTP 200 and Bedrock's exceptions ----------------------------------------------


@pytest.mark.parametrize(
    ("marker", "reason"),
    [("[moderate]", "Filter reason: prompt"), ("[moderate-output]", "output image")],
)
def test_a_stability_filter_reason_on_http_200_is_a_content_policy_violation(
    gw: RunningGateway, emu: BedrockEmulator, marker: str, reason: str
) -> None:
    resp = post(gw, {"model": f"bedrock/{ULTRA}", "prompt": f"a fox {marker}"})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "content_policy_violation" and reason in error["message"]
    assert emu.stats()["submissions"] == 1  # answered 200: never sent again


def test_a_stability_edit_filtered_on_its_input_is_refused_too(
    gw: RunningGateway, emu: BedrockEmulator
) -> None:
    emu.add_faults([{"match": "invoke", "marker": "[moderate]"}])
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"model": f"bedrock/{ULTRA}", "prompt": "p",
                  "provider_params": '{"strength": 0.5}'},
            files={"image": ("in.png", png((64, 64)), "image/png")},
        )  # fmt: skip
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "content_policy_violation"


def test_a_stability_inference_error_on_http_200_may_have_been_billed(
    gw: RunningGateway, emu: BedrockEmulator
) -> None:
    resp = post(gw, {"model": f"bedrock/{ULTRA}", "prompt": "p [inference-error]"})
    assert resp.status_code == 502, resp.text
    assert UNKNOWN_OUTCOME in resp.json()["error"]["message"]
    assert resp.headers["x-should-retry"] == "false"


@pytest.mark.parametrize(
    ("marker", "status", "code", "said"),
    [
        ("[moderate]", 400, "content_policy_violation", "content filters"),
        ("[moderate-output]", 400, "content_policy_violation", "generated image"),
        ("[quota]", 402, "provider_quota_exhausted", "service quota"),
        ("[access-denied]", 502, "provider_auth_failed", "may not be enabled"),
        ("[model-timeout]", 504, "upstream_timeout", "did not finish"),
        ("[model-error]", 502, "upstream_error", "its status 500"),
        ("[not-ready]", 502, "model_not_ready", "not ready"),
    ],
)
def test_each_bedrock_exception_ends_as_its_error(
    gw: RunningGateway, emu: BedrockEmulator, marker: str, status: int, code: str, said: str
) -> None:
    resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": f"a fox {marker}"})
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == (code, "bedrock")
    assert said in error["message"]
    assert UNKNOWN_OUTCOME not in error["message"]  # an error answer: nothing was made
    assert emu.stats()["submissions"] == 0


@pytest.mark.parametrize(
    ("marker", "tries"),
    [("[model-error]", 2), ("[not-ready]", 2), ("[model-timeout]", 1), ("[access-denied]", 1)],
)
def test_which_exceptions_are_retried(
    start_gateway: Callable[..., RunningGateway], emu: BedrockEmulator, marker: str, tries: int
) -> None:
    """ModelError (its model's 500) and ModelNotReady are tried again; a model timeout or
    a refused identity is not."""
    gw = start_gateway(**sigv4(emu), retry_max_attempts=2, retry_base_seconds=0.01)
    post(gw, {"model": f"bedrock/{NOVA}", "prompt": f"a fox {marker}"})
    assert emu.stats()["requests"]["invoke"] == tries


def test_a_validation_exception_is_a_400_with_bedrocks_message(
    gw: RunningGateway, emu: BedrockEmulator
) -> None:
    # Titan's prompt limit (512 [3P]) is Bedrock's to enforce: the gateway passes it on.
    resp = post(gw, {"model": f"bedrock/{TITAN}", "prompt": "x" * 600})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "invalid_value" and "1-512 characters" in error["message"]
    assert "ValidationException" in error["message"]  # AWS's name, in the message only


def test_a_titan_seed_bedrock_refuses_is_invalid_value(
    gw: RunningGateway, emu: BedrockEmulator
) -> None:
    # Titan's seed range (0-2,147,483,646) is [3P] only: Bedrock judges it, its
    # ValidationException answered with our code.
    resp = post(gw, {"model": f"bedrock/{TITAN}", "prompt": "a fox", "seed": 4_000_000_000})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == ("invalid_value", "bedrock")
    assert "ValidationException" in error["message"] and "seed" in error["message"]
    assert emu.stats()["submissions"] == 0


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"status": 429, "body": {"message": "slow down"}}, 429, "provider_rate_limited"),
        ({"status": 403, "body": {"Message": "no"}}, 502, "provider_auth_failed"),
        ({"status": 404}, 404, "model_not_found"),
        ({"status": 503}, 502, "upstream_error"),
    ],
)
def test_an_answer_without_its_error_type_header_is_read_by_its_status(
    gw: RunningGateway, emu: BedrockEmulator, fault: dict[str, Any], status: int, code: str
) -> None:
    emu.add_faults([{**fault, "match": "invoke"}])
    resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox"})
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("status", "code", "name"),
    [
        (400, "invalid_value", "ValidationException"),
        (404, "model_not_found", "ResourceNotFoundException"),
    ],
)
def test_bedrocks_exception_names_are_not_our_codes(
    gw: RunningGateway, emu: BedrockEmulator, status: int, code: str, name: str
) -> None:
    """The emulator's faults carry `x-amzn-ErrorType`; the code is ours (as every other
    provider's), AWS's name stays in the message."""
    emu.add_faults([{"match": "invoke", "status": status}])
    resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox"})
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == code and name in error["message"]


def test_a_401_is_named_by_its_status(gw: RunningGateway, emu: BedrockEmulator) -> None:
    emu.add_faults([{"match": "invoke", "status": 401}])
    resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox"})
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "HTTP 401" in error["message"]
    assert "ValidationException" not in error["message"]


# --- credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"bedrock_secret_access_key": "not-the-secret"}, "InvalidSignatureException"),
        ({"bedrock_region": "eu-west-1"}, "InvalidSignatureException"),
        ({"bedrock_access_key_id": "AKIAOTHERKEYEXAMPLE0"}, "UnrecognizedClientException"),
    ],
)
def test_a_signature_bedrock_refuses_is_the_gateways_configuration_error(
    start_gateway: Callable[..., RunningGateway],
    emu: BedrockEmulator,
    overrides: dict[str, Any],
    said: str,
) -> None:
    gw = start_gateway(**sigv4(emu, **overrides))
    resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox"})
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and said in error["message"]
    assert emu.stats()["auth_failures"] == 1 and emu.stats()["submissions"] == 0


def test_a_stale_signature_is_refused(
    start_gateway: Callable[..., RunningGateway], emu: BedrockEmulator
) -> None:
    """The emulator's clock ten minutes ahead: the gateway's X-Amz-Date is stale."""
    import time

    with BedrockEmulator(api_key=SECRET, clock=lambda: time.time() + 600) as ahead:
        gw = start_gateway(**sigv4(ahead))
        resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox"})
    assert resp.status_code == 502
    assert "Signature expired" in resp.json()["error"]["message"]


def test_a_bedrock_api_key_is_sent_as_a_bearer_token(
    start_gateway: Callable[..., RunningGateway], emu: BedrockEmulator
) -> None:
    gw = start_gateway(bedrock_base_url=emu.base_url, bedrock_api_key=SECRET)
    resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox"})
    assert resp.status_code == 200, resp.text
    assert emu.stats()["auth_failures"] == 0


def test_a_session_token_is_signed_and_sent(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    with BedrockEmulator(api_key=SECRET, session_token="FwoGZXIvYXdzEXAMPLE") as emu:
        gw = start_gateway(**sigv4(emu, bedrock_session_token="FwoGZXIvYXdzEXAMPLE"))
        assert post(gw, {"model": f"bedrock/{NOVA}", "prompt": "p"}).status_code == 200
        gw = start_gateway(**sigv4(emu))
        assert post(gw, {"model": f"bedrock/{NOVA}", "prompt": "p"}).status_code == 502


def test_without_credentials_bedrock_is_listed_and_names_what_to_set(
    start_gateway: Callable[..., RunningGateway], emu: BedrockEmulator
) -> None:
    for settings, missing in (
        ({}, "BEDROCK_API_KEY"),
        (sigv4(emu, bedrock_region=None), "BEDROCK_REGION"),
        (sigv4(emu, bedrock_secret_access_key=None), "BEDROCK_SECRET_ACCESS_KEY"),
    ):
        gw = start_gateway(**settings)
        resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox"})
        assert resp.status_code == 503, resp.text
        error = resp.json()["error"]
        assert error["code"] == "provider_not_configured" and missing in error["message"]
        with gw.client() as http:
            listed = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
        assert listed["bedrock"]["configured"] is False
    assert emu.stats()["requests"]["invoke"] == 0


# --- checked before anything is sent ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": f"bedrock/{NOVA}", "size": "1000x600"}, "size"),
        ({"model": f"bedrock/{NOVA}", "size": "4112x1024"}, "size"),
        ({"model": f"bedrock/{NOVA}", "size": "4096x4096"}, "size"),
        ({"model": f"bedrock/{NOVA}", "size": "4096x320"}, "size"),
        ({"model": f"bedrock/{NOVA}", "aspect_ratio": "100:1"}, "aspect_ratio"),
        ({"model": f"bedrock/{NOVA}", "seed": 858_993_460}, "seed"),
        ({"model": f"bedrock/{NOVA}", "prompt": "x" * 1025}, "prompt"),
        ({"model": f"bedrock/{NOVA}", "output_format": "webp"}, "output_format"),
        ({"model": f"bedrock/{NOVA}", "quality": "hd"}, "quality"),
        ({"model": f"bedrock/{NOVA}", "provider_params": {"cfg_scale": 12}},
         "provider_params.cfg_scale"),
        ({"model": f"bedrock/{NOVA}", "provider_params": {"mask_prompt": "sky"}},
         "provider_params.mask_prompt"),
        ({"model": "bedrock/amazon.titan-image-generator-v2:0", "style": "PHOTOREALISM"},
         "style"),
        ({"model": f"bedrock/{ULTRA}", "size": "1000x600"}, "size"),
        ({"model": f"bedrock/{ULTRA}", "aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"model": f"bedrock/{ULTRA}", "seed": 4_294_967_295}, "seed"),
        ({"model": f"bedrock/{ULTRA}", "quality": "premium"}, "quality"),
    ],
)  # fmt: skip
def test_a_value_the_model_cannot_take_is_refused_before_anything_is_sent(
    gw: RunningGateway, emu: BedrockEmulator, body: dict[str, Any], param: str
) -> None:
    resp = post(gw, {"prompt": "a fox", **body})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert emu.stats()["requests"]["invoke"] == 0


@pytest.mark.parametrize(
    ("model", "fields", "files", "param"),
    [
        (NOVA, {}, {"image": ("in.png", png((64, 64), "RGBA", (0, 0, 0, 0)))}, "image"),
        (NOVA, {"provider_params": '{"mask_prompt": "sky"}'},
         {"mask": ("m.png", png((64, 64), "RGBA", (0, 0, 0, 0)))}, "provider_params.mask_prompt"),
        (NOVA, {}, {"mask": ("m.png", png((32, 32), "RGBA", (0, 0, 0, 0)))}, "mask"),
        (NOVA, {"size": "512x512"}, {"mask": ("m.png", png((64, 64), "RGBA", (0, 0, 0, 0)))},
         "size"),
        (ULTRA, {}, {}, "provider_params.strength"),
        (ULTRA, {"provider_params": '{"strength": 0.5}'},
         {"mask": ("m.png", png((64, 64), "RGBA", (0, 0, 0, 0)))}, "mask"),
        ("stability.stable-image-core-v1:1", {}, {}, "model"),
        (SD35, {"provider_params": '{"strength": 0.5}'},
         {"image": ("in.png", png((63, 128)))}, "image"),
        (ULTRA, {"provider_params": '{"strength": 0.5}'},
         {"image": ("in.png", png((128, 32)))}, "image"),
        (NOVA, {"aspect_ratio": "16:9"}, {"mask": ("m.png", png((64, 64), "RGBA", (0, 0, 0, 0)))},
         "aspect_ratio"),
    ],
)  # fmt: skip
def test_an_edit_the_model_cannot_do_is_refused_before_anything_is_sent(
    gw: RunningGateway,
    emu: BedrockEmulator,
    model: str,
    fields: dict[str, str],
    files: dict[str, Any],
    param: str,
) -> None:
    files = {"image": ("in.png", png((64, 64))), **files}
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits", data={"model": f"bedrock/{model}", "prompt": "p", **fields},
            files=files,
        )  # fmt: skip
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert emu.stats()["requests"]["invoke"] == 0


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"size": "4096x4096"}, "16777216 pixels, at most 4194304"),
        ({"size": "4096x320"}, "between 1:4 and 4:1"),
        ({"aspect_ratio": "100:1"}, "aspect_ratio 100:1 is not supported"),
        ({"aspect_ratio": "1:5"}, "between 1:4 and 4:1"),
    ],
)
def test_novas_pixel_count_and_aspect_ratio_are_checked_before_sending(
    gw: RunningGateway, emu: BedrockEmulator, body: dict[str, Any], said: str
) -> None:
    """Bedrock's own rule ("the total pixel count must be no more than 4194304 and the aspect
    ratio between 1:4 and 4:1"); a ratio alone is named as sent, not as the size it makes."""
    resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox", **body})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert said in error["message"] and error["param"] == next(iter(body))
    assert "10000x" not in error["message"]
    assert emu.stats()["requests"]["invoke"] == 0


def test_nova_takes_its_widest_ratio_and_largest_size(
    sdk: openai.OpenAI, emu: BedrockEmulator
) -> None:
    result = sdk.images.generate(model=f"bedrock/{NOVA}", prompt="a fox", size="2048x2048")
    assert decoded(result.data[0].b64_json).size == (2048, 2048)
    with_ratio = sdk.images.generate(
        model=f"bedrock/{NOVA}", prompt="a fox", extra_body={"aspect_ratio": "4:1"}
    )
    width, height = decoded(with_ratio.data[0].b64_json).size
    assert width == 4 * height


@pytest.mark.parametrize("model", [NOVA, TITAN, ULTRA, SD35, "stability.stable-image-core-v1:1"])
def test_a_size_and_an_aspect_ratio_that_disagree_are_refused(
    sdk: openai.OpenAI, emu: BedrockEmulator, model: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.generate(
            model=f"bedrock/{model}", prompt="a fox", size="1024x1024",
            extra_body={"aspect_ratio": "16:9"},
        )  # fmt: skip
    error = caught.value.body
    assert isinstance(error, dict) and error["param"] == "aspect_ratio"
    assert "size 1024x1024 is 1:1, not aspect_ratio 16:9; send one of them" in error["message"]
    assert emu.stats()["requests"]["invoke"] == 0


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [(NOVA, "1280x720", {"width": 1280, "height": 720}), (ULTRA, "1536x1024", "3:2")],
)
def test_a_size_and_an_aspect_ratio_that_agree_are_taken(
    sdk: openai.OpenAI, emu: BedrockEmulator, model: str, size: str, expected: Any
) -> None:
    ratio = "16:9" if model == NOVA else "3:2"
    sdk.images.generate(
        model=f"bedrock/{model}", prompt="a fox", size=size,  # type: ignore[arg-type]
        extra_body={"aspect_ratio": ratio},
    )  # fmt: skip
    (fields,) = sent(emu)
    if model == NOVA:
        config = fields["imageGenerationConfig"]
        assert {"width": config["width"], "height": config["height"]} == expected
    else:
        assert fields["aspect_ratio"] == expected


# --- the AWS credential chain -------------------------------------------------------------------


@pytest.fixture
def aws_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An AWS environment of the test's own: no `AWS_*` from the machine, config and
    credentials files in `tmp_path`, no instance-metadata lookups."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def test_with_only_a_region_the_aws_credential_chain_signs(
    start_gateway: Callable[..., RunningGateway],
    emu: BedrockEmulator,
    aws_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    gw = start_gateway(bedrock_base_url=emu.base_url, bedrock_region="us-east-1")
    assert post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox"}).status_code == 200
    # The chain's secret is redacted like a configured one when Bedrock echoes it.
    emu.add_faults([{"match": "invoke", "status": 400, "body": {"message": f"bad {SECRET}"}}])
    resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox"})
    assert resp.status_code == 400 and SECRET not in resp.text


def test_a_chain_that_finds_nothing_is_not_configured(
    start_gateway: Callable[..., RunningGateway], emu: BedrockEmulator, aws_home: Path
) -> None:
    gw = start_gateway(bedrock_base_url=emu.base_url, bedrock_region="us-east-1")
    for _ in range(2):  # the second answer comes from what the first lookup found
        resp = post(gw, {"model": f"bedrock/{NOVA}", "prompt": "a fox"})
        assert resp.status_code == 503, resp.text
        error = resp.json()["error"]
        assert error["code"] == "provider_not_configured"
        assert "credential chain found no credentials" in error["message"]
    assert emu.stats()["requests"]["invoke"] == 0


CREDENTIAL_PROCESS = """
import datetime, json, pathlib, sys
calls = pathlib.Path(sys.argv[1])
calls.write_text(str(int(calls.read_text() or 0) + 1) if calls.exists() else "1")
expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
print(json.dumps({"Version": 1, "AccessKeyId": sys.argv[2], "SecretAccessKey": sys.argv[3],
                  "SessionToken": "session-from-the-process",
                  "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}))
"""


def test_a_profiles_temporary_credentials_are_refreshed_as_botocore_does(
    start_gateway: Callable[..., RunningGateway], aws_home: Path
) -> None:
    """A profile whose `credential_process` hands out credentials expiring in 5 minutes:
    botocore refreshes them (inside its 10-minute mandatory window) before each signature, and
    the profile's region is the one signed for."""
    script, calls = aws_home / "creds.py", aws_home / "calls"
    script.write_text(CREDENTIAL_PROCESS)
    process = f"{sys.executable} {script} {calls} {ACCESS_KEY_ID} {SECRET}"
    (aws_home / "config").write_text(
        f"[profile emu]\nregion = eu-central-1\ncredential_process = {process}\n"
    )
    with BedrockEmulator(
        api_key=SECRET, region="eu-central-1", session_token="session-from-the-process"
    ) as emulator:
        gw = start_gateway(bedrock_base_url=emulator.base_url, bedrock_profile="emu")
        assert post(gw, {"model": f"bedrock/{NOVA}", "prompt": "p"}).status_code == 200
        first = int(calls.read_text())
        assert post(gw, {"model": f"bedrock/{NOVA}", "prompt": "p"}).status_code == 200
        assert int(calls.read_text()) > first
        assert emulator.stats()["auth_failures"] == 0
