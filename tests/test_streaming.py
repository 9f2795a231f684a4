"""`stream: true` through the gateway (`api/streaming.py`, `kit/sync.py`'s streaming hook), driven
by the official `openai` SDK's `stream=True` and raw sockets against the real app and the
emulators: OpenAI's partial images relayed, BFL's progress, local's completed event, errors
before and after the first event, and a client that leaves mid-stream."""

from __future__ import annotations

import asyncio
import base64
import io
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
from PIL import Image

from emulators.bfl import BFLEmulator
from image_gateway.api.streaming import SEND_PIECE
from image_gateway.errors import UNKNOWN_OUTCOME
from image_gateway.providers.kit.journal import StreamJournal
from image_gateway.providers.kit.progress import Progress
from tests.admin_helpers import ADMIN_TEST_KEY
from tests.conftest import (
    BFL_TEST_KEY,
    GATEWAY_TEST_KEY,
    OPENAI_TEST_KEY,
    LogCapture,
    OpenAIEmulatorHandle,
    RunningGateway,
)
from tests.usage_helpers import wait_rows

PARTIAL, COMPLETED = "image_generation.partial_image", "image_generation.completed"
PROGRESS = "image_gateway.progress"
GEN = 1.0  # seconds a BFL task takes here: long enough for several progress reports


@pytest.fixture(scope="module")
def slow_bfl() -> Iterator[BFLEmulator]:
    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=GEN) as emulator:
        yield emulator


@pytest.fixture
def bfl(slow_bfl: BFLEmulator) -> BFLEmulator:
    slow_bfl.reset()
    return slow_bfl


@pytest.fixture
def gw(
    start_gateway: Callable[..., RunningGateway], openai_emu: OpenAIEmulatorHandle, bfl: Any
) -> RunningGateway:
    return start_gateway(
        openai_api_key=OPENAI_TEST_KEY,
        openai_base_url=openai_emu.base_url,
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
        stream_keepalive_seconds=0.3,
        admin_api_key=ADMIN_TEST_KEY,
    )


def sdk(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{gw.url}/v1", api_key=GATEWAY_TEST_KEY, max_retries=0, timeout=30
    )


def decode(b64: str | None) -> Image.Image:
    assert b64
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def png(width: int = 64, height: int = 64) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buf, "PNG")
    return buf.getvalue()


