"""The DashScope adapter and emulator, for what the contract suite does not cover: the official
`openai` SDK generating and editing through the gateway (Wan, Qwen-Image, both edit models, a
mask), the sizes and fields refused before anything is sent, each failure form (an inspection
refusal at submission, in a FAILED task, in a result; a failed or lost task; quota; rate
limit), cancellation of a task nobody waits for, and the emulator's own rules.

Servers: the real gateway and the DashScope emulator on loopback (`tests/contract/harness.py`).
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.dashscope import DashScopeEmulator
from image_gateway.errors import UNKNOWN_OUTCOME
from image_gateway.providers.dashscope import translate
from image_gateway.providers.dashscope.models import MODELS
from image_gateway.providers.kit.tasks import NOT_FOUND, Finished, Pending
from image_gateway.schemas import ImageTask
from tests.conftest import RunningGateway
from tests.contract.harness import png, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS
from tests.providers import support
from tests.providers.support import decoded, fetched, provider_fixtures

DASHSCOPE_TEST_KEY = "sk-dashscope-test-7f3a9c1e5b"
FLASH = "wan2.2-t2i-flash"


emu, gw, _reset, sdk = provider_fixtures(
    "dashscope",
    lambda: DashScopeEmulator(api_key=DASHSCOPE_TEST_KEY, generation_seconds=0.05, strict=True),
)


def sent(emu: DashScopeEmulator) -> list[dict[str, Any]]:
    return [r["fields"] for r in emu.requests() if "image-synthesis" in r["path"]]


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    return support.generate(gw, f"dashscope/{FLASH}", **body)


def settings_for(emu: DashScopeEmulator, **extra: Any) -> dict[str, Any]:
    return {**provider_settings(CONTRACTS["dashscope"], emu), **extra}


def mask_png(size: tuple[int, int]) -> bytes:
    """An OpenAI mask: transparent (edit) on the left half, opaque elsewhere."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


# --- the official SDK, through the gateway ------------------------------------------------------


def test_sdk_generates_through_a_task(sdk: openai.OpenAI, emu: DashScopeEmulator) -> None:
    result = sdk.images.generate(
        model=f"dashscope/{FLASH}",
        prompt="a fox",
        n=2,
        size="1280x720",
        extra_body={"seed": 5, "negative_prompt": "fog", "provider_params": {"watermark": True}},
    )
    assert len(result.data) == 2
    image = decoded(result.data[0].b64_json)
    assert (image.format, image.size) == ("PNG", (1280, 720))
    assert result.model_extra is not None
    assert result.model_extra["cost"] == {"usd": None, "basis": "unpriced"}
    [fields] = sent(emu)
    assert fields == {
        "model": FLASH,
        "input": {"prompt": "a fox", "negative_prompt": "fog"},
        "parameters": {"n": 2, "size": "1280*720", "seed": 5, "watermark": True},
    }
    stats = emu.stats()
    assert (stats["submissions"], stats["results_served"], stats["sync_refused"]) == (1, 2, 0)
    assert stats["requests"]["poll"] >= 1 and stats["result_requests_with_key"] == 0


def test_n_beyond_four_is_two_tasks_and_qwen_makes_one_a_task(
    sdk: openai.OpenAI, emu: DashScopeEmulator
) -> None:
    assert len(sdk.images.generate(model=f"dashscope/{FLASH}", prompt="x", n=6).data) == 6
    assert [f["parameters"]["n"] for f in sent(emu)] == [4, 2]
    emu.reset()
    result = sdk.images.generate(model="dashscope/qwen-image", prompt="a sign", n=2)
    assert decoded(result.data[0].b64_json).size == (1328, 1328)
    assert [f["parameters"]["n"] for f in sent(emu)] == [1, 1]


def test_sdk_url_answers_are_the_gateways_stored_images(
    sdk: openai.OpenAI, emu: DashScopeEmulator
) -> None:
    made = sdk.images.generate(
        model=f"dashscope/{FLASH}", prompt="a fox", size="1280x720", response_format="url"
    )
    edited = sdk.images.edit(
        model="dashscope/wan2.5-i2i-preview",
        prompt="make it night",
        image=("a.png", png((640, 480)), "image/png"),
        response_format="url",
    )
    made_image, edited_image = fetched(made.data[0].url), fetched(edited.data[0].url)
    assert (made_image.format, made_image.size) == ("PNG", (1280, 720))
    assert (edited_image.format, edited_image.size) == ("PNG", (1472, 1104))
    assert emu.stats()["results_served"] == 2


