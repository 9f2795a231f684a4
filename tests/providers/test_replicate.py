"""The Replicate adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating and editing through the gateway, the two ways a prediction is created
(an official model's URL, a pinned version), `Prefer: wait` and `Cancel-After`, polling the
prediction's own `urls.get`, outputs as a list, one URI or `data:` URIs, downloads from the
file host (with the key, only when trusted), every failure form, and the gateway's checks made
before anything is sent.

Servers: the real gateway and the Replicate emulator on loopback (`tests/contract/harness.py`).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from emulators.replicate import ReplicateEmulator
from image_gateway.errors import UNKNOWN_OUTCOME
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.providers import support
from tests.providers.support import decoded, error_of, fetched, provider_fixtures

REPLICATE_TEST_KEY = "r8_test-canary-5e1b7d2c9a4f"
SCHNELL = "replicate/black-forest-labs/flux-schnell"
SDXL_LITE = "acme/sdxl-lite:" + hashlib.sha256(b"acme/sdxl-lite").hexdigest()
THROTTLED = "Request was throttled. Your rate limit resets in ~2s."
SCHNELL_VERSION = hashlib.sha256(b"black-forest-labs/flux-schnell").hexdigest()


def settings_for(emu: ReplicateEmulator, **overrides: Any) -> dict[str, Any]:
    """The contract's settings without its 1-s submission timeout (which would hold answers
    under `Prefer: wait=0`, and no longer)."""
    base = {**provider_settings(CONTRACTS["replicate"], emu), "replicate_timeout_seconds": None}
    return {**base, **overrides}


emu, gw, _reset, sdk = provider_fixtures(
    "replicate",
    lambda: ReplicateEmulator(
        api_key=REPLICATE_TEST_KEY, strict=True, generation_seconds=0.05, file_auth=True
    ),
    settings_for,
)


def sent(emu: ReplicateEmulator) -> list[dict[str, Any]]:
    return [{"path": r["path"], **r["fields"]} for r in emu.requests()]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    return support.generate(gw, SCHNELL, **body)


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_several_images_in_one_prediction(
    sdk: openai.OpenAI, emu: ReplicateEmulator
) -> None:
    result = sdk.images.generate(
        model=SCHNELL, prompt="a fox", n=3, size="1536x1024", response_format="b64_json"
    )
    assert len(result.data) == 3
    image = decoded(result.data[0].b64_json)
    assert image.format == "WEBP" and abs(image.size[0] / image.size[1] - 1.5) < 0.02
    assert result.model_extra is not None
    assert result.model_extra["cost"] == {"usd": 0.009, "basis": "price_table"}
    [fields] = sent(emu)
    assert fields == {
        "path": "/v1/models/black-forest-labs/flux-schnell/predictions",
        "input": {"prompt": "a fox", "num_outputs": 3, "aspect_ratio": "3:2"},
    }
    stats = emu.stats()
    assert stats["submissions"] == 1 and stats["files_served"] == 3
    assert stats["file_requests_with_key"] == 3 and stats["file_refusals"] == 0
    # Held until done (Prefer), stopped by Replicate when the gateway would stop waiting:
    # a second less than the request deadline (10 s here), + the poll timeout (5 s).
    assert stats["create_headers"] == [{"prefer": "wait=9", "cancel-after": "14s"}]


def test_sdk_edits_with_kontext_keeping_the_input_shape(
    sdk: openai.OpenAI, emu: ReplicateEmulator
) -> None:
    result = sdk.images.edit(
        model="replicate/black-forest-labs/flux-kontext-pro",
        prompt="make it night",
        image=("in.png", png((300, 200)), "image/png"),
        response_format="b64_json",
    )
    image = decoded(result.data[0].b64_json)
    assert image.format == "PNG" and image.size == (300, 200)
    [fields] = sent(emu)
    assert fields["path"] == "/v1/models/black-forest-labs/flux-kontext-pro/predictions"
    assert fields["input"]["aspect_ratio"] == "match_input_image"
    assert set(fields["input"]) == {"prompt", "aspect_ratio", "input_image"}


def test_sdk_gets_urls_of_the_stored_images(
    sdk: openai.OpenAI, gw: RunningGateway, emu: ReplicateEmulator
) -> None:
    """`response_format: "url"`: the outputs were downloaded and stored by the gateway, and
    its URLs serve them (Replicate's own file URLs are never handed on: they die in an hour)."""
    result = sdk.images.generate(
        model=SCHNELL, prompt="a fox", n=2, size="1024x1024", response_format="url"
    )
    assert [d.b64_json for d in result.data] == [None, None]
    for item in result.data:
        assert item.url and item.url.startswith(gw.url)  # the gateway's, not Replicate's
        image = fetched(item.url)
        assert image.format == "WEBP" and image.size == (1024, 1024)
    edit = sdk.images.edit(
        model="replicate/black-forest-labs/flux-kontext-pro",
        prompt="make it night",
        image=("in.png", png((300, 200)), "image/png"),
        response_format="url",
    )
    assert edit.data[0].url and edit.data[0].url.startswith(gw.url)
    assert fetched(edit.data[0].url).size == (300, 200)
    assert emu.stats()["submissions"] == 2


def test_a_single_uri_model_and_a_custom_size(sdk: openai.OpenAI, emu: ReplicateEmulator) -> None:
    result = sdk.images.generate(
        model="replicate/black-forest-labs/flux-1.1-pro",
        prompt="a harbour",
        size="1024x1536",
        response_format="b64_json",
        extra_body={"output_format": "jpeg", "output_compression": 60, "seed": 5},
    )
    image = decoded(result.data[0].b64_json)
    assert image.format == "JPEG" and image.size == (960, 1440)  # fitted into 256-1440
    [fields] = sent(emu)
    assert fields["input"] == {
        "prompt": "a harbour",
        "seed": 5,
        "output_format": "jpg",
        "output_quality": 60,
        "aspect_ratio": "custom",
        "width": 960,
        "height": 1440,
    }


def test_pinned_versions_go_to_predictions_with_their_version(
    gw: RunningGateway, emu: ReplicateEmulator
) -> None:
    outside = generate(
        gw,
        model=f"replicate/{SDXL_LITE}",
        size="768x512",
        negative_prompt="fog",
        provider_params={"scheduler": "DDIM"},
    )
    assert outside.status_code == 200, outside.text
    known = generate(gw, model=f"{SCHNELL}:{SCHNELL_VERSION}", aspect_ratio="16:9", n=2)
    assert known.status_code == 200, known.text
    assert len(known.json()["data"]) == 2
    first, second = sent(emu)
    assert first["path"] == second["path"] == "/v1/predictions"
    assert first["version"] == SDXL_LITE.partition(":")[2]
    assert first["input"] == {
        "prompt": "a lighthouse",
        "negative_prompt": "fog",
        "width": 768,
        "height": 512,
        "scheduler": "DDIM",
    }
    assert second["version"] == SCHNELL_VERSION
    assert second["input"]["num_outputs"] == 2 and second["input"]["aspect_ratio"] == "16:9"
    assert known.json()["cost"]["basis"] == "unpriced"  # a version is priced by nobody


def test_the_catalogue_and_how_models_are_named(gw: RunningGateway) -> None:
    with gw.client() as http:
        providers = http.get("/v1/providers").json()
        bare = http.post(
            "/v1/images/generations",
            json={"prompt": "x", "model": "black-forest-labs/flux-schnell"},
        )
    [replicate] = [p for p in providers["data"] if p["id"] == "replicate"]
    ids = {m["id"] for m in replicate["models"]}
    assert "black-forest-labs/flux-schnell" in ids and "recraft-ai/recraft-v3" in ids
    # Without `replicate/`, `black-forest-labs` is bfl-flux's alias: its own models answer.
    assert bare.status_code == 404 and "bfl-flux" in error_of(bare)["message"]


def test_a_prediction_not_held_is_polled_at_its_own_url(
    emu: ReplicateEmulator, tmp_path: Path
) -> None:
    emu.app.book.queue_seconds = 0.2
    try:
        with serve_gateway(tmp_path, **settings_for(emu, replicate_prefer_wait=0)) as gateway:
            resp = generate(gateway)
    finally:
        emu.app.book.queue_seconds = 0.0
    assert resp.status_code == 200, resp.text
    stats = emu.stats()
    assert stats["held_answers"] == 0 and stats["requests"]["get"] >= 2
    assert stats["create_headers"] == [{"prefer": None, "cancel-after": "5s"}]


def test_data_uri_outputs_are_read_without_a_download(
    gw: RunningGateway, emu: ReplicateEmulator
) -> None:
    emu.add_faults([{"match": "create", "data_uri": True}])
    resp = generate(gw, n=2, response_format="b64_json")
    assert resp.status_code == 200, resp.text
    assert [decoded(d["b64_json"]).format for d in resp.json()["data"]] == ["WEBP", "WEBP"]
    assert emu.stats()["files_served"] == 0


# --- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "status", "code"),
    [
        ("a fox [nsfw]", 400, "content_policy_violation"),
        ("a fox [sensitive]", 400, "content_policy_violation"),
        ("a fox [fail]", 502, "generation_failed"),
    ],
)
def test_failed_predictions(
    gw: RunningGateway, emu: ReplicateEmulator, prompt: str, status: int, code: str
) -> None:
    resp = generate(gw, prompt=prompt)
    assert resp.status_code == status, resp.text
    assert error_of(resp)["code"] == code
    assert resp.headers["x-should-retry"] == "false"
    assert emu.stats()["submissions"] == 1


