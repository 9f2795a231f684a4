"""The fal adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating and editing through the gateway, the queue's server-given URLs (never
built by hand), the result read at once from `response_url` and its images downloaded at once
from the CDN host (without the key, only when trusted), per-endpoint result shapes,
`has_nsfw_concepts`, every failure form, a job's queue position, and the gateway's checks made
before anything is sent.

Servers: the real gateway and the fal emulator on loopback (`tests/contract/harness.py`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from emulators.fal import FalEmulator
from image_gateway.errors import UNKNOWN_OUTCOME
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.jobs.support import submit
from tests.jobs.test_job_events import read_events
from tests.providers import support
from tests.providers.support import decoded, error_of, fetched, provider_fixtures

FAL_TEST_KEY = "fal-test-canary-3c8e1a7b5d"
SCHNELL = "fal/fal-ai/flux/schnell"


def settings_for(emu: FalEmulator, **overrides: Any) -> dict[str, Any]:
    return {**provider_settings(CONTRACTS["fal"], emu), **overrides}


emu, gw, _reset, sdk = provider_fixtures(
    "fal",
    lambda: FalEmulator(api_key=FAL_TEST_KEY, strict=True, generation_seconds=0.05),
    settings_for,
)


def sent(emu: FalEmulator) -> list[dict[str, Any]]:
    return [{"path": r["path"], **r["fields"]} for r in emu.requests()]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    return support.generate(gw, SCHNELL, **body)


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_several_images_in_one_request(sdk: openai.OpenAI, emu: FalEmulator) -> None:
    result = sdk.images.generate(
        model=SCHNELL, prompt="a fox", n=3, size="1536x1024", response_format="b64_json"
    )
    assert len(result.data) == 3
    image = decoded(result.data[0].b64_json)
    assert image.format == "JPEG" and image.size == (1536, 1024)
    assert result.model_extra is not None
    assert result.model_extra["cost"]["basis"] == "price_table"
    assert result.model_extra["cost"]["usd"] == pytest.approx(3 * 0.003 * 1.5)  # per MiP
    [fields] = sent(emu)
    assert fields == {
        "path": "/fal-ai/flux/schnell",
        "prompt": "a fox",
        "num_images": 3,
        "image_size": {"width": 1536, "height": 1024},
    }
    stats = emu.stats()
    assert stats["submissions"] == 1 and stats["files_served"] == 3
    assert stats["result_reads"] == 1 and stats["requests"]["status"] >= 1
    assert stats["hand_built_urls"] == 0  # every URL used was the one fal gave
    assert stats["file_requests_with_key"] == 0  # the CDN never gets the key


def test_sdk_edits_with_kontext(sdk: openai.OpenAI, emu: FalEmulator) -> None:
    result = sdk.images.edit(
        model="fal/fal-ai/flux-pro/kontext",
        prompt="make it night",
        image=("in.png", png((300, 200)), "image/png"),
        response_format="b64_json",
        extra_body={"output_format": "png"},
    )
    image = decoded(result.data[0].b64_json)
    assert image.format == "PNG" and image.size == (300, 200)
    [fields] = sent(emu)
    assert fields["path"] == "/fal-ai/flux-pro/kontext"
    assert set(fields) == {"path", "prompt", "num_images", "output_format", "image_url"}
    assert fields["image_url"].startswith("data:image/png;base64,")


def test_sdk_gets_urls_of_the_stored_images(
    sdk: openai.OpenAI, gw: RunningGateway, emu: FalEmulator
) -> None:
    """`response_format: "url"`: the images were downloaded from fal's CDN and stored by the
    gateway, and its URLs serve them (fal's own expire with the result)."""
    result = sdk.images.generate(
        model=SCHNELL, prompt="a fox", n=2, size="1024x1024", response_format="url"
    )
    assert [d.b64_json for d in result.data] == [None, None]
    for item in result.data:
        assert item.url and item.url.startswith(gw.url)  # the gateway's, not fal's CDN
        image = fetched(item.url)
        assert image.format == "JPEG" and image.size == (1024, 1024)
    edit = sdk.images.edit(
        model="fal/fal-ai/flux-pro/kontext",
        prompt="make it night",
        image=("in.png", png((300, 200)), "image/png"),
        response_format="url",
        extra_body={"output_format": "png"},
    )
    assert edit.data[0].url and edit.data[0].url.startswith(gw.url)
    image = fetched(edit.data[0].url)
    assert image.format == "PNG" and image.size == (300, 200)
    assert emu.stats()["submissions"] == 2


@pytest.mark.parametrize(
    ("model", "body", "wire", "size"),
    [
        (SCHNELL, {"aspect_ratio": "9:16"}, {"image_size": "portrait_16_9"}, (576, 1024)),
        (SCHNELL, {"size": "512x512"}, {"image_size": "square"}, (512, 512)),
        (SCHNELL, {}, {}, (1024, 768)),  # fal's default, landscape_4_3
        ("fal/fal-ai/flux-pro/v1.1-ultra", {"size": "1536x1024"}, {"aspect_ratio": "3:2"}, None),
        ("fal/fal-ai/nano-banana", {"aspect_ratio": "4:5"}, {"aspect_ratio": "4:5"}, None),
        ("fal/fal-ai/bytedance/seedream/v4/text-to-image", {"seed": 7}, {"seed": 7}, (2048, 2048)),
    ],
)
def test_each_endpoint_gets_its_own_size_fields(
    gw: RunningGateway,
    emu: FalEmulator,
    model: str,
    body: dict[str, Any],
    wire: dict[str, Any],
    size: tuple[int, int] | None,
) -> None:
    resp = generate(gw, model=model, response_format="b64_json", **body)
    assert resp.status_code == 200, resp.text
    [fields] = sent(emu)
    for name, value in wire.items():
        assert fields[name] == value
    if size is not None:
        assert decoded(resp.json()["data"][0]["b64_json"]).size == size


def test_nano_banana_answers_no_seed_and_seedream_no_nsfw_flags(
    gw: RunningGateway, emu: FalEmulator
) -> None:
    nano = generate(gw, model="fal/fal-ai/nano-banana", prompt="a fox [nsfw]")
    assert nano.status_code == 200, nano.text  # no has_nsfw_concepts: nothing flagged
    assert nano.json()["data"][0].get("seed") is None  # nano-banana answers no seed
    seeded = generate(gw, seed=99)
    assert seeded.status_code == 200 and seeded.json()["data"][0]["seed"] == 99


def test_a_single_image_result_shape_is_read(gw: RunningGateway, emu: FalEmulator) -> None:
    """`image: {...}` instead of `images: [...]` (other fal endpoints' shape)."""
    # A real result document's image, played as the next result under `image`.
    with httpx.Client(timeout=10) as http:
        submitted = http.post(
            f"{emu.base_url}/fal-ai/flux/schnell",
            json={"prompt": "x"},
            headers={"Authorization": f"Key {FAL_TEST_KEY}"},
        ).json()
        time.sleep(0.1)
        document = http.get(
            submitted["response_url"], headers={"Authorization": f"Key {FAL_TEST_KEY}"}
        ).json()
    url = document["images"][0]["url"]
    emu.add_faults([{"match": "result", "status": 200, "body": {"image": {"url": url}}}])
    resp = generate(gw, response_format="b64_json")
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["data"]) == 1


