"""The Ideogram adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating and editing (a masked edit, a remix) through the gateway with
Ideogram's own fields, its HTTP-200 and 422 refusals, its error answers, its temporary result
URLs, its limit on requests in flight, and the gateway's 400s for what a model cannot honour.

Servers: the real gateway and the Ideogram emulator on loopback (`tests/contract/harness.py`).
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.ideogram import IdeogramEmulator
from image_gateway.errors import ContentPolicyViolation, UpstreamError
from image_gateway.providers.ideogram import translate
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.jobs.support import eventually
from tests.providers import support
from tests.providers.support import decoded, fetched, provider_fixtures

IDEOGRAM_TEST_KEY = "ideogram-test-canary-5d1c9a7e"


emu, gw, _reset, sdk = provider_fixtures(
    "ideogram", lambda: IdeogramEmulator(api_key=IDEOGRAM_TEST_KEY, strict=True)
)


def sent(emu: IdeogramEmulator) -> list[tuple[str, dict[str, Any]]]:
    return [(r["path"], r["fields"]) for r in emu.requests() if r["path"].startswith("/v1/")]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    return support.generate(gw, "ideogram/ideogram-3-turbo", **body)


def openai_mask(size: tuple[int, int]) -> bytes:
    """OpenAI's convention: the transparent left half is what is edited."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    return buf.getvalue()


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_several_images_in_one_call(
    sdk: openai.OpenAI, emu: IdeogramEmulator
) -> None:
    result = sdk.images.generate(
        model="ideogram/ideogram-3-quality",
        prompt="a poster that says HELLO",
        n=3,
        size="1536x640",  # type: ignore[arg-type]
        response_format="b64_json",
        extra_body={
            "seed": 99,
            "negative_prompt": "blur",
            "provider_params": {"magic_prompt": "OFF", "style_type": "DESIGN"},
        },
    )
    assert len(result.data) == 3
    assert {decoded(d.b64_json).size for d in result.data} == {(1536, 640)}
    assert result.model_extra is not None
    assert result.model_extra["cost"] == {"usd": pytest.approx(0.27), "basis": "price_table"}
    [(path, fields)] = sent(emu)
    assert path == "/v1/ideogram-v3/generate"
    assert fields == {
        "rendering_speed": "QUALITY",
        "prompt": "a poster that says HELLO",
        "num_images": "3",
        "seed": "99",
        "negative_prompt": "blur",
        "resolution": "1536x640",
        "magic_prompt": "OFF",
        "style_type": "DESIGN",
    }
    stats = emu.stats()
    assert stats["submissions"] == 1 and stats["results_served"] == 3
    assert stats["result_requests_with_key"] == 0


def test_n_beyond_eight_fans_out(sdk: openai.OpenAI, emu: IdeogramEmulator) -> None:
    result = sdk.images.generate(
        model="ideogram/ideogram-3-flash", prompt="dots", n=10, response_format="url"
    )
    assert len(result.data) == 10
    assert {fetched(d.url).size for d in result.data} == {(1024, 1024)}
    counts = sorted(int(fields["num_images"]) for _, fields in sent(emu))
    assert counts == [2, 8]


def test_ideogram_4_sends_text_prompt_and_a_2k_resolution(
    sdk: openai.OpenAI, emu: IdeogramEmulator
) -> None:
    result = sdk.images.generate(
        model="ideogram/ideogram-4-turbo",
        prompt="a sign",
        response_format="b64_json",
        extra_body={"aspect_ratio": "16:9", "seed": 5},
    )
    assert decoded(result.data[0].b64_json).size == (2560, 1440)
    [(path, fields)] = sent(emu)
    assert path == "/v1/ideogram-v4/generate"
    assert fields == {
        "rendering_speed": "TURBO",
        "text_prompt": "a sign",
        "resolution": "2560x1440",
        "seed": "5",
    }


def test_sdk_edit_with_a_mask_goes_to_edit_with_ideograms_mask(
    sdk: openai.OpenAI, emu: IdeogramEmulator
) -> None:
    result = sdk.images.edit(
        model="ideogram/ideogram-3",
        prompt="a red door",
        image=("in.png", png((320, 256)), "image/png"),
        mask=("mask.png", openai_mask((320, 256)), "image/png"),
        response_format="b64_json",
    )
    assert decoded(result.data[0].b64_json).size == (320, 256)  # the input image's
    [(path, fields)] = sent(emu)
    assert path == "/v1/ideogram-v3/edit"
    assert fields["rendering_speed"] == "DEFAULT" and fields["prompt"] == "a red door"
    assert fields["image"]["bytes"] > 0 and fields["mask"]["content_type"] == "image/png"
    assert "resolution" not in fields and "aspect_ratio" not in fields