def test_a_priced_model_records_its_cost(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model="dashscope/wanx2.1-t2i-turbo", prompt="x", n=2)
    assert result.model_extra is not None
    assert result.model_extra["cost"] == {"usd": 0.05, "basis": "price_table"}


def test_sdk_edits_several_images(sdk: openai.OpenAI, emu: DashScopeEmulator) -> None:
    result = sdk.images.edit(
        model="dashscope/wan2.5-i2i-preview",
        prompt="put them together",
        image=[("a.png", png((640, 480)), "image/png"), ("b.png", png((64, 64)), "image/png")],
    )
    assert decoded(result.data[0].b64_json).size == (1472, 1104)  # the first's shape, 2.5's area
    [fields] = sent(emu)
    assert emu.requests()[0]["path"].endswith("/image2image/image-synthesis")
    assert len(fields["input"]["images"]) == 2
    assert "size" not in fields["parameters"]


def test_sdk_edits_with_a_mask_on_wanx21_imageedit(
    sdk: openai.OpenAI, emu: DashScopeEmulator
) -> None:
    result = sdk.images.edit(
        model="dashscope/wanx2.1-imageedit",
        prompt="a garden on the left",
        image=("a.png", png((320, 240)), "image/png"),
        mask=("m.png", mask_png((320, 240)), "image/png"),
    )
    assert decoded(result.data[0].b64_json).size == (320, 240)
    [fields] = sent(emu)
    assert fields["input"]["function"] == "description_edit_with_mask"
    assert isinstance(fields["input"]["mask_image_url"], str | dict)
    edits = sdk.images.edit(
        model="dashscope/wanx2.1-imageedit",
        prompt="watercolour",
        image=("a.png", png((320, 240)), "image/png"),
        extra_body={"provider_params": json.dumps({"function": "stylization_all"})},
    )
    assert len(edits.data) == 1
    assert sent(emu)[1]["input"]["function"] == "stylization_all"


def test_the_catalogue(gw: RunningGateway) -> None:
    with gw.client() as http:
        providers = http.get("/v1/providers").json()["data"]
    [dashscope] = [p for p in providers if p["id"] == "dashscope"]
    cards = {m["id"]: m for m in dashscope["models"]}
    assert set(cards) == set(MODELS)
    assert cards["qwen-image"]["sizes"] == ["1664x928", "1472x1140", "1328x1328", "1140x1472",
                                           "928x1664"]  # fmt: skip
    assert cards["wanx2.1-imageedit"]["provider_params_schema"]["function"]["enum"][0] == (
        "description_edit"
    )
    assert cards["wan2.5-i2i-preview"]["requires_input_image"] is True


# --- refused before anything is sent ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "says"),
    [
        ({"size": "2000x1000"}, "size", "512-1440"),
        ({"size": "512x512", "model": "dashscope/wan2.5-t2i-preview"}, "size", "768x768"),
        ({"size": "2400x560", "model": "dashscope/wan2.5-t2i-preview"}, "size", "1:4"),
        ({"aspect_ratio": "1:5", "model": "dashscope/wan2.5-t2i-preview"}, "aspect_ratio", "1:4"),
        ({"size": "1024x1024", "model": "dashscope/qwen-image"}, "size", "1328x1328"),
        ({"size": "1024x1024", "aspect_ratio": "1:1"}, "aspect_ratio", "not both"),
        ({"seed": 2**31}, "seed", "2147483647"),
        ({"provider_params": {"prompt_extend": "yes"}}, "provider_params.prompt_extend", "true"),
        ({"provider_params": {"function": "x"}}, "provider_params.function", "accepted"),
        ({"quality": "hd"}, "quality", "not supported"),
        ({"output_format": "webp"}, "output_format", "png"),
        ({"model": "dashscope/wan2.5-i2i-preview"}, "model", "input image"),
    ],
)
def test_what_a_model_cannot_honour_is_a_400_naming_it(
    gw: RunningGateway, emu: DashScopeEmulator, body: dict[str, Any], param: str, says: str
) -> None:
    resp = generate(gw, **body)
    assert resp.status_code == 400, resp.text[:300]
    error = resp.json()["error"]
    assert error["param"] == param, error
    assert says in error["message"], error
    assert emu.stats()["requests"]["submit"] == 0