# --- has_nsfw_concepts, refusals and failures ---------------------------------------------------


def test_flagged_images_are_dropped_and_all_flagged_is_a_refusal(
    gw: RunningGateway, emu: FalEmulator
) -> None:
    some = generate(gw, prompt="two foxes [nsfw-first]", n=2)
    assert some.status_code == 200, some.text
    assert len(some.json()["data"]) == 1
    every = generate(gw, prompt="two foxes [nsfw]", n=2)
    assert every.status_code == 400, every.text
    error = error_of(every)
    assert error["code"] == "content_policy_violation" and "has_nsfw_concepts" in error["message"]
    assert "may have charged" in error["message"]
    assert emu.stats()["submissions"] == 2


@pytest.mark.parametrize(
    ("prompt", "status", "code"),
    [
        ("a fox [policy]", 400, "content_policy_violation"),  # the result is fal's 422
        ("a fox [fail]", 502, "generation_failed"),  # COMPLETED carrying error/error_type
    ],
)
def test_failures_after_acceptance(
    gw: RunningGateway, emu: FalEmulator, prompt: str, status: int, code: str
) -> None:
    resp = generate(gw, prompt=prompt)
    assert resp.status_code == status, resp.text
    error = error_of(resp)
    assert error["code"] == code
    assert resp.headers["x-should-retry"] == "false"
    assert emu.stats()["submissions"] == 1
    if code == "generation_failed":
        assert "runner_disconnected" in error["message"] and UNKNOWN_OUTCOME in error["message"]


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "COMPLETED", "error": "flagged", "error_type": "content_policy_violation"},
        {"status": "COMPLETED", "error": "The content was flagged by a content checker."},
    ],
)
def test_a_completed_status_carrying_a_refusal(
    gw: RunningGateway, emu: FalEmulator, answer: dict[str, Any]
) -> None:
    emu.add_faults([{"match": "status", "status": 200, "body": answer}])
    resp = generate(gw)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["code"] == "content_policy_violation"
    assert emu.stats()["result_reads"] == 0