def raw_events(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) per frame, comments as (":", text)."""
    frames = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith(":"):
            frames.append((":", lines[0]))
            continue
        fields = dict(line.split(": ", 1) for line in lines)
        frames.append((fields.get("event"), fields["data"]))
    return frames


# --- OpenAI: partial images relayed --------------------------------------------------------


def test_openai_partials_then_completed_via_sdk(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    with sdk(gw) as client:
        events = list(
            client.images.generate(
                model="gpt-image-1", prompt="a fox", stream=True, partial_images=3, quality="low"
            )
        )
    assert [e.type for e in events] == [PARTIAL] * 3 + [COMPLETED]
    assert [getattr(e, "partial_image_index", None) for e in events] == [0, 1, 2, None]
    partial, done = events[0], events[-1]
    assert decode(partial.b64_json).size == (1024, 1024)
    assert partial.size == "1024x1024" and partial.quality == "low"
    assert isinstance(done, openai.types.ImageGenCompletedEvent)
    assert decode(done.b64_json).size == (1024, 1024)
    assert done.output_format == "png" and done.background == "opaque"
    assert done.usage.output_tokens == 272 + 3 * 100  # the emulator's, per image
    extra = done.model_extra or {}
    assert extra["provider"] == "openai" and extra["model"] == "gpt-image-1"
    assert extra["cost"]["usd"] > 0 and extra["attempts"] == 1
    sent = openai_emu.stats()["last_request"]["json"]
    assert sent["stream"] is True and sent["partial_images"] == 3


def test_events_larger_than_a_send_piece_arrive_whole(gw: RunningGateway) -> None:
    """A frame goes out in body messages of `SEND_PIECE` bytes (api/streaming.py): a 1536x1024
    image's base64 is larger than one, and each event still arrives whole and in order, its
    JSON read and its PNG intact (`verify` checks every chunk's CRC)."""
    body = {
        "model": "gpt-image-1",
        "prompt": "x",
        "size": "1536x1024",
        "stream": True,
        "partial_images": 2,
    }
    with gw.client() as http:
        frames = raw_events(http.post("/v1/images/generations", json=body).text)
    assert [name for name, _ in frames] == [PARTIAL, PARTIAL, COMPLETED]
    events = [orjson.loads(data) for _, data in frames]
    assert [e.get("partial_image_index") for e in events] == [0, 1, None]
    for (name, _), event in zip(frames, events, strict=True):
        assert event["type"] == name and len(event["b64_json"]) > SEND_PIECE
        image = decode(event["b64_json"])
        assert image.size == (1536, 1024)
        image.verify()


def test_openai_n2_each_image_has_its_partials_and_completed_event(gw: RunningGateway) -> None:
    """Partials pass through as they come (numbered by `image_index`); the completed events,
    one per image, come once the gateway has checked and priced the whole run."""
    with sdk(gw) as client:
        events = list(
            client.images.generate(
                model="gpt-image-1", prompt="x", n=2, stream=True, partial_images=2
            )
        )
    assert [e.type for e in events] == [PARTIAL] * 4 + [COMPLETED] * 2
    partials = [e for e in events if e.type == PARTIAL]
    assert [(e.model_extra or {})["image_index"] for e in partials] == [0, 0, 1, 1]
    done = [e for e in events if e.type == COMPLETED]
    assert [(e.model_extra or {})["image_index"] for e in done] == [0, 1]
    assert all(e.usage.output_tokens == 1056 + 2 * 100 for e in done)  # type: ignore[union-attr]


def test_each_completed_event_repeats_the_requests_total_cost(gw: RunningGateway) -> None:
    """`cost` is the request's (README, Streaming): the same in every completed event of n=2,
    what the ledger books for the request once, while `usage` is each image's own."""
    body = {"model": "gpt-image-1", "prompt": "x", "n": 2, "stream": True}
    with gw.client() as http:
        frames = raw_events(http.post("/v1/images/generations", json=body).text)
    completed = [orjson.loads(data) for name, data in frames if name == COMPLETED]
    assert [c["image_index"] for c in completed] == [0, 1]
    assert completed[0]["cost"] == completed[1]["cost"] and completed[0]["cost"]["usd"] > 0
    totals = wait_rows(gw, 1)["totals"]
    assert totals["requests"] == 1
    assert totals["cost_usd"] == pytest.approx(completed[0]["cost"]["usd"])


def test_openai_partial_images_0_sends_the_completed_event_only(gw: RunningGateway) -> None:
    with sdk(gw) as client:
        events = list(client.images.generate(model="gpt-image-1", prompt="x", stream=True))
    assert [e.type for e in events] == [COMPLETED]


def test_openai_edit_streams_image_edit_events(gw: RunningGateway) -> None:
    with sdk(gw) as client:
        events = list(
            client.images.edit(
                model="gpt-image-1",
                image=("in.png", png(), "image/png"),
                prompt="make it blue",
                stream=True,
                partial_images=1,
            )
        )
    assert [e.type for e in events] == ["image_edit.partial_image", "image_edit.completed"]
    assert decode(events[-1].b64_json).size == (64, 64)


def test_partials_arrive_before_the_run_ends(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    """Nothing is held back: each partial reaches the client while the emulator is still
    drawing the next (0.4 s apart)."""
    openai_emu.add_faults([{"match": "generate", "stream_interval": 0.4}])
    arrivals = []
    with sdk(gw) as client:
        started = time.monotonic()
        for event in client.images.generate(
            model="gpt-image-1", prompt="x", stream=True, partial_images=2
        ):
            arrivals.append((event.type, time.monotonic() - started))
    assert [name for name, _ in arrivals] == [PARTIAL, PARTIAL, COMPLETED]
    assert arrivals[1][1] - arrivals[0][1] >= 0.3, arrivals


def test_url_response_format_puts_a_link_in_the_completed_event(gw: RunningGateway) -> None:
    body = {"model": "gpt-image-1", "prompt": "x", "stream": True, "response_format": "url"}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
        assert resp.status_code == 200, resp.text
        (name, data), *_ = raw_events(resp.text)
        assert name == COMPLETED
        completed = orjson.loads(data)
        assert "b64_json" not in completed
        image = http.get(completed["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def test_the_readme_snippet_runs_as_written(gw: RunningGateway) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("### Streaming")
    section = readme[start : readme.index("\n## ", start)]
    (snippet,) = re.findall(r"```python\n(.*?)```", section, re.S)
    code = f"KEY = {GATEWAY_TEST_KEY!r}\n" + snippet.replace("http://127.0.0.1:8000", gw.url)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:2]] == [["preview", "0"], ["preview", "1"]]
    assert lines[-1].startswith("done by openai cost {")


# --- every other provider: completed events, progress, keep-alive ---------------------------


def test_bfl_progress_is_a_comment_an_ordinary_sdk_loop_never_sees(gw: RunningGateway) -> None:
    """By default BFL's progress goes as `: image_gateway.progress {...}` comments: the SDK
    yields the completed event only, so a loop written for OpenAI (anything not completed is a
    preview) runs; the raw stream carries the progress, rising."""
    with sdk(gw) as client:
        for ev in client.images.generate(model="bfl-flux/flux-pro-1.1", prompt="x", stream=True):
            if ev.type.endswith("completed"):
                done = ev
            else:  # what an OpenAI-only client does with any other event
                decode(ev.b64_json)
    assert decode(done.b64_json).format in ("JPEG", "PNG")
    body = {"model": "bfl-flux/flux-pro-1.1", "prompt": "x", "stream": True}
    with gw.client() as http:
        frames = raw_events(http.post("/v1/images/generations", json=body).text)
    assert [name for name, _ in frames if name != ":"] == [COMPLETED]
    prefix = ": image_gateway.progress "
    progress = [orjson.loads(text[len(prefix) :]) for n, text in frames if text.startswith(prefix)]
    assert len(progress) >= 2, frames
    fractions = [p["progress"] for p in progress]
    assert fractions == sorted(fractions) and all(0 < f < 1 for f in fractions)
    assert all(p["provider_status"] == "Pending" for p in progress)


def test_bfl_progress_events_when_asked_for_and_the_sdk_goes_on(gw: RunningGateway) -> None:
    """`stream_options: {"include_progress": true}` (the SDK's extra_body) makes them
    `image_gateway.progress` events; the SDK yields them with that `type`."""
    with sdk(gw) as client:
        events = list(
            client.images.generate(
                model="bfl-flux/flux-pro-1.1",
                prompt="x",
                stream=True,
                partial_images=2,
                extra_body={"stream_options": {"include_progress": True}},
            )
        )
    types = [e.type for e in events]
    assert types[-1] == COMPLETED and PARTIAL not in types  # no partials from BFL
    progress = [e.model_extra or {} for e in events if e.type == "image_gateway.progress"]
    assert len(progress) >= 2, types
    fractions = [p["progress"] for p in progress]
    assert fractions == sorted(fractions) and all(0 < f < 1 for f in fractions)
    assert all(p["provider_status"] == "Pending" for p in progress)
    done = events[-1]
    assert decode(done.b64_json).format in ("JPEG", "PNG")
    assert (done.model_extra or {})["provider"] == "bfl-flux"


@pytest.mark.parametrize("include_progress", [False, True])
def test_progress_never_stops_a_fallback(gw: RunningGateway, include_progress: bool) -> None:
    """A BFL task fails at its end, after its progress reached the client: the fallback still
    serves the request (only a partial image, a picture the client saw, ends them)."""
    body = {
        "model": "bfl-flux/flux-pro-1.1",
        "prompt": "x [error]",
        "stream": True,
        "fallbacks": ["local/local-art"],
        "stream_options": {"include_progress": include_progress},
    }
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == 200, resp.text
    frames = raw_events(resp.text)
    progress = [f for f in frames if "image_gateway.progress" in (f[0] or "") + f[1]]
    assert progress, frames  # the client saw progress before the failure
    assert frames[-1][0] == COMPLETED, frames
    completed = orjson.loads(frames[-1][1])
    assert completed["provider"] == "local" and completed["fallback_from"], completed


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"stream_options": {"include_progres": True}}, "stream_options.include_progres"),
        ({"stream_options": {"include_progress": "true"}}, "stream_options.include_progress"),
        ({"stream_options": {"include_progress": 1}}, "stream_options.include_progress"),
        ({"stream_options": True}, "stream_options"),
        ({"stream": False, "stream_options": {"include_progress": True}}, "stream_options"),
    ],
)
def test_bad_stream_options_are_a_400_naming_them(
    gw: RunningGateway, extra: dict[str, Any], param: str
) -> None:
    body = {"model": "local/local-art", "prompt": "x", "stream": True, **extra}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param