@pytest.mark.parametrize(
    ("model", "extra", "param"),
    [
        ("wan2.5-i2i-preview", {"mask": ("m.png", mask_png((64, 64)), "image/png")}, "mask"),
        (
            "wanx2.1-imageedit",
            {"provider_params": '{"function": "description_edit_with_mask"}'},
            "mask",
        ),
        ("wanx2.1-imageedit", {"mask": ("m.png", mask_png((32, 32)), "image/png")}, "mask"),
        (  # only description_edit_with_mask reads a mask: DashScope would leave this one unread
            "wanx2.1-imageedit",
            {
                "mask": ("m.png", mask_png((64, 64)), "image/png"),
                "provider_params": '{"function": "stylization_local"}',
            },
            "mask",
        ),
        ("wan2.2-t2i-flash", {}, "model"),
    ],
)
def test_edits_a_model_cannot_make_are_refused(
    gw: RunningGateway, emu: DashScopeEmulator, model: str, extra: dict[str, Any], param: str
) -> None:
    files: dict[str, Any] = {"image": ("a.png", png((64, 64)), "image/png")}
    data = {"model": f"dashscope/{model}", "prompt": "edit"}
    for name, value in extra.items():
        if isinstance(value, tuple):
            files[name] = value
        else:
            data[name] = value
    with gw.client() as http:
        resp = http.post("/v1/images/edits", data=data, files=files)
    assert resp.status_code == 400, resp.text[:300]
    assert resp.json()["error"]["param"] == param
    assert emu.stats()["requests"]["submit"] == 0


# --- DashScope's failure forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "n", "status", "code", "submissions"),
    [
        ("a [moderate] scene", 1, 400, "content_policy_violation", 0),  # refused at submission
        ("a [moderate-output] scene", 1, 400, "content_policy_violation", 1),  # FAILED task
        ("a [moderate-one] scene", 1, 400, "content_policy_violation", 1),  # its only result
        ("a [fail] scene", 1, 502, "generation_failed", 1),
        ("a [canceled] scene", 1, 502, "generation_failed", 1),  # canceled by another caller
    ],
)
def test_refusals_and_failed_tasks(
    gw: RunningGateway,
    emu: DashScopeEmulator,
    prompt: str,
    n: int,
    status: int,
    code: str,
    submissions: int,
) -> None:
    resp = generate(gw, prompt=prompt, n=n)
    assert resp.status_code == status, resp.text[:300]
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == (code, "dashscope")
    assert emu.stats()["submissions"] == submissions
    assert emu.stats()["requests"]["submit"] == 1  # never sent again
    if code == "generation_failed":
        assert UNKNOWN_OUTCOME in error["message"]
        assert ("InternalError" if "[fail]" in prompt else "canceled") in error["message"]


def test_one_failed_result_leaves_the_others(gw: RunningGateway, emu: DashScopeEmulator) -> None:
    resp = generate(gw, prompt="a [moderate-one] scene", n=3)
    assert resp.status_code == 200, resp.text[:300]
    assert len(resp.json()["data"]) == 2
    assert emu.stats()["results_served"] == 2


def _error(status: int, code: str, times: int = 1) -> dict[str, Any]:
    body = {"request_id": "r", "code": code, "message": "m"}
    return {"match": "submit", "status": status, "body": body, "times": times}


@pytest.mark.parametrize(
    ("fault", "status", "code", "sends"),
    [
        (_error(400, "InvalidParameter"), 400, "InvalidParameter", 1),
        (_error(400, "DataInspectionFailed"), 400, "content_policy_violation", 1),
        (_error(400, "IPInfringementSuspect"), 400, "content_policy_violation", 1),
        (_error(400, "Arrearage"), 402, "provider_quota_exhausted", 1),
        (_error(429, "Throttling.AllocationQuota"), 402, "provider_quota_exhausted", 1),
        (_error(401, "InvalidApiKey"), 502, "provider_auth_failed", 1),
        (_error(403, "AccessDenied.Unpurchased"), 502, "provider_auth_failed", 1),
        (_error(429, "Throttling", times=3), 429, "provider_rate_limited", 2),
        (_error(500, "InternalError", times=2), 502, "upstream_error", 2),
    ],
)
def test_dashscopes_error_codes_end_as_the_right_error(
    gw: RunningGateway,
    emu: DashScopeEmulator,
    fault: dict[str, Any],
    status: int,
    code: str,
    sends: int,
) -> None:
    emu.add_faults([fault])
    resp = generate(gw)
    assert resp.status_code == status, resp.text[:300]
    assert resp.json()["error"]["code"] == code
    assert emu.stats()["requests"]["submit"] == sends