@pytest.mark.parametrize(
    ("fault", "status", "code", "param"),
    [
        (
            {
                "status": 422,
                "body": {
                    "detail": [
                        {"loc": ["body", "acceleration"], "msg": "bad", "type": "literal_error"}
                    ]
                },
            },
            400,
            "literal_error",
            "provider_params.acceleration",
        ),
        (
            {  # the refusal without the `detail` wrapper ([3P] form)
                "status": 422,
                "body": [
                    {
                        "loc": ["body", "prompt"],
                        "msg": "flagged",
                        "type": "content_policy_violation",
                    }
                ],
            },
            400,
            "content_policy_violation",
            None,
        ),
        ({"status": 401}, 502, "provider_auth_failed", None),
        ({"status": 403}, 402, "provider_quota_exhausted", None),  # "Exhausted balance"
        ({"status": 403, "body": {"detail": "Forbidden"}}, 502, "provider_auth_failed", None),
        ({"status": 404}, 404, "model_not_found", None),
        ({"status": 503, "times": 5}, 502, "upstream_error", None),
        # fal's platform errors: `{"detail", "error_type"}` with X-Fal-Error-Type (section 3.5)
        ({"status": 504, "times": 5}, 502, "upstream_error", None),
        ({"status": 422, "body": {"detail": "Image size too large"}}, 400, "invalid_value", None),
        (
            {"status": 429, "times": 5, "headers": {"retry-after": "2"}},
            429,
            "provider_rate_limited",
            None,
        ),
    ],
)
def test_error_answers_end_as_the_right_error(
    gw: RunningGateway,
    emu: FalEmulator,
    fault: dict[str, Any],
    status: int,
    code: str,
    param: str | None,
) -> None:
    emu.add_faults([{"match": "submit", **fault}])
    resp = generate(gw)
    assert resp.status_code == status, resp.text
    error = error_of(resp)
    assert error["code"] == code and error["param"] == param, error
    if fault["status"] == 429:
        assert resp.headers["retry-after"] == "2"
    if fault["status"] == 404:
        assert "FAL_BASE_URL" in error["message"]
    assert emu.stats()["submissions"] == 0


def test_fals_own_input_checks_name_the_field(gw: RunningGateway, emu: FalEmulator) -> None:
    steps = generate(gw, provider_params={"num_inference_steps": 99})
    seed = generate(gw, seed=-5)
    assert (
        steps.status_code == 400
        and error_of(steps)["param"] == "provider_params.num_inference_steps"
    )
    assert seed.status_code == 400 and error_of(seed)["param"] == "seed"
    assert emu.stats()["submissions"] == 0