def test_dall_e_streams_base64_unless_a_url_is_asked_for(gw: RunningGateway) -> None:
    """DALL·E's JSON default is a URL; in a stream the completed event is base64 (what the
    SDK's `ImageGenCompletedEvent.b64_json: str` expects), a URL only when asked."""
    with sdk(gw) as client:
        events = list(client.images.generate(model="dall-e-3", prompt="x", stream=True))
    assert [e.type for e in events] == [COMPLETED]
    assert decode(events[0].b64_json).format == "PNG"
    assert "url" not in (events[0].model_extra or {})
    body = {"model": "dall-e-3", "prompt": "x", "stream": True, "response_format": "url"}
    with gw.client() as http:
        (name, data), *_ = raw_events(http.post("/v1/images/generations", json=body).text)
    assert name == COMPLETED and "url" in orjson.loads(data) and "b64_json" not in data


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"stream": "yes"}, "stream"),
        ({"stream": "true"}, "stream"),
        ({"stream": 1}, "stream"),
        ({"stream": True, "partial_images": True}, "partial_images"),
        ({"stream": True, "partial_images": "3"}, "partial_images"),
        ({"stream": True, "partial_images": 1.0}, "partial_images"),
    ],
)
def test_stream_and_partial_images_take_their_json_types_only(
    gw: RunningGateway, extra: dict[str, Any], param: str
) -> None:
    body = {"model": "gpt-image-1", "prompt": "x", **extra}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param