def _prediction(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": "p1", "status": status, "output": None, "error": None, **extra}


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [
        (_prediction("canceled"), 502, "prediction_canceled"),
        (_prediction("aborted"), 504, "prediction_aborted"),
        (_prediction("succeeded", data_removed=True), 502, "upstream_error"),
        (_prediction("succeeded", output=["ftp://elsewhere/x.png"]), 502, "upstream_error"),
    ],
)
def test_ended_predictions_without_images(
    gw: RunningGateway, emu: ReplicateEmulator, answer: dict[str, Any], status: int, code: str
) -> None:
    emu.app.book.queue_seconds = 0.3  # still running when the submission is answered
    try:
        emu.add_faults([{"match": "get", "status": 200, "body": answer}])
        resp = generate(gw)
    finally:
        emu.app.book.queue_seconds = 0.0
    assert resp.status_code == status, resp.text
    error = error_of(resp)
    assert error["code"] == code and UNKNOWN_OUTCOME in error["message"]


@pytest.mark.parametrize(
    ("fault", "status", "code", "param"),
    [
        (
            {
                "status": 422,
                "body": {
                    "title": "Input validation failed",
                    "detail": "- megapixels: must be one of ...\n",
                    "status": 422,
                    "invalid_fields": [
                        {"type": "enum", "field": "megapixels", "description": "megapixels: no"}
                    ],
                },
            },
            400,
            "enum",
            "provider_params.megapixels",
        ),
        ({"status": 401}, 502, "provider_auth_failed", None),
        ({"status": 402}, 402, "provider_quota_exhausted", None),
        ({"status": 403}, 502, "provider_auth_failed", None),  # the SDK's PermissionDenied
        ({"status": 404}, 404, "model_not_found", None),
        ({"status": 500, "times": 5}, 502, "upstream_error", None),
        (
            {"status": 429, "times": 5, "body": {"detail": THROTTLED}},
            429,
            "provider_rate_limited",
            None,
        ),
    ],
)
def test_error_answers_end_as_the_right_error(
    gw: RunningGateway,
    emu: ReplicateEmulator,
    fault: dict[str, Any],
    status: int,
    code: str,
    param: str | None,
) -> None:
    emu.add_faults([{"match": "create", **fault}])
    resp = generate(gw)
    assert resp.status_code == status, resp.text
    error = error_of(resp)
    assert error["code"] == code and error["param"] == param, error
    if fault["status"] == 429:
        assert resp.headers["retry-after"] == "2"  # from the text: no Retry-After was sent
    if fault["status"] == 404:
        assert "REPLICATE_BASE_URL" in error["message"]
    assert emu.stats()["submissions"] == 0