def test_the_rate_limit_passes_its_retry_hint(gw: RunningGateway, emu: DashScopeEmulator) -> None:
    emu.scenario("rate_limited", times=3)
    resp = generate(gw)
    assert resp.status_code == 429, resp.text[:300]
    assert resp.json()["error"]["code"] == "provider_rate_limited"
    assert resp.headers["retry-after"] == "1"


def test_a_wrong_key_is_provider_auth_failed(emu: DashScopeEmulator, tmp_path: Path) -> None:
    settings = settings_for(emu, dashscope_api_key="sk-wrong-key-0123456789")
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text[:300]
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "DASHSCOPE_API_KEY" in error["message"]
    assert "wrong-key" not in resp.text
    assert emu.stats()["auth_failures"] == 1


def test_a_result_on_an_untrusted_host_is_not_fetched(
    emu: DashScopeEmulator, tmp_path: Path
) -> None:
    with serve_gateway(tmp_path, **settings_for(emu, dashscope_trusted_hosts=[])) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 502, resp.text[:300]
    assert "DASHSCOPE_TRUSTED_HOSTS" in resp.json()["error"]["message"]
    assert emu.stats()["submissions"] == 1 and emu.stats()["results_served"] == 0


def test_a_task_dashscope_no_longer_knows_is_lost(tmp_path: Path) -> None:
    with DashScopeEmulator(
        api_key=DASHSCOPE_TEST_KEY, generation_seconds=0.05, retention=0.0
    ) as forgetful:
        with serve_gateway(tmp_path, **settings_for(forgetful)) as gateway:
            resp = generate(gateway)
        stats = forgetful.stats()
    assert resp.status_code == 502, resp.text[:300]
    assert resp.json()["error"]["code"] == "task_not_found"
    assert stats["submissions"] == 1 and stats["results_served"] == 0


def test_a_request_stopped_by_its_deadline_cancels_the_pending_task(
    emu: DashScopeEmulator, tmp_path: Path
) -> None:
    emu.app.book.queue_seconds = 60.0  # PENDING all along: DashScope cancels only those
    with serve_gateway(tmp_path, **settings_for(emu, request_deadline_seconds=1.5)) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 504, resp.text[:300]
    for _ in range(40):  # the cancel call runs as the request ends (at most 3 s)
        if emu.stats()["cancels"]:
            break
        time.sleep(0.1)
    assert emu.stats()["cancels"] == 1
    [task_id] = emu.app.book.polls()  # the one task, polled while PENDING
    with httpx.Client(timeout=10) as http:
        task = http.get(
            f"{emu.base_url}/api/v1/tasks/{task_id}",
            headers={"Authorization": f"Bearer {DASHSCOPE_TEST_KEY}"},
        ).json()
    assert task["output"]["task_status"] == "CANCELED"


def test_the_sdk_base_url_form_and_a_workspace(emu: DashScopeEmulator, tmp_path: Path) -> None:
    settings = settings_for(
        emu, dashscope_base_url=emu.base_url + "/api/v1", dashscope_workspace="ws-123"
    )
    with serve_gateway(tmp_path, **settings) as gateway:
        resp = generate(gateway)
    assert resp.status_code == 200, resp.text[:300]
    assert emu.stats()["submissions"] == 1


# --- the emulator's own rules -------------------------------------------------------------------


