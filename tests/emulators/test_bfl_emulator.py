"""The BFL emulator over real sockets: flow, validation, limits, markers, faults, counters."""

from __future__ import annotations

import argparse
import base64
import io
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from emulators.bfl import ENDPOINTS, BFLEmulator, add_cli_arguments
from emulators.kit.faults import FAKE_IMAGES
from emulators.kit.server import bind_socket

KEY = "bfl_test-canary-bfl-4d8e2a6c0f"
GEN = 0.2


def png_b64(width: int, height: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (1, 2, 3)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def emu() -> Iterator[BFLEmulator]:
    with BFLEmulator(api_key=KEY, generation_seconds=GEN, poll_host="localhost") as e:
        yield e


@pytest.fixture(scope="module")
def instant() -> Iterator[BFLEmulator]:
    """Tasks are Ready at once: for output size / format checks."""
    with BFLEmulator(api_key=KEY, generation_seconds=0.0) as e:
        yield e


@pytest.fixture(autouse=True)
def _reset(emu: BFLEmulator, instant: BFLEmulator) -> None:
    emu.reset()
    instant.reset()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(headers={"x-key": KEY}, timeout=5) as c:
        yield c


def submit(c: httpx.Client, e: BFLEmulator, endpoint: str, body: dict[str, Any]) -> httpx.Response:
    return c.post(f"{e.base_url}/v1/{endpoint}", json=body)


def run_to_end(
    c: httpx.Client, e: BFLEmulator, endpoint: str, body: dict[str, Any]
) -> dict[str, Any]:
    r = submit(c, e, endpoint, body)
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 3
    while True:
        result: dict[str, Any] = c.get(r.json()["polling_url"]).json()
        if result["status"] != "Pending" or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def download(c: httpx.Client, e: BFLEmulator, endpoint: str, body: dict[str, Any]) -> Image.Image:
    result = run_to_end(c, e, endpoint, body)
    assert result["status"] == "Ready", result
    r = httpx.get(result["result"]["sample"])
    assert r.status_code == 200
    return Image.open(io.BytesIO(r.content))


# --- happy path and the polling URL ------------------------------------------------------------


def test_submit_poll_ready_and_download(emu: BFLEmulator, client: httpx.Client) -> None:
    r = submit(
        client,
        emu,
        "flux-pro-1.1",
        {
            "prompt": "a cat",
            "width": 512,
            "height": 256,
            "output_format": "png",
            "seed": 7,
            "unknown": 1,
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"id", "polling_url", "cost", "input_mp", "output_mp"}
    assert body["polling_url"].endswith(f"/v1/get_result?id={body['id']}")
    assert body["cost"] == 4.0 and body["output_mp"] == 0.13 and body["input_mp"] == 0.0

    first = client.get(body["polling_url"]).json()
    assert first["status"] == "Pending" and first["result"] is None
    assert 0.0 <= first["progress"] < 1.0
    assert set(first) == {"id", "status", "result", "progress", "details", "preview"}
    time.sleep(GEN + 0.05)
    ready = client.get(body["polling_url"]).json()
    assert ready["status"] == "Ready"
    result = ready["result"]
    assert result["prompt"] == "a cat" and result["seed"] == 7
    assert result["end_time"] - result["start_time"] == pytest.approx(GEN)

    sample = httpx.get(result["sample"])  # signed URL: no x-key
    assert sample.status_code == 200 and sample.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(sample.content))
    assert (img.format, img.size) == ("PNG", (512, 256))

    stats = emu.stats()
    assert stats["submits"] == 1 and stats["submits_by_endpoint"] == {"/v1/flux-pro-1.1": 1}
    assert stats["polls"] == 2 and stats["polls_by_task"] == {body["id"]: 2}
    assert stats["samples"] == 1 and stats["sample_requests_with_key"] == 0
    assert stats["last_submit"]["json"]["unknown"] == 1
    assert stats["active"] == 0 and stats["max_active"] == 1


def test_polling_url_is_another_listener(emu: BFLEmulator, client: httpx.Client) -> None:
    body = submit(client, emu, "flux-dev", {"prompt": "x"}).json()
    poll, api = urlsplit(body["polling_url"]), urlsplit(emu.base_url)
    assert poll.hostname == "localhost" and api.hostname == "127.0.0.1"
    assert poll.port != api.port
    assert client.get(f"{emu.base_url}/v1/get_result", params={"id": body["id"]}).status_code == 404
    assert client.post(f"{emu.poll_base_url}/v1/flux-dev", json={"prompt": "x"}).status_code == 404
    # The polling listener answers for the task (Ready once GEN has passed on a loaded machine).
    assert client.get(body["polling_url"]).json()["status"] in {"Pending", "Ready"}
    missing_id = client.get(f"{emu.poll_base_url}/v1/get_result")
    assert missing_id.status_code == 422
    assert missing_id.json()["detail"][0]["loc"] == ["query", "id"]


def test_every_endpoint_accepts_a_minimal_request(emu: BFLEmulator, client: httpx.Client) -> None:
    image = png_b64(64, 64)
    for ep in ENDPOINTS.values():
        body: dict[str, Any] = {"prompt": "x"}
        if ep.family in ("fill", "expand"):
            body["image"] = image
        if ep.name.endswith("-finetuned"):
            body["finetune_id"] = "my-lora"
        r = client.post(emu.base_url + ep.path, json=body)
        assert r.status_code == 200, (ep.path, r.text)
    assert emu.stats()["submits"] == len(ENDPOINTS) == 16


def test_credits_endpoint(emu: BFLEmulator, client: httpx.Client) -> None:
    before = client.get(f"{emu.base_url}/v1/credits").json()["credits"]
    submit(client, emu, "flux-kontext-max", {"prompt": "x"})
    assert client.get(f"{emu.base_url}/v1/credits").json()["credits"] == before - 8


# --- auth -----------------------------------------------------------------------------------


def test_auth_missing_and_wrong_key(emu: BFLEmulator) -> None:
    url = f"{emu.base_url}/v1/flux-pro-1.1"
    missing = httpx.post(url, json={"prompt": "x"})
    assert missing.status_code == 403 and missing.json() == {"detail": "Not authenticated"}
    wrong = httpx.post(url, json={"prompt": "x"}, headers={"x-key": "bfl_wrong-secret"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "Invalid API key"}
    assert "bfl_wrong-secret" not in wrong.text
    # auth is checked before body validation, as FastAPI dependencies are
    assert httpx.post(url, json={"width": 1}).status_code == 403
    assert httpx.post(url, json={"prompt": "x"}, headers={"X-KEY": KEY}).status_code == 200
    poll = httpx.get(f"{emu.poll_base_url}/v1/get_result", params={"id": "x"})
    assert poll.status_code == 403
    assert httpx.get(f"{emu.base_url}/v1/credits", headers={"x-key": "nope"}).status_code == 401
    assert emu.stats()["auth_failures"] == 5
    assert emu.stats()["submits"] == 1


# --- validation -------------------------------------------------------------------------------

CASES: list[tuple[str, dict[str, Any], list[Any], str]] = [
    ("flux-pro-1.1", {"prompt": "x", "width": 1472}, ["body", "width"], "less_than_equal"),
    ("flux-pro-1.1", {"prompt": "x", "width": 224}, ["body", "width"], "greater_than_equal"),
    ("flux-pro-1.1", {"prompt": "x", "height": 500}, ["body", "height"], "multiple_of"),
    ("flux-pro-1.1", {"prompt": "x", "width": "wide"}, ["body", "width"], "int_parsing"),
    ("flux-pro-1.1", {"prompt": "x", "width": None}, ["body", "width"], "int_type"),
    (
        "flux-pro-1.1",
        {"prompt": "x", "safety_tolerance": 7},
        ["body", "safety_tolerance"],
        "less_than_equal",
    ),
    ("flux-pro-1.1", {"prompt": "x", "output_format": "gif"}, ["body", "output_format"], "enum"),
    (
        "flux-pro-1.1",
        {"prompt": "x", "webhook_url": "not a url"},
        ["body", "webhook_url"],
        "url_parsing",
    ),
    (
        "flux-pro-1.1",
        {"prompt": "x", "image_prompt": "https://e.com/a.png"},
        ["body", "image_prompt"],
        "value_error",
    ),
    ("flux-dev", {"prompt": "x", "steps": 0}, ["body", "steps"], "greater_than_equal"),
    ("flux-dev", {"prompt": "x", "guidance": 5.5}, ["body", "guidance"], "less_than_equal"),
    ("flux-dev", {"prompt": None}, ["body", "prompt"], "string_type"),
    (
        "flux-pro-1.1-ultra",
        {"prompt": "x", "aspect_ratio": "16x9"},
        ["body", "aspect_ratio"],
        "value_error",
    ),
    (
        "flux-pro-1.1-ultra",
        {"prompt": "x", "aspect_ratio": "1:3"},
        ["body", "aspect_ratio"],
        "value_error",
    ),
    (
        "flux-pro-1.1-ultra",
        {"prompt": "x", "image_prompt_strength": 1.5},
        ["body", "image_prompt_strength"],
        "less_than_equal",
    ),
    ("flux-kontext-pro", {"input_image": "https://e.com/a.png"}, ["body", "prompt"], "missing"),
    (
        "flux-kontext-max",
        {"prompt": "x", "aspect_ratio": "22:9"},
        ["body", "aspect_ratio"],
        "value_error",
    ),
    (
        "flux-kontext-pro",
        {"prompt": "x", "input_image": "ftp://e.com/a.png"},
        ["body", "input_image"],
        "value_error",
    ),
    (
        "flux-kontext-pro",
        {"prompt": "x", "input_image": "bm90IGFuIGltYWdl"},
        ["body", "input_image"],
        "value_error",
    ),
    ("flux-pro-1.0-fill", {"prompt": "x"}, ["body", "image"], "missing"),
    ("flux-pro-1.0-fill", {"image": "https://e.com/a.png"}, ["body", "image"], "value_error"),
    (
        "flux-pro-1.0-fill",
        {"image": png_b64(64, 64), "mask": png_b64(32, 32)},
        ["body", "mask"],
        "value_error",
    ),
    (
        "flux-pro-1.0-expand",
        {"image": png_b64(64, 64), "top": 2049},
        ["body", "top"],
        "less_than_equal",
    ),
    (
        "flux-pro-1.0-expand",
        {"image": png_b64(64, 64), "steps": 14},
        ["body", "steps"],
        "greater_than_equal",
    ),
    ("flux-pro-1.1-ultra-finetuned", {"prompt": "x"}, ["body", "finetune_id"], "missing"),
    (
        "flux-pro-1.0-fill-finetuned",
        {"finetune_id": "f", "image": png_b64(64, 64), "finetune_strength": 2.5},
        ["body", "finetune_strength"],
        "less_than_equal",
    ),
    ("flux-2-pro", {"width": 1024}, ["body", "prompt"], "missing"),
    ("flux-2-pro", {"prompt": "x", "width": 48}, ["body", "width"], "greater_than_equal"),
    ("flux-2-pro", {"prompt": "x", "width": 0}, ["body", "width"], "greater_than_equal"),
    ("flux-2-max", {"prompt": "x", "width": 1000}, ["body", "width"], "multiple_of"),
    ("flux-2-pro", {"prompt": "x", "width": 4096, "height": 2048}, ["body"], "value_error"),
    (
        "flux-2-pro",
        {"prompt": "x", "safety_tolerance": 6},
        ["body", "safety_tolerance"],
        "less_than_equal",
    ),
    ("flux-2-flex", {"prompt": "x", "guidance": 11}, ["body", "guidance"], "less_than_equal"),
    (
        "flux-2-klein-4b",
        {"prompt": "x", "output_format": "JPEG"},
        ["body", "output_format"],
        "enum",
    ),
]


@pytest.mark.parametrize(("endpoint", "body", "loc", "kind"), CASES)
def test_validation_422(
    emu: BFLEmulator,
    client: httpx.Client,
    endpoint: str,
    body: dict[str, Any],
    loc: list[Any],
    kind: str,
) -> None:
    r = submit(client, emu, endpoint, body)
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert any(e["loc"] == loc and e["type"] == kind and e["msg"] for e in errors), errors
    assert emu.stats()["submits"] == 0 and emu.stats()["rejected_422"] == 1


def test_malformed_json_is_fastapi_422(emu: BFLEmulator, client: httpx.Client) -> None:
    r = client.post(
        f"{emu.base_url}/v1/flux-2-pro",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"


def test_url_inputs_are_recorded_not_fetched(emu: BFLEmulator, client: httpx.Client) -> None:
    trap = bind_socket()
    trap.setblocking(False)
    url = f"http://127.0.0.1:{trap.getsockname()[1]}/ref.png"
    try:
        body = {
            "prompt": "x",
            "input_image": url,
            "input_image_2": png_b64(64, 64),
            "webhook_url": "https://hooks.example.com/bfl",
        }
        r = submit(client, emu, "flux-2-pro", body)
        assert r.status_code == 200
        time.sleep(0.1)
        with pytest.raises(BlockingIOError):
            trap.accept()
    finally:
        trap.close()
    stats = emu.stats()
    assert stats["last_submit"]["json"]["input_image"] == url
    assert stats["webhook_urls"] == ["https://hooks.example.com/bfl"]
    assert set(r.json()) == {"id", "polling_url", "cost", "input_mp", "output_mp"}


# --- output size, format and cost -------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "body", "size", "fmt"),
    [
        ("flux-pro-1.1", {"prompt": "x"}, (1024, 768), "JPEG"),
        ("flux-pro-1.1-ultra", {"prompt": "x", "aspect_ratio": "21:9"}, (1568, 672), "JPEG"),
        ("flux-kontext-pro", {"prompt": "x"}, (1024, 1024), "PNG"),
        (
            "flux-kontext-max",
            {"prompt": "x", "aspect_ratio": "9:16", "output_format": "webp"},
            (768, 1376),
            "WEBP",
        ),
        ("flux-2-pro", {"prompt": "x"}, (1024, 1024), "JPEG"),
        ("flux-2-klein-9b", {"prompt": "x", "width": 320, "height": 144}, (320, 144), "JPEG"),
        ("flux-pro-1.0-fill", {"image": png_b64(96, 64)}, (96, 64), "JPEG"),
        (
            "flux-pro-1.0-expand",
            {"image": png_b64(96, 64), "top": 10, "left": 4, "right": 6},
            (106, 74),
            "JPEG",
        ),
    ],
)
def test_output_size_and_format(
    instant: BFLEmulator,
    client: httpx.Client,
    endpoint: str,
    body: dict[str, Any],
    size: tuple[int, int],
    fmt: str,
) -> None:
    img = download(client, instant, endpoint, body)
    assert (img.size, img.format) == (size, fmt)


def test_flux2_megapixel_pricing(instant: BFLEmulator, client: httpx.Client) -> None:
    one = submit(client, instant, "flux-2-pro", {"prompt": "x"}).json()
    assert (one["cost"], one["output_mp"], one["input_mp"]) == (3.0, 1.05, 0.0)
    two = submit(client, instant, "flux-2-pro", {"prompt": "x", "width": 2048, "height": 1024})
    assert two.json()["cost"] == 4.5
    edit = submit(client, instant, "flux-2-max", {"prompt": "x", "input_image": png_b64(1024, 512)})
    assert edit.json()["cost"] == 8.5 and edit.json()["input_mp"] == 0.52


def test_insufficient_credits_402() -> None:
    with BFLEmulator(api_key=KEY, credits=10) as e, httpx.Client(headers={"x-key": KEY}) as c:
        assert submit(c, e, "flux-kontext-max", {"prompt": "x"}).status_code == 200
        r = submit(c, e, "flux-kontext-max", {"prompt": "x"})
        assert r.status_code == 402 and r.json() == {"detail": "Insufficient credits"}
        assert c.get(f"{e.base_url}/v1/credits").json() == {"credits": 2.0}
        assert e.stats()["submits"] == 1 and e.stats()["rejected_402"] == 1


# --- signed sample URLs -----------------------------------------------------------------------


def test_sample_url_expires_and_checks_signature(client: httpx.Client) -> None:
    # 2 s: long enough that a loaded machine still fetches it before it expires (0.3 s was not).
    with BFLEmulator(api_key=KEY, generation_seconds=0.0, sample_ttl=2.0) as e:
        result = run_to_end(client, e, "flux-dev", {"prompt": "x"})
        url = result["result"]["sample"]
        assert urlsplit(url).port == urlsplit(e.poll_base_url).port
        assert httpx.get(url).status_code == 200
        bad_sig = httpx.get(url[:-4] + "0000")
        assert bad_sig.status_code == 403 and b"AuthenticationFailed" in bad_sig.content
        assert httpx.get(url.replace("w=1024", "w=2048")).status_code == 403
        expires = float(parse_qs(urlsplit(url).query)["se"][0])  # unix seconds
        time.sleep(max(0.0, expires - time.time()) + 0.05)
        expired = httpx.get(url)
        assert expired.status_code == 403 and expired.headers["content-type"] == "application/xml"
        assert b"Signed expiry time" in expired.content
        assert e.stats()["samples"] == 1


# --- concurrency limits -----------------------------------------------------------------------


def test_concurrency_limit_and_separate_kontext_max_pool(client: httpx.Client) -> None:
    with BFLEmulator(
        api_key=KEY, generation_seconds=0.4, concurrency_limit=2, kontext_max_limit=1
    ) as e:
        assert submit(client, e, "flux-pro-1.1", {"prompt": "x"}).status_code == 200
        assert submit(client, e, "flux-2-pro", {"prompt": "x"}).status_code == 200
        limited = submit(client, e, "flux-dev", {"prompt": "x"})
        assert limited.status_code == 429 and "detail" in limited.json()
        assert int(limited.headers["retry-after"]) >= 1
        assert submit(client, e, "flux-kontext-max", {"prompt": "x"}).status_code == 200
        assert submit(client, e, "flux-kontext-max", {"prompt": "x"}).status_code == 429
        stats = e.stats()
        assert (stats["rejected_429"], stats["active"], stats["max_active"]) == (2, 3, 3)
        time.sleep(0.45)
        assert submit(client, e, "flux-dev", {"prompt": "x"}).status_code == 200
        assert submit(client, e, "flux-kontext-max", {"prompt": "x"}).status_code == 200
        assert e.stats()["active"] == 2


def test_limits_can_be_disabled(client: httpx.Client) -> None:
    with BFLEmulator(api_key=KEY, concurrency_limit=None, kontext_max_limit=None) as e:
        for _ in range(30):
            assert submit(client, e, "flux-kontext-max", {"prompt": "x"}).status_code == 200
        assert e.stats()["active"] == 30


# --- status markers ---------------------------------------------------------------------------


def test_markers(emu: BFLEmulator, client: httpx.Client) -> None:
    ids = {
        m: submit(client, emu, "flux-pro-1.1", {"prompt": f"p {m}"}).json()["polling_url"]
        for m in ("[moderate-request]", "[moderate-content]", "[error]", "[never-ready]")
    }
    assert client.get(ids["[moderate-request]"]).json()["status"] == "Request Moderated"
    assert client.get(ids["[moderate-content]"]).json()["status"] == "Pending"
    assert client.get(ids["[error]"]).json()["status"] == "Pending"
    time.sleep(GEN + 0.05)
    content = client.get(ids["[moderate-content]"])
    assert content.status_code == 200 and content.json()["status"] == "Content Moderated"
    assert content.json()["result"] is None and content.json()["details"]["Moderation Reasons"]
    error = client.get(ids["[error]"]).json()
    assert error["status"] == "Error" and error["details"]["error"]
    assert client.get(ids["[never-ready]"]).json()["status"] == "Pending"
    assert emu.stats()["active"] == 1  # the never-ready task


def test_task_not_found_is_200(emu: BFLEmulator, client: httpx.Client) -> None:
    r = client.get(f"{emu.poll_base_url}/v1/get_result", params={"id": "no-such-task"})
    assert r.status_code == 200
    assert r.json() == {
        "id": "no-such-task",
        "status": "Task not found",
        "result": None,
        "progress": None,
        "details": None,
        "preview": None,
    }


def test_old_tasks_are_dropped(client: httpx.Client) -> None:
    with BFLEmulator(api_key=KEY, generation_seconds=0.0, max_tasks=3) as e:
        urls = [
            submit(client, e, "flux-dev", {"prompt": "x"}).json()["polling_url"] for _ in range(5)
        ]
        assert client.get(urls[0]).json()["status"] == "Task not found"
        assert client.get(urls[-1]).json()["status"] == "Ready"
        assert e.stats()["tasks"] == 3


# --- faults -----------------------------------------------------------------------------------


def add_faults(e: BFLEmulator, *faults: dict[str, Any], listener: str = "base") -> None:
    base = e.base_url if listener == "base" else e.poll_base_url
    r = httpx.post(f"{base}/_emulator/faults", json={"faults": list(faults)})
    assert r.status_code == 200, r.text


def test_fault_status_headers_body(emu: BFLEmulator, client: httpx.Client) -> None:
    add_faults(
        emu,
        {
            "match": "submit",
            "status": 503,
            "headers": {"Retry-After": "2"},
            "body": {"detail": "overloaded"},
            "times": 2,
        },
    )
    for _ in range(2):
        r = submit(client, emu, "flux-pro-1.1", {"prompt": "x"})
        assert r.status_code == 503 and r.headers["retry-after"] == "2"
        assert r.json() == {"detail": "overloaded"}
    assert submit(client, emu, "flux-pro-1.1", {"prompt": "x"}).status_code == 200
    assert emu.stats()["faults_triggered"] == 2 and emu.stats()["submits"] == 1


def test_fault_matches_only_its_kind(emu: BFLEmulator, client: httpx.Client) -> None:
    add_faults(emu, {"match": "poll", "status": 500}, listener="poll")
    url = submit(client, emu, "flux-pro-1.1", {"prompt": "x"}).json()["polling_url"]
    failed = client.get(url)
    assert failed.status_code == 500 and failed.json() == {"detail": "Internal Server Error"}
    assert client.get(url).json()["status"] == "Pending"


@pytest.mark.parametrize("fake", sorted(FAKE_IMAGES))
def test_fault_image_replaces_the_sample(emu: BFLEmulator, client: httpx.Client, fake: str) -> None:
    add_faults(emu, {"match": "sample", "image": fake})
    result = run_to_end(client, emu, "flux-dev", {"prompt": "x", "output_format": "png"})
    sample = httpx.get(result["result"]["sample"])
    assert sample.status_code == 200 and sample.headers["content-type"] == "image/png"
    assert sample.content == FAKE_IMAGES[fake]
    again = httpx.get(result["result"]["sample"])
    assert again.content.startswith(b"\x89PNG\r\n\x1a\n") and again.content != FAKE_IMAGES[fake]


def test_fault_malformed_body(emu: BFLEmulator, client: httpx.Client) -> None:
    url = submit(client, emu, "flux-pro-1.1", {"prompt": "x"}).json()["polling_url"]
    add_faults(
        emu,
        {"match": "poll", "status": 200, "body": '{"status": "Rea'},
        {"match": "any", "status": 502, "body": "<html>Bad Gateway</html>"},
    )
    broken = client.get(url)
    assert broken.status_code == 200 and broken.content == b'{"status": "Rea'
    with pytest.raises(ValueError):
        broken.json()
    html = client.get(f"{emu.base_url}/v1/credits")
    assert html.status_code == 502 and html.headers["content-type"].startswith("text/html")


def test_fault_delay(emu: BFLEmulator, client: httpx.Client) -> None:
    add_faults(emu, {"match": "submit", "delay": 0.3})
    t0 = time.monotonic()
    assert submit(client, emu, "flux-pro-1.1", {"prompt": "x"}).status_code == 200
    assert time.monotonic() - t0 >= 0.3


def test_fault_stall_times_out_without_blocking_others(emu: BFLEmulator) -> None:
    add_faults(emu, {"match": "submit", "stall": True})
    outcome: list[BaseException] = []

    def stalled() -> None:
        try:
            httpx.post(
                f"{emu.base_url}/v1/flux-pro-1.1",
                json={"prompt": "x"},
                headers={"x-key": KEY},
                timeout=3.0,
            )
        except httpx.TimeoutException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=stalled)
    thread.start()
    time.sleep(0.1)
    ok = httpx.post(f"{emu.base_url}/v1/flux-pro-1.1", json={"prompt": "x"}, headers={"x-key": KEY})
    # Answered while the stalled request still hangs (not timed against the clock: a loaded
    # machine took 0.59 s for it where 0.5 s was asserted).
    assert ok.status_code == 200 and thread.is_alive() and not outcome
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.ReadTimeout)