def test_replicates_own_input_checks_name_the_field(
    gw: RunningGateway, emu: ReplicateEmulator
) -> None:
    extra = generate(gw, model=f"replicate/{SDXL_LITE}", provider_params={"lora_scale": 0.5})
    enum = generate(gw, model=f"replicate/{SDXL_LITE}", provider_params={"scheduler": "PNDM"})
    for resp, param in ((extra, "provider_params.lora_scale"), (enum, "provider_params.scheduler")):
        assert resp.status_code == 400, resp.text
        assert error_of(resp)["param"] == param
    wrong = "acme/sdxl-lite:" + "0" * 64
    missing = generate(gw, model=f"replicate/{wrong}")
    assert missing.status_code == 404 and error_of(missing)["code"] == "model_not_found"
    assert emu.stats()["submissions"] == 0


def test_a_wrong_token_is_provider_auth_failed_and_never_shown(
    emu: ReplicateEmulator, tmp_path: Path
) -> None:
    settings = settings_for(emu, replicate_api_key="r8_wrong-token-98765")
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    error = error_of(resp)
    assert error["code"] == "provider_auth_failed"
    assert "REPLICATE_API_KEY (or REPLICATE_API_TOKEN)" in error["message"]
    assert "wrong-token" not in resp.text and emu.stats()["auth_failures"] == 1