def test_a_wrong_key_is_provider_auth_failed_and_never_shown(
    emu: FalEmulator, tmp_path: Path
) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, fal_api_key="fal-wrong-key-98765")) as gw:
        resp = generate(gw)
    assert resp.status_code == 502, resp.text
    error = error_of(resp)
    assert (
        error["code"] == "provider_auth_failed" and "FAL_API_KEY (or FAL_KEY)" in error["message"]
    )
    assert "wrong-key" not in resp.text and emu.stats()["auth_failures"] == 1


def test_a_request_stopped_by_its_deadline_is_cancelled_at_its_cancel_url(
    emu: FalEmulator, tmp_path: Path
) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, request_deadline_seconds=1.5)) as gateway:
        resp = generate(gateway, prompt="a fox [never]")
    assert resp.status_code == 504, resp.text
    for _ in range(40):  # the cancel call runs as the request ends (at most 3 s)
        if emu.stats()["cancels"]:
            break
        time.sleep(0.1)
    stats = emu.stats()
    assert stats["cancels"] == 1 and stats["requests"]["cancel"] == 1
    assert stats["hand_built_urls"] == 0


def test_images_on_an_untrusted_host_are_not_fetched(emu: FalEmulator, tmp_path: Path) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, fal_trusted_hosts=[])) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    assert "FAL_TRUSTED_HOSTS" in error_of(resp)["message"]
    assert emu.stats()["submissions"] == 1 and emu.stats()["files_served"] == 0


def test_a_result_gone_before_it_was_read(tmp_path: Path) -> None:
    with FalEmulator(api_key=FAL_TEST_KEY, generation_seconds=0.05, retention=0.0) as old:
        with serve_gateway(tmp_path, **settings_for(old)) as gateway:
            resp = generate(gateway)
        assert old.stats()["expired_results"] >= 1
    assert resp.status_code == 502, resp.text
    assert error_of(resp)["code"] == "task_not_found"