def test_sdk_edit_without_a_mask_is_a_remix(sdk: openai.OpenAI, emu: IdeogramEmulator) -> None:
    result = sdk.images.edit(
        model="ideogram/ideogram-3-turbo",
        prompt="as a watercolour",
        image=("in.png", png((300, 200)), "image/png"),
        response_format="url",
        extra_body={"aspect_ratio": "3:2", "provider_params": '{"image_weight": 70}'},
    )
    image = fetched(result.data[0].url)
    assert image.format == "PNG" and abs(image.size[0] / image.size[1] - 1.5) < 0.02
    [(path, fields)] = sent(emu)
    assert path == "/v1/ideogram-v3/remix"
    assert fields["image_weight"] == "70" and fields["aspect_ratio"] == "3x2"


def test_ideogram_4_edits_are_remixes(sdk: openai.OpenAI, emu: IdeogramEmulator) -> None:
    sdk.images.edit(
        model="ideogram/ideogram-4",
        prompt="at night",
        image=("in.png", png((64, 64)), "image/png"),
    )
    [(path, fields)] = sent(emu)
    assert path == "/v1/ideogram-v4/remix"
    assert fields["text_prompt"] == "at night" and fields["rendering_speed"] == "DEFAULT"


# --- what the gateway refuses before anything is sent -------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"size": "1000x1000"}, "size"),
        ({"aspect_ratio": "21:9"}, "aspect_ratio"),
        ({"size": "1024x1024", "aspect_ratio": "1:1"}, "aspect_ratio"),
        ({"model": "ideogram/ideogram-4", "aspect_ratio": "4:7"}, "aspect_ratio"),
        ({"model": "ideogram/ideogram-4", "negative_prompt": "fog"}, "negative_prompt"),
        ({"output_format": "jpeg"}, "output_format"),
        ({"seed": 2_147_483_648}, "seed"),
        ({"provider_params": {"image_weight": 50}}, "provider_params.image_weight"),
        ({"provider_params": {"style_type": "ANIME"}}, "provider_params.style_type"),
        ({"provider_params": {"magic_prompt": True}}, "provider_params.magic_prompt"),
        ({"provider_params": {"colour": "red"}}, "provider_params.colour"),
    ],
)
def test_what_a_model_cannot_honour_is_a_400_naming_it(
    gw: RunningGateway, emu: IdeogramEmulator, body: dict[str, Any], param: str
) -> None:
    resp = generate(gw, **body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert emu.stats()["requests"]["generate"] == 0


@pytest.mark.parametrize(
    ("model", "extra", "param"),
    [
        ("ideogram/ideogram-4", {}, "mask"),
        ("ideogram/ideogram-3", {"size": "1024x1024"}, "size"),
        ("ideogram/ideogram-3", {"negative_prompt": "fog"}, "negative_prompt"),
    ],
)
def test_masked_edits_a_model_cannot_make_are_refused(
    gw: RunningGateway, emu: IdeogramEmulator, model: str, extra: dict[str, str], param: str
) -> None:
    files = {
        "image": ("in.png", png((64, 64)), "image/png"),
        "mask": ("mask.png", openai_mask((64, 64)), "image/png"),
    }
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits", data={"model": model, "prompt": "p", **extra}, files=files
        )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert emu.stats()["requests"]["edit"] == 0


def test_a_mask_of_another_size_is_refused(gw: RunningGateway, emu: IdeogramEmulator) -> None:
    files = {
        "image": ("in.png", png((64, 64)), "image/png"),
        "mask": ("mask.png", openai_mask((32, 32)), "image/png"),
    }
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits", data={"model": "ideogram/ideogram-3", "prompt": "p"}, files=files
        )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "mask", resp.text
    assert emu.stats()["requests"]["edit"] == 0


# --- Ideogram's refusals and errors -------------------------------------------------------------


def test_every_image_unsafe_is_a_content_policy_violation(
    gw: RunningGateway, emu: IdeogramEmulator
) -> None:
    resp = generate(gw, prompt="[unsafe] a scene", n=2, user_id="every-unsafe")
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == ("content_policy_violation", "ideogram")
    assert "is_image_safe" in error["message"] and "charges" in error["message"]
    assert emu.stats()["submissions"] == 1 and emu.stats()["results_served"] == 0
    # Ideogram bills the two withheld images: the ledger says so ($0.03 each for 3.0 Turbo).
    totals = eventually(lambda: _usage(gw, "every-unsafe"))
    assert (totals["requests"], totals["failed"]) == (1, 1)
    assert totals["cost_usd"] == pytest.approx(0.06)