def test_a_request_stopped_by_its_deadline_cancels_the_prediction(
    emu: ReplicateEmulator, tmp_path: Path
) -> None:
    settings = settings_for(emu, replicate_prefer_wait=1, request_deadline_seconds=2.5)
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway, prompt="a fox [never]")
    assert resp.status_code == 504, resp.text
    for _ in range(40):  # the cancel call runs as the request ends (at most 3 s)
        if emu.stats()["cancels"]:
            break
        time.sleep(0.1)
    stats = emu.stats()
    assert stats["cancels"] == 1 and stats["submissions"] == 1
    assert stats["create_headers"] == [{"prefer": "wait=1", "cancel-after": "6s"}]


def test_files_on_an_untrusted_host_are_not_fetched(emu: ReplicateEmulator, tmp_path: Path) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, replicate_trusted_hosts=[])) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    assert "REPLICATE_TRUSTED_HOSTS" in error_of(resp)["message"]
    assert emu.stats()["submissions"] == 1 and emu.stats()["files_served"] == 0


def test_output_removed_before_it_was_read(tmp_path: Path) -> None:
    with ReplicateEmulator(
        api_key=REPLICATE_TEST_KEY, generation_seconds=0.05, retention=0.0
    ) as old:
        with serve_gateway(tmp_path, **settings_for(old)) as gateway:
            resp = generate(gateway)
    assert resp.status_code == 502, resp.text
    assert "already removed" in error_of(resp)["message"]