def test_a_fake_image_from_the_cdn_is_refused(gw: RunningGateway, emu: FalEmulator) -> None:
    emu.add_faults([{"match": "file", "image": "html"}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert error_of(resp)["code"] == "invalid_image_output"


# --- a job: fal's status word and queue position ------------------------------------------------


def test_a_queued_jobs_status_word_and_position(emu: FalEmulator, tmp_path: Path) -> None:
    """IN_QUEUE's `queue_position` reaches the job's progress events, counting down, then
    IN_PROGRESS (fal gives no fraction: `progress` stays null)."""
    emu.app.book.queue_seconds = 1.5
    settings = settings_for(emu, job_progress_seconds=0.05, fal_poll_timeout_seconds=10.0)
    with serve_gateway(tmp_path, **settings) as gateway, gateway.client() as http:
        job_id = submit(http, {"model": SCHNELL, "prompt": "a queued fox"})["id"]
        with http.stream("GET", f"/v1/jobs/{job_id}/events") as resp:
            events = list(read_events(resp.iter_lines()))
    assert events[-1][0] == "result"
    progress = [data for name, data in events if name == "progress"]
    queued = [d["queue_position"] for d in progress if d["provider_status"] == "IN_QUEUE"]
    assert queued and all(isinstance(p, int) for p in queued), progress
    assert queued == sorted(queued, reverse=True)  # counting down
    assert all(d["progress"] is None for d in progress)
    assert emu.stats()["submissions"] == 1


# --- checked before anything is sent ------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "body", "param"),
    [
        (SCHNELL, {"aspect_ratio": "21:9"}, "aspect_ratio"),  # no image_size preset
        (SCHNELL, {"size": "1024x1024", "aspect_ratio": "1:1"}, "aspect_ratio"),
        ("fal/fal-ai/flux-pro/v1.1-ultra", {"size": "1000x900"}, "size"),
        ("fal/fal-ai/flux-pro/v1.1-ultra", {"aspect_ratio": "5:4"}, "aspect_ratio"),
        (SCHNELL, {"provider_params": {"raw": True}}, "provider_params.raw"),
        (SCHNELL, {"n": 11}, "n"),
        (SCHNELL, {"output_format": "webp"}, "output_format"),
        ("fal/fal-ai/flux-pro/kontext", {}, "model"),  # edits only
    ],
)
def test_what_a_model_cannot_take_is_refused_before_sending(
    gw: RunningGateway, emu: FalEmulator, model: str, body: dict[str, Any], param: str
) -> None:
    resp = generate(gw, model=model, **body)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["param"] == param
    assert emu.stats()["requests"]["submit"] == 0


# --- the emulator on its own --------------------------------------------------------------------


def test_the_emulators_queue_urls_drop_the_sub_path(emu: FalEmulator) -> None:
    key = {"Authorization": f"Key {FAL_TEST_KEY}"}
    with httpx.Client(timeout=10) as http:
        anonymous = http.post(f"{emu.base_url}/fal-ai/flux/dev", json={"prompt": "x"})
        bearer = http.post(
            f"{emu.base_url}/fal-ai/flux/dev",
            json={"prompt": "x"},
            headers={"Authorization": f"Bearer {FAL_TEST_KEY}"},
        )
        accepted = http.post(f"{emu.base_url}/fal-ai/flux/dev", json={"prompt": "x"}, headers=key)
        answer = accepted.json()
        naive = http.get(
            f"{emu.base_url}/fal-ai/flux/dev/requests/{answer['request_id']}/status", headers=key
        )
        time.sleep(0.1)
        status = http.get(answer["status_url"], headers=key)
        late_cancel = http.put(answer["cancel_url"], headers=key)
    assert anonymous.status_code == 401 and bearer.status_code == 401
    assert answer["status"] == "IN_QUEUE" and isinstance(answer["queue_position"], int)
    assert answer["status_url"].endswith(f"/fal-ai/flux/requests/{answer['request_id']}/status")
    assert naive.status_code == 404 and emu.stats()["hand_built_urls"] == 1
    assert status.status_code == 200 and status.json()["status"] == "COMPLETED"
    assert late_cancel.status_code == 400 and late_cancel.json()["status"] == "ALREADY_COMPLETED"


def test_the_emulator_answers_202_while_queued_and_cancels(emu: FalEmulator) -> None:
    emu.app.book.queue_seconds = 5.0
    key = {"Authorization": f"Key {FAL_TEST_KEY}"}
    with httpx.Client(timeout=10) as http:
        answer = http.post(
            f"{emu.base_url}/fal-ai/flux/schnell", json={"prompt": "x"}, headers=key
        ).json()
        queued = http.get(answer["status_url"], headers=key)
        cancel = http.put(answer["cancel_url"], headers=key)
        after = http.get(answer["status_url"], headers=key)
        result = http.get(answer["response_url"], headers=key)
    assert queued.status_code == 202 and queued.json()["queue_position"] >= 1
    assert cancel.status_code == 200 and cancel.json()["status"] == "OK"
    assert (
        after.json()["status"] == "COMPLETED" and after.json()["error_type"] == "request_cancelled"
    )
    assert result.status_code == 400


def test_an_edit_mask_is_refused_not_dropped(sdk: openai.OpenAI, emu: Any) -> None:
    """No model here takes a mask: a 400 naming it, before anything is submitted."""
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.edit(
            model="fal/fal-ai/flux-pro/kontext",
            prompt="make it night",
            image=("in.png", png((64, 64)), "image/png"),
            mask=("m.png", png((64, 64), "RGBA"), "image/png"),
        )
    error = refused.value.body
    assert isinstance(error, dict)
    assert error["param"] == "mask" and error["code"] == "unsupported_parameter", error
    assert "takes no mask" in error["message"]
    assert emu.stats()["submissions"] == 0
