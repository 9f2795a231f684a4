"""Partial images through a job: a job asking for `partial_images` on a GPT image model gets
each preview on `/v1/jobs/{id}/events` as a `partial_image` event as it arrives (OpenAI's
partial image fields plus `id` and `image_index`), then its result, stored like every image;
the previews are kept in the image store (for a job that ended, until the store's retention),
so a watcher gets those that came in its last poll interval too, before the result. On
PostgreSQL with the Redis queue, the stream is served by a gateway that runs no worker, so the
previews reach it through the store and the row, never through the worker's memory."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import OPENAI_TEST_KEY, OpenAIEmulatorHandle, RunningGateway
from tests.jobs.support import FAST, submit
from tests.jobs.test_job_events import read_events
from tests.services import REDIS_URL, fresh_postgres, postgres_databases, redis_prefix

__all__ = ["fresh_postgres", "postgres_databases", "redis_prefix"]  # fixtures, for pytest

BODY = {"model": "gpt-image-1", "prompt": "a harbour", "size": "1024x1024", "partial_images": 2}


def _stored_ids(folder: Path) -> set[str]:
    return {path.name for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize("stores", ["sqlite", "postgresql+redis"])
def test_partial_images_come_as_they_arrive_then_the_result(
    start_gateway: Callable[..., RunningGateway],
    openai_emu: OpenAIEmulatorHandle,
    stores: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    # Events 0.4 s apart: each preview is seen on the job's stream before the next is drawn.
    openai_emu.add_faults([{"match": "generate", "stream_interval": 0.4}])
    settings: dict[str, Any] = {
        **FAST,
        "openai_api_key": OPENAI_TEST_KEY,
        "openai_base_url": openai_emu.base_url,
        "image_store_dir": tmp_path / "images",
    }
    if stores == "sqlite":
        watched = start_gateway(**settings)
    else:
        settings.update(
            database_url=request.getfixturevalue("fresh_postgres")(),
            redis_url=REDIS_URL,
            redis_key_prefix=request.getfixturevalue("redis_prefix"),
        )
        start_gateway(**settings)  # runs the job
        watched = start_gateway(**settings, run_workers=False)  # serves the events only
    with watched.client() as http:
        job_id = submit(http, {**BODY, "n": 2})["id"]
        with http.stream("GET", f"/v1/jobs/{job_id}/events") as resp:
            events = list(read_events(resp.iter_lines()))
    names = [name for name, _ in events]
    partials = [data for name, data in events if name == "partial_image"]
    assert names[-1] == "result" and len(partials) == 4, names
    # Each image's two previews, in order, before the result; OpenAI's fields as it sent them.
    by_image = {
        i: [p["partial_image_index"] for p in partials if p["image_index"] == i] for i in (0, 1)
    }
    assert by_image == {0: [0, 1], 1: [0, 1]}
    for partial in partials:
        assert partial["id"] == job_id and partial["type"] == "image_generation.partial_image"
        assert partial["size"] == "1024x1024" and partial["output_format"] == "png"
        assert isinstance(partial["created_at"], int)
        image = Image.open(io.BytesIO(base64.b64decode(partial["b64_json"])))
        assert image.size == (1024, 1024)
        assert "image_id" not in partial  # the store's id stays the gateway's business
    result = events[-1][1]
    assert result["status"] == "succeeded" and len(result["result"]["data"]) == 2
    assert openai_emu.stats()["last_request"]["json"]["partial_images"] == 2
    # The final images are kept for the job; the previews stay too, for late watchers.
    with watched.client() as http:
        again = http.get(f"/v1/jobs/{job_id}").json()
    assert again["result"]["data"][0]["b64_json"]
    assert len(_stored_ids(tmp_path / "images")) == 2 + 4


def test_previews_that_come_just_before_the_end_are_sent_before_the_result(
    start_gateway: Callable[..., RunningGateway], openai_emu: OpenAIEmulatorHandle
) -> None:
    # The whole run (6 previews, 2 images) fits in one poll interval of the watcher: the
    # stream sees the job running, then ended; every preview still comes, then the result,
    # and no progress event saying nothing (OpenAI reports no fraction).
    openai_emu.add_faults([{"match": "generate", "stream_interval": 0.02}])
    settings = {**FAST, "sse_poll_seconds": 1.5}
    gw = start_gateway(
        **settings, openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url
    )
    with gw.client() as http:
        job_id = submit(http, {**BODY, "partial_images": 3, "n": 2})["id"]
        with http.stream("GET", f"/v1/jobs/{job_id}/events") as resp:
            events = list(read_events(resp.iter_lines()))
    names = [name for name, _ in events]
    assert "progress" not in names, events
    partials = [data for name, data in events if name == "partial_image"]
    got = sorted((p["image_index"], p["partial_image_index"]) for p in partials)
    assert got == [(i, k) for i in (0, 1) for k in (0, 1, 2)], names
    assert names[-1] == "result" and events[-1][1]["status"] == "succeeded"
    assert names.index("result") > max(i for i, n in enumerate(names) if n == "partial_image")


def test_a_job_without_partial_images_sends_none(
    start_gateway: Callable[..., RunningGateway], openai_emu: OpenAIEmulatorHandle
) -> None:
    gw = start_gateway(**FAST, openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url)
    with gw.client() as http:
        job_id = submit(http, {"model": "gpt-image-1", "prompt": "a harbour"})["id"]
        with http.stream("GET", f"/v1/jobs/{job_id}/events") as resp:
            names = [name for name, _ in read_events(resp.iter_lines())]
    assert "partial_image" not in names and names[-1] == "result"
    assert "stream" not in openai_emu.stats()["last_request"]["json"]