def test_a_fake_image_from_the_file_host_is_refused(
    gw: RunningGateway, emu: ReplicateEmulator
) -> None:
    emu.add_faults([{"match": "file", "image": "html"}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    assert error_of(resp)["code"] == "invalid_image_output"


# --- checked before anything is sent ------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "body", "param"),
    [
        (SCHNELL, {"size": "1792x1024"}, "size"),  # 7:4 is no flux ratio
        (SCHNELL, {"aspect_ratio": "7:4"}, "aspect_ratio"),
        (SCHNELL, {"size": "1024x1024", "aspect_ratio": "16:9"}, "aspect_ratio"),
        ("replicate/recraft-ai/recraft-v3", {"size": "1000x1000"}, "size"),
        ("replicate/recraft-ai/recraft-v3", {"aspect_ratio": "1:1"}, "aspect_ratio"),
        (SCHNELL, {"provider_params": {"guidance": 3}}, "provider_params.guidance"),
        (SCHNELL, {"n": 11}, "n"),
        ("replicate/ideogram-ai/ideogram-v3-turbo", {"output_format": "webp"}, "output_format"),
    ],
)
def test_what_a_model_cannot_take_is_refused_before_sending(
    gw: RunningGateway, emu: ReplicateEmulator, model: str, body: dict[str, Any], param: str
) -> None:
    resp = generate(gw, model=model, **body)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["param"] == param
    assert emu.stats()["requests"]["create"] == 0


# --- the emulator on its own --------------------------------------------------------------------


def test_the_emulator_checks_tokens_and_durations(emu: ReplicateEmulator) -> None:
    url = f"{emu.base_url}/models/black-forest-labs/flux-schnell/predictions"
    body = {"input": {"prompt": "x"}}
    with httpx.Client(timeout=10) as http:
        anonymous = http.post(url, json=body)
        old_scheme = http.post(url, json=body, headers={"Authorization": f"Token {emu.api_key}"})
        bad_limit = http.post(
            url,
            json=body,
            headers={"Authorization": f"Bearer {emu.api_key}", "Cancel-After": "soon"},
        )
        file_url = old_scheme.json()["urls"]["get"]
        polled = http.get(file_url, headers={"Authorization": f"Bearer {emu.api_key}"})
    assert anonymous.status_code == 401 and anonymous.json()["title"] == "Unauthenticated"
    assert old_scheme.status_code == 201 and old_scheme.json()["status"] == "processing"
    assert bad_limit.status_code == 400
    assert polled.status_code == 200 and polled.json()["id"] == old_scheme.json()["id"]


# --- a watched call polls at once: its status words reach the stream ----------------------------


def test_a_stream_reports_replicates_status_words_under_the_default_wait(
    tmp_path: Path,
) -> None:
    # REPLICATE_PREFER_WAIT is left at its default (60): a stream still polls from the start
    # (no `Prefer`), so `starting` then `processing` reach the client before the image.
    with ReplicateEmulator(
        api_key=REPLICATE_TEST_KEY, queue_seconds=0.5, generation_seconds=0.5
    ) as slow:
        with serve_gateway(tmp_path, **settings_for(slow)) as gateway, gateway.client() as http:
            body = {"model": SCHNELL, "prompt": "a slow fox", "stream": True}
            with http.stream("POST", "/v1/images/generations", json=body) as resp:
                assert resp.status_code == 200
                lines = list(resp.iter_lines())
            # A JSON request (nobody watches) is still held by Replicate until it ends.
            assert generate(gateway, prompt="held").status_code == 200
        headers = slow.stats()["create_headers"]
    # Progress as an event, or as the comment a stream sends when progress events were not
    # asked for (`stream_options.include_progress`): either way with the status word.
    comment = ": image_gateway.progress "
    events = [orjson.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]
    reports = [e for e in events if e["type"] == "image_gateway.progress"]
    reports += [orjson.loads(line[len(comment) :]) for line in lines if line.startswith(comment)]
    statuses = [r["provider_status"] for r in reports]
    assert statuses[:2] == ["starting", "processing"], lines
    assert events[-1]["type"] == "image_generation.completed" and events[-1]["b64_json"]
    assert "prefer" not in {k for k, v in headers[0].items() if v is not None}
    assert headers[1]["prefer"] == "wait=9"


def test_an_edit_mask_is_refused_not_dropped(sdk: openai.OpenAI, emu: Any) -> None:
    """No model here takes a mask: a 400 naming it, before anything is submitted."""
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.edit(
            model="replicate/black-forest-labs/flux-kontext-pro",
            prompt="make it night",
            image=("in.png", png((64, 64)), "image/png"),
            mask=("m.png", png((64, 64), "RGBA"), "image/png"),
        )
    error = refused.value.body
    assert isinstance(error, dict)
    assert error["param"] == "mask" and error["code"] == "unsupported_parameter", error
    assert "takes no mask" in error["message"]
    assert emu.stats()["submissions"] == 0