def test_some_images_unsafe_answers_the_others_and_counts_them(
    gw: RunningGateway, emu: IdeogramEmulator
) -> None:
    resp = generate(gw, prompt="[unsafe-one] a scene", n=3, user_id="one-unsafe")
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["data"]) == 2 and resp.json()["images_filtered"] == 1
    assert emu.stats()["results_served"] == 2
    # Three images billed (the withheld one too), two answered: the answer's cost and the
    # ledger count all three.
    assert resp.json()["cost"] == {"usd": pytest.approx(0.09), "basis": "price_table"}
    totals = eventually(lambda: _usage(gw, "one-unsafe"))
    assert (totals["requests"], totals["images"]) == (1, 2)
    assert totals["cost_usd"] == pytest.approx(0.09)


def _usage(gw: RunningGateway, user_id: str) -> dict[str, Any] | None:
    """The ledger's totals for one `user_id`, once its row is written (None before)."""
    with gw.client() as http:
        totals = http.get("/v1/usage", params={"user_id": user_id}).json()["totals"]
    return totals if totals["requests"] else None


def test_a_prompt_failing_the_safety_check_is_a_content_policy_violation(
    gw: RunningGateway, emu: IdeogramEmulator
) -> None:
    resp = generate(gw, prompt="[moderate] a scene")
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "content_policy_violation"
    assert "Prompt failed the safety check" in error["message"]
    assert emu.stats()["submissions"] == 0


@pytest.mark.parametrize(
    ("fault", "status", "code", "submits"),
    [
        (
            {"match": "generate", "status": 400, "body": {"detail": "resolution: not supported"}},
            400,
            "invalid_request_error",
            1,
        ),
        ({"match": "generate", "status": 500, "times": 2}, 502, "upstream_error", 2),
        (
            {"match": "generate", "status": 200, "body": {"created": "x", "data": [{"seed": 1}]}},
            502,
            "upstream_error",
            1,
        ),
        (
            {"match": "generate", "status": 200, "body": {"created": "x"}},
            502,
            "upstream_error",
            1,
        ),
    ],
)
def test_ideograms_error_answers_end_as_the_right_error(
    gw: RunningGateway,
    emu: IdeogramEmulator,
    fault: dict[str, Any],
    status: int,
    code: str,
    submits: int,
) -> None:
    emu.add_faults([fault])
    resp = generate(gw)
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert code in (error["code"], error["type"]), error
    assert emu.stats()["requests"]["generate"] == submits
    if status == 400:
        assert "resolution: not supported" in error["message"]


@pytest.mark.parametrize("reason", ["insufficient_funds", "daily_limit"])
def test_a_402_is_quota_exhausted_naming_its_reject_reason(
    gw: RunningGateway, emu: IdeogramEmulator, reason: str
) -> None:
    body = {"detail": "Payment required.", "reject_reason": reason}
    emu.add_faults([{"match": "generate", "status": 402, "body": body}])
    resp = generate(gw)
    assert resp.status_code == 402, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == ("provider_quota_exhausted", "ideogram")
    assert f"reject_reason {reason}" in error["message"]
    assert resp.headers["x-should-retry"] == "false"
    assert emu.stats()["requests"]["generate"] == 1