def test_the_emulator_refuses_a_synchronous_call_a_model_lacks(emu: DashScopeEmulator) -> None:
    key = {"Authorization": f"Bearer {DASHSCOPE_TEST_KEY}"}
    url = f"{emu.base_url}/api/v1/services/aigc/text2image/image-synthesis"
    body = {"input": {"prompt": "x"}, "parameters": {"n": 1}}
    with httpx.Client(timeout=10) as http:
        refused = http.post(url, json={"model": "wan2.5-t2i-preview", **body}, headers=key)
        answered = http.post(url, json={"model": FLASH, **body}, headers=key)
        wrong = http.post(
            url.replace("text2image", "image2image"), json={"model": FLASH, **body}, headers=key
        )
        unknown = http.get(f"{emu.base_url}/api/v1/tasks/nope", headers=key)
        cancel = http.post(f"{emu.base_url}/api/v1/tasks/nope/cancel", headers=key)
    assert refused.status_code == 403 and refused.json()["code"] == "AccessDenied"
    assert answered.status_code == 200
    assert answered.json()["output"]["task_status"] == "SUCCEEDED"
    assert wrong.status_code == 400 and "url error" in wrong.json()["message"]
    assert unknown.json()["output"]["task_status"] == "UNKNOWN"
    assert cancel.status_code == 400 and cancel.json()["code"] == "UnsupportedOperation"
    assert emu.stats()["sync_refused"] == 1


def test_the_emulator_reads_a_mask_only_for_description_edit_with_mask(
    emu: DashScopeEmulator,
) -> None:
    key = {"Authorization": f"Bearer {DASHSCOPE_TEST_KEY}", "X-DashScope-Async": "enable"}
    url = f"{emu.base_url}/api/v1/services/aigc/image2image/image-synthesis"
    image = translate.data_uri(png((64, 64)))

    def submit(emulator: DashScopeEmulator, function: str, **extra: str) -> httpx.Response:
        source = {"prompt": "x", "function": function, "base_image_url": image, **extra}
        body = {"model": "wanx2.1-imageedit", "input": source, "parameters": {"n": 1}}
        with httpx.Client(timeout=10) as http:
            return http.post(url.replace(emu.base_url, emulator.base_url), json=body, headers=key)

    unmasked = submit(emu, "description_edit_with_mask")
    unread = submit(emu, "stylization_local", mask_image_url=image)
    masked = submit(emu, "description_edit_with_mask", mask_image_url=image)
    assert unmasked.status_code == 400 and "input.mask_image_url" in unmasked.json()["message"]
    assert unread.status_code == 400 and "input.mask_image_url" in unread.json()["message"]
    assert masked.status_code == 200, masked.text[:300]
    with DashScopeEmulator(api_key=DASHSCOPE_TEST_KEY, generation_seconds=0.05) as lenient:
        accepted = submit(lenient, "stylization_local", mask_image_url=image)
        assert accepted.status_code == 200, accepted.text[:300]
        assert lenient.stats()["ignored"] == 1  # accepted but never read, as DashScope does


# --- pure translations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields", "size"),
    [
        (FLASH, {}, None),
        (FLASH, {"size": (1280, 720)}, "1280*720"),
        (FLASH, {"aspect_ratio": "16:9"}, "1360*768"),
        (FLASH, {"aspect_ratio": "1:4"}, "512*1440"),
        ("wan2.5-t2i-preview", {"aspect_ratio": "1:1"}, "1280*1280"),
        ("wan2.5-t2i-preview", {"aspect_ratio": "4:1"}, "2560*640"),
        ("qwen-image", {"aspect_ratio": "9:16"}, "928*1664"),
        ("wanx2.1-imageedit", {"size": (512, 512)}, None),
    ],
)
def test_wire_size(model: str, fields: dict[str, Any], size: str | None) -> None:
    task = ImageTask(provider="dashscope", model=model, prompt="p", **fields)
    assert translate.wire_size(task, MODELS[model]) == size


def test_task_answers() -> None:
    running = {"output": {"task_status": "RUNNING", "task_metrics": {"TOTAL": 4, "SUCCEEDED": 1,
               "FAILED": 1}}}  # fmt: skip
    outcome = translate.parse_task(running, [])
    assert isinstance(outcome, Pending) and outcome.progress == 0.5 and outcome.status == "RUNNING"
    assert translate.parse_task({"output": {"task_status": "UNKNOWN"}}, []) is NOT_FOUND
    done = {"output": {"task_status": "SUCCEEDED", "results": [{"url": "https://x/1.png"},
            {"code": "DataInspectionFailed", "message": "m"}]}}  # fmt: skip
    finished = translate.parse_task(done, [])
    assert isinstance(finished, Finished) and len(finished.outputs) == 1