def test_fault_reset_is_a_transport_error(emu: BFLEmulator, client: httpx.Client) -> None:
    add_faults(emu, {"match": "sample", "reset": True}, listener="poll")
    add_faults(emu, {"match": "submit", "reset": True})
    with pytest.raises(httpx.TransportError):
        submit(client, emu, "flux-pro-1.1", {"prompt": "x"})
    assert emu.stats()["submits"] == 0
    result = run_to_end(client, emu, "flux-pro-1.1", {"prompt": "x"})
    with pytest.raises(httpx.TransportError):
        httpx.get(result["result"]["sample"])
    assert httpx.get(result["result"]["sample"]).status_code == 200


def test_fault_accept_then_reset(emu: BFLEmulator, client: httpx.Client) -> None:
    add_faults(emu, {"match": "submit", "accept_then_reset": True})
    with pytest.raises(httpx.TransportError):
        submit(client, emu, "flux-2-pro", {"prompt": "x"})
    stats = emu.stats()
    assert stats["submits"] == 1 and stats["tasks"] == 1 and stats["active"] == 1
    assert stats["submits_by_endpoint"] == {"/v1/flux-2-pro": 1}


def test_fault_control_surface(emu: BFLEmulator, client: httpx.Client) -> None:
    bad = httpx.post(f"{emu.base_url}/_emulator/faults", json={"faults": [{"match": "nope"}]})
    assert bad.status_code == 400
    add_faults(emu, {"match": "submit", "status": 500, "times": 5}, listener="poll")
    assert len(httpx.get(f"{emu.base_url}/_emulator/faults").json()["faults"]) == 1
    assert httpx.delete(f"{emu.poll_base_url}/_emulator/faults").json() == {"cleared": 1}
    assert submit(client, emu, "flux-pro-1.1", {"prompt": "x"}).status_code == 200
    stats = httpx.get(f"{emu.poll_base_url}/_emulator/stats").json()
    assert stats["submits"] == 1 and stats["faults_triggered"] == 0
    for key in (
        "submits_by_endpoint",
        "polls",
        "polls_by_task",
        "samples",
        "active",
        "max_active",
        "rejected_429",
        "auth_failures",
        "last_submit",
        "webhook_urls",
    ):
        assert key in stats
    assert httpx.post(f"{emu.base_url}/_emulator/reset").json() == {"ok": True}
    assert emu.stats()["submits"] == 0 and emu.stats()["tasks"] == 0


def test_sample_request_with_key_is_counted(instant: BFLEmulator, client: httpx.Client) -> None:
    result = run_to_end(client, instant, "flux-dev", {"prompt": "x"})
    assert client.get(result["result"]["sample"]).status_code == 200
    assert instant.stats()["sample_requests_with_key"] == 1


def test_cli_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    args = parser.parse_args([])
    options = BFLEmulator.standard_options(args)
    assert (options["port"], options["poll_port"], args.concurrency_limit) == (9201, 9202, 24)
    # --port 0 alone: the polling port is any free one too (not the fixed 9202)
    assert BFLEmulator.standard_options(parser.parse_args(["--port", "0"]))["poll_port"] == 0
    args = parser.parse_args(["--concurrency-limit", "0", "--api-key", "k"])
    assert args.concurrency_limit == 0 and args.api_key == "k"