def test_a_403_says_what_ideogram_said_not_only_check_the_key(
    gw: RunningGateway, emu: IdeogramEmulator
) -> None:
    """Ideogram's 403 (its errors page: no access to the endpoint or model) comes from a key it
    read: the answer carries Ideogram's reason, and says what to check beyond the key."""
    body = {"detail": "Your plan does not include access to this model."}
    emu.add_faults([{"match": "generate", "status": 403, "body": body}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed"
    assert "(Your plan does not include access to this model.)" in error["message"]
    assert "IDEOGRAM_API_KEY may use this model" in error["message"]
    assert emu.stats()["requests"]["generate"] == 1


def test_the_rate_limit_ends_as_a_429_with_the_retry_hint(
    gw: RunningGateway, emu: IdeogramEmulator
) -> None:
    emu.add_faults(
        [
            {
                "match": "generate",
                "status": 429,
                "headers": {"retry-after": "7"},
                "body": {"detail": "Too many requests."},
                "times": 5,
            }
        ]
    )
    resp = generate(gw)
    emu.clear_faults()
    assert resp.status_code == 429, resp.text
    assert int(resp.headers["retry-after"]) >= 1
    assert resp.json()["error"]["provider"] == "ideogram"


def test_a_wrong_key_ends_as_provider_auth_failed(emu: IdeogramEmulator, tmp_path: Path) -> None:
    settings = {
        **provider_settings(CONTRACTS["ideogram"], emu),
        "ideogram_api_key": "ideogram-wrong-key-1234",
    }
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "IDEOGRAM_API_KEY" in error["message"]
    assert "wrong-key" not in resp.text
    assert emu.stats()["auth_failures"] == 1


# --- where results come from --------------------------------------------------------------------


def test_an_expired_result_url_is_an_unknown_outcome_never_sent_again(tmp_path: Path) -> None:
    with IdeogramEmulator(api_key=IDEOGRAM_TEST_KEY, url_ttl=-60) as expired:
        settings = provider_settings(CONTRACTS["ideogram"], expired)
        with serve_gateway(tmp_path, **settings) as gateway:
            resp = generate(gateway)
        stats = expired.stats()
    assert resp.status_code == 502, resp.text
    assert "HTTP 403" in resp.json()["error"]["message"]
    assert stats["submissions"] == 1 and stats["requests"]["result"] == 1


def test_a_result_host_that_is_not_trusted_is_not_fetched(
    emu: IdeogramEmulator, tmp_path: Path
) -> None:
    settings = {**provider_settings(CONTRACTS["ideogram"], emu), "ideogram_trusted_hosts": []}
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    assert "IDEOGRAM_TRUSTED_HOSTS" in resp.json()["error"]["message"]
    assert emu.stats()["results_served"] == 0


def test_a_fake_image_from_the_result_host_is_refused(
    gw: RunningGateway, emu: IdeogramEmulator
) -> None:
    emu.add_faults([{"match": "result", "image": "html"}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert resp.json()["error"]["code"] == "invalid_image_output"


# --- the emulator -------------------------------------------------------------------------------


def post(emulator: IdeogramEmulator, path: str, key: str = IDEOGRAM_TEST_KEY, **form: Any) -> Any:
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
        return http.post(path, headers={"Api-Key": key}, files=form)


def test_ten_requests_in_flight_then_a_429() -> None:
    with IdeogramEmulator(
        api_key=IDEOGRAM_TEST_KEY, max_in_flight=1, generation_seconds=0.6
    ) as limited:
        answers: list[httpx.Response] = []

        def one() -> None:
            answers.append(post(limited, "/v1/ideogram-v3/generate", prompt=(None, "p")))

        threads = [threading.Thread(target=one) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stats = limited.stats()
    assert sorted(a.status_code for a in answers) == [200, 429]
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1 and "detail" in refused.json()
    assert stats["in_flight_refused"] == 1 and stats["submissions"] == 1


def test_the_emulator_checks_the_key_and_the_fields(emu: IdeogramEmulator) -> None:
    wrong = post(emu, "/v1/ideogram-v3/generate", key="nope", prompt=(None, "p"))
    unknown = post(emu, "/v1/ideogram-v3/generate", prompt=(None, "p"), style=(None, "x"))
    bad = post(emu, "/v1/ideogram-v3/generate", prompt=(None, "p"), resolution=(None, "7x7"))
    v4 = post(emu, "/v1/ideogram-v4/generate", prompt=(None, "p"))
    assert wrong.status_code == 401 and "nope" not in wrong.text
    assert unknown.status_code == 400 and "style" in unknown.json()["detail"]
    assert bad.status_code == 400 and bad.json()["detail"].startswith("resolution")
    assert v4.status_code == 400  # 4.0 takes text_prompt, and strict refuses `prompt`


# --- pure translations --------------------------------------------------------------------------


def test_from_vendor_drops_unsafe_images_and_keeps_the_order_of_the_others() -> None:
    answer = translate.from_vendor(
        {
            "data": [
                {"url": "https://ideogram.ai/a.png", "is_image_safe": True, "seed": 1},
                {"url": "", "is_image_safe": False, "seed": 2},
                {"url": "https://ideogram.ai/c.png", "seed": 3},  # no flag: taken as safe
                {"url": "https://ideogram.ai/d.png", "is_image_safe": False},  # dropped too
            ]
        }
    )
    assert answer.urls == {0: "https://ideogram.ai/a.png", 1: "https://ideogram.ai/c.png"}
    assert [image.seed for image in answer.result.images] == [1, 3]
    assert answer.result.extra == {"images_filtered": 2}
    assert answer.result.withheld_billed == 2  # Ideogram bills them: priced with the others


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"data": [{"url": "", "is_image_safe": False}]}, ContentPolicyViolation),
        ({"data": [{"url": None}]}, UpstreamError),
        ({"data": []}, UpstreamError),
        ([], UpstreamError),
    ],
)
def test_from_vendor_refusals(payload: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        translate.from_vendor(payload)
    billed = raised.value.billed  # type: ignore[attr-defined]
    if error is ContentPolicyViolation:  # every image withheld, and billed
        assert billed is not None and (billed.images, billed.withheld_billed) == ([], 1)
    else:
        assert billed is None