def test_a_multipart_edit_takes_true_false_and_digits_only(gw: RunningGateway) -> None:
    files = {"image": ("in.png", png(), "image/png")}
    form = {"model": "gpt-image-1", "prompt": "x"}
    with gw.client() as http:
        for extra, param in [
            ({"stream": "yes"}, "stream"),
            ({"stream": "1"}, "stream"),
            ({"stream": "true", "partial_images": "two"}, "partial_images"),
            ({"stream": "true", "stream_options[include_progress]": "yes"}, "stream_options"),
        ]:
            resp = http.post("/v1/images/edits", data={**form, **extra}, files=files)
            assert resp.status_code == 400, (extra, resp.text)
            assert resp.json()["error"]["param"].startswith(param), resp.text
        resp = http.post(
            "/v1/images/edits",
            data={**form, "stream": "true", "partial_images": "1"},
            files=files,
        )
        assert resp.status_code == 200, resp.text
        assert [n for n, _ in raw_events(resp.text)] == [
            "image_edit.partial_image",
            "image_edit.completed",
        ]
        resp = http.post("/v1/images/edits", data={**form, "stream": "false"}, files=files)
        assert resp.status_code == 200 and resp.json()["data"][0]["b64_json"]


def test_a_quiet_run_gets_keep_alive_comments(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    """A provider silent for 1 s (the keep-alive interval here is 0.3 s): comments keep the
    stream open, then its event comes."""
    openai_emu.add_faults([{"match": "generate", "delay": 1.0}])
    body = {"model": "gpt-image-1", "prompt": "x", "stream": True}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    frames = raw_events(resp.text)
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert (":", ": keep-alive") in frames
    assert frames[-1][0] == COMPLETED


def test_local_answers_one_completed_event(gw: RunningGateway) -> None:
    with sdk(gw) as client:
        events = list(
            client.images.generate(model="local/local-art", prompt="x", size="256x256", stream=True)
        )
    assert [e.type for e in events] == [COMPLETED]
    assert decode(events[0].b64_json).size == (256, 256)
    assert events[0].usage is None  # local reports no tokens: its price is in `cost`


# --- errors ---------------------------------------------------------------------------------


def test_an_error_before_the_first_event_is_an_http_error(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    with sdk(gw) as client:
        with pytest.raises(openai.BadRequestError) as refused:
            list(client.images.generate(model="gpt-image-1", prompt="[moderate] x", stream=True))
        assert refused.value.code == "content_policy_violation"
        with pytest.raises(openai.BadRequestError) as bad:
            client.images.generate(model="gpt-image-1", prompt="x", stream=True, partial_images=4)
        assert bad.value.body["param"] == "partial_images"  # type: ignore[index]


def test_a_retry_before_the_first_event_is_invisible(
    start_gateway: Callable[..., RunningGateway], openai_emu: OpenAIEmulatorHandle
) -> None:
    gw = start_gateway(
        openai_api_key=OPENAI_TEST_KEY,
        openai_base_url=openai_emu.base_url,
        retry_max_attempts=2,
        retry_base_delay_seconds=0.01,
    )
    openai_emu.add_faults([{"match": "generate", "status": 500}])
    with sdk(gw) as client:
        events = list(
            client.images.generate(model="gpt-image-1", prompt="x", stream=True, partial_images=1)
        )
    assert [e.type for e in events] == [PARTIAL, COMPLETED]
    assert (events[-1].model_extra or {})["attempts"] == 2


def test_a_failure_after_the_first_event_is_an_error_event_and_never_retried(
    start_gateway: Callable[..., RunningGateway], openai_emu: OpenAIEmulatorHandle
) -> None:
    gw = start_gateway(
        openai_api_key=OPENAI_TEST_KEY,
        openai_base_url=openai_emu.base_url,
        retry_max_attempts=3,
        retry_base_delay_seconds=0.01,
        admin_api_key=ADMIN_TEST_KEY,
    )
    openai_emu.add_faults([{"match": "generate", "stream_fail_after": 1}])
    seen = []
    with sdk(gw) as client:
        with pytest.raises(openai.APIError) as failed:
            for event in client.images.generate(
                model="gpt-image-1",
                prompt="x",
                stream=True,
                partial_images=2,
                extra_body={"fallbacks": ["local"]},
            ):
                seen.append(event.type)
    assert seen == [PARTIAL]
    assert "failed while streaming" in failed.value.message
    assert "Sorry about that! The outcome is unknown" in failed.value.message  # no "!."
    assert failed.value.body["provider"] == "openai"  # type: ignore[index]
    assert openai_emu.stats()["submissions"] == 1  # no retry, no fallback once it was seen
    rows = wait_rows(gw, 1)["totals"]
    assert rows["requests"] == 1


def test_a_failure_after_the_stream_began_is_logged_and_counted_like_a_json_one(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, gateway_logs: LogCapture
) -> None:
    """The same `upstream failure` warning and `igw_errors_total` sample as a failed JSON
    request, and the access line (status 200) names the outcome in `stream_error`."""

    def errors() -> dict[str, float]:
        with gw.client() as http:
            text = http.get("/metrics").text
        samples = [line.rsplit(" ", 1) for line in text.splitlines()]
        return {name: float(v) for name, v in samples if name.startswith("igw_errors_total{")}

    before = errors()
    openai_emu.add_faults([{"match": "generate", "stream_fail_after": 1}])
    body = {"model": "gpt-image-1", "prompt": "x", "stream": True, "partial_images": 2}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    frames = raw_events(resp.text)
    assert resp.status_code == 200 and frames[-1][0] == "error", frames
    error = orjson.loads(frames[-1][1])["error"]
    code = error["code"]
    request_id = resp.headers["x-request-id"]

    def lines() -> list[dict[str, Any]]:
        found = [orjson.loads(line) for line in list(gateway_logs.lines)]
        return [line for line in found if line.get("request_id") == request_id]

    deadline = time.monotonic() + 5
    while not any(line["logger"] == "image_gateway.access" for line in lines()):
        assert time.monotonic() < deadline, lines()
        time.sleep(0.05)
    (warning,) = [line for line in lines() if line.get("msg") == "upstream failure"]
    assert warning["level"].lower() == "warning" and warning["error_code"] == code
    (access,) = [line for line in lines() if line["logger"] == "image_gateway.access"]
    assert access["status"] == 200 and access["stream_error"] == code
    labels = f'code="{code}",type="{error["type"]}"'
    series = "igw_errors_total{" + labels + "}"
    after = errors()
    assert after.get(series, 0) - before.get(series, 0) == 1, (series, after)


def test_a_connection_dropped_mid_stream_is_an_error_event_saying_it_may_be_charged(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    """The provider took the call, sent a partial, then its connection broke: the client gets
    an `error` event (never a silent cut) saying the outcome is unknown."""
    openai_emu.add_faults([{"match": "generate", "stream_reset": True}])
    body = {"model": "gpt-image-1", "prompt": "x", "stream": True, "partial_images": 2}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == 200
    frames = [(name, orjson.loads(data)) for name, data in raw_events(resp.text) if name != ":"]
    assert [name for name, _ in frames] == [PARTIAL, "error"]
    error = frames[-1][1]
    assert error["type"] == "error" and error["error"]["provider"] == "openai"
    assert error["error"]["message"].endswith(UNKNOWN_OUTCOME)


def test_stream_is_not_a_job(gw: RunningGateway) -> None:
    body = {"model": "local/local-art", "prompt": "x", "stream": True}
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json=body, headers={"Prefer": "respond-async"})
        assert resp.status_code == 400 and resp.json()["error"]["param"] == "stream"
        lone = http.post(
            "/v1/images/generations",
            json={"model": "local/local-art", "prompt": "x", "partial_images": 2},
        )
        assert lone.status_code == 400 and lone.json()["error"]["param"] == "partial_images"


def test_a_job_asking_for_partial_images_streams_upstream(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    """A job's OpenAI call streams when it asks for partial images (they go to the job's
    journal), and the job gets its image as any job does."""
    body = {"model": "gpt-image-1", "prompt": "x", "partial_images": 2}
    with gw.client() as http:
        job = http.post(
            "/v1/images/generations", json=body, headers={"Prefer": "respond-async"}
        ).json()
        deadline = time.monotonic() + 10
        while job["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
            job = http.get(f"/v1/jobs/{job['id']}").json()
    assert job["status"] == "succeeded", job
    assert decode(job["result"]["data"][0]["b64_json"]).size == (1024, 1024)
    sent = openai_emu.stats()["last_request"]["json"]
    assert sent["stream"] is True and sent["partial_images"] == 2


def test_providers_say_which_models_stream(gw: RunningGateway) -> None:
    with gw.client() as http:
        providers = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
    models = {m["id"]: m for m in providers["openai"]["models"]}
    assert models["gpt-image-1"]["streams"] is True and models["dall-e-3"]["streams"] is False
    assert not any(m["streams"] for m in providers["bfl-flux"]["models"])


# --- a client that leaves ------------------------------------------------------------------


def test_a_client_leaving_mid_stream_lets_the_accepted_call_finish_and_be_recorded(
    gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    openai_emu.add_faults([{"match": "generate", "stream_interval": 0.4}])
    body = orjson.dumps(
        {"model": "gpt-image-1", "prompt": "left", "stream": True, "partial_images": 3}
    )
    host, port = gw.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/images/generations HTTP/1.1\r\nHost: gw\r\n"
            + f"X-API-Key: {GATEWAY_TEST_KEY}\r\nContent-Type: application/json\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        received = b""
        while PARTIAL.encode() not in received:
            chunk = sock.recv(65536)
            assert chunk, received[:200]
            received += chunk
    # The client left after the first partial: the call the provider took finishes anyway,
    # is recorded with its cost, and becomes a job of its key.
    rows = wait_rows(gw, 1)
    assert rows["totals"]["requests"] == 1 and rows["totals"]["cost_usd"] > 0
    with gw.client() as http:
        deadline = time.monotonic() + 10
        while True:
            jobs = http.get("/v1/jobs").json()["data"]
            if jobs and jobs[0]["status"] == "succeeded":
                break
            assert time.monotonic() < deadline, jobs
            time.sleep(0.1)
    assert openai_emu.stats()["submissions"] == 1


def test_a_fanned_out_stream_shows_one_progress_the_mean_of_its_calls() -> None:
    """F10: the calls of `n` = 2 report into one view, as a job's watchers see it
    (`jobs/activity.py`): their mean fraction, the status of the call furthest behind, queued
    only when it changed; a fallback's calls start it over."""
    journal = StreamJournal()

    async def run() -> list[Any]:
        await journal.entering(0)
        first, second = journal.call(0, 0), journal.call(0, 1)
        await first.progress(Progress(0.5, "Pending"))
        await first.progress(Progress(0.5, "Pending"))  # the same view: not queued again
        await second.progress(Progress(0.3, "Ready?"))
        await second.progress(0.7)
        await journal.entering(1)  # a fallback
        await journal.call(1, 0).progress(0.2)
        return [journal.reports.get_nowait() for _ in range(journal.reports.qsize())]

    assert asyncio.run(run()) == [
        Progress(0.25, "Pending"),
        Progress(0.4, "Ready?"),
        Progress(0.6, "Pending"),
        Progress(0.2),
    ]


def test_bfl_n2_streams_one_rising_progress(gw: RunningGateway) -> None:
    """Through the gateway: two BFL calls fanned out, one progress that only rises, two
    completed events."""
    body = {
        "model": "bfl-flux/flux-pro-1.1",
        "prompt": "x",
        "n": 2,
        "stream": True,
        "stream_options": {"include_progress": True},
    }
    with gw.client() as http:
        frames = raw_events(http.post("/v1/images/generations", json=body).text)
    assert [name for name, _ in frames].count(COMPLETED) == 2
    fractions = [orjson.loads(text)["progress"] for name, text in frames if name == PROGRESS]
    assert len(fractions) >= 2, frames
    assert fractions == sorted(fractions) and all(0 <= f < 1 for f in fractions)
