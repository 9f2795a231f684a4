"""The kit's placeholder images and async jobs (emulators/kit/placeholder.py, kit/jobs.py), on
their own: what fal's and replicate's emulators (and every new async emulator) build on."""

from __future__ import annotations

import argparse
import asyncio
import io
from dataclasses import dataclass

import pytest
from PIL import Image

from emulators.kit.jobs import Job, JobBook, JobSwitches, add_job_arguments, job_options
from emulators.kit.placeholder import Look, Placeholders

LOOK = Look("Test emulator", (10, 20, 30), (200, 210, 220))


@pytest.mark.parametrize(("fmt", "pil"), [("png", "PNG"), ("jpeg", "JPEG"), ("jpg", "JPEG"),
                                          ("webp", "WEBP")])  # fmt: skip
def test_a_placeholder_is_a_real_file_of_the_asked_size_and_format(fmt: str, pil: str) -> None:
    image = Placeholders(LOOK).render(320, 200, fmt)
    with Image.open(io.BytesIO(image.data)) as img:
        assert (img.format, img.size) == (pil, (320, 200))
        assert img.convert("RGB").getpixel((2, 2)) == pytest.approx((10, 20, 30), abs=6)
    assert image.b64.startswith({"PNG": "iVBOR", "JPEG": "/9j/", "WEBP": "UklGR"}[pil])


def test_black_transparent_and_blurred_variants() -> None:
    images = Placeholders(LOOK)
    black = Image.open(io.BytesIO(images.render(64, 48, "png", black=True).data))
    assert black.convert("RGB").getextrema() == ((0, 0), (0, 0), (0, 0))
    clear = Image.open(io.BytesIO(images.render(64, 48, "png", transparent=True).data))
    assert clear.mode == "RGBA" and clear.getpixel((0, 0))[3] == 0
    sharp = images.render(200, 200, "png").data
    assert images.render(200, 200, "png", blur=24).data != sharp


def test_placeholders_are_cached_and_bounded() -> None:
    images = Placeholders(LOOK, max_entries=2)
    first = asyncio.run(images.get(40, 40, "png"))
    assert asyncio.run(images.get(40, 40, "png")) is first
    images.render(41, 41, "png")
    images.render(42, 42, "png")
    assert len(images._entries) == 2
    assert asyncio.run(images.get(40, 40, "png")) is not first  # evicted, encoded again
    # quality keys lossy formats only
    assert images.render(30, 30, "png", quality=10) is images.render(30, 30, "png", quality=90)


@dataclass(kw_only=True)
class Task(Job):
    prompt: str


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_job_is_queued_then_generating_then_done_on_the_clock() -> None:
    clock = Clock()
    book = JobBook[Task](JobSwitches(queue_seconds=1.0, generation_seconds=2.0), clock=clock)
    task = book.create(Task, prompt="a fox")
    assert (task.prompt, task.created, task.phase(clock.now)) == ("a fox", 1000.0, "queued")
    assert task.queue_left(clock.now + 0.25) == 0.75 and task.progress(clock.now) == 0.0
    clock.now += 2.0
    assert task.phase(clock.now) == "generating" and task.progress(clock.now) == 0.5
    clock.now += 1.0
    assert task.phase(clock.now) == "done" and task.progress(clock.now) == 1.0
    assert task.finished_at() == 1003.0
    assert book.get(task.id) is task and book.get(task.id) is task
    assert book.polls() == {task.id: 2}
    assert book.get("nope") is None


def test_cancel_never_and_retention() -> None:
    clock = Clock()
    book = JobBook[Task](queue_seconds=0.0, generation_seconds=1.0, retention=60.0, clock=clock)
    running = book.create(Task, prompt="x")
    endless = book.create(Task, prompt="x", never=True)
    clock.now += 0.5
    assert book.cancel(running) and running.phase(clock.now) == "canceled"
    assert running.finished_at() == 1000.5
    clock.now += 10_000
    assert endless.phase(clock.now) == "generating" and endless.progress(clock.now) == 0.0
    assert not book.expired(endless)  # never finished: never expires
    assert book.expired(running) and not book.expired(running, keep=20_000)
    done = book.create(Task, prompt="x")
    clock.now += 1.0
    assert not book.cancel(done) and done.phase(clock.now) == "done"
    assert not book.expired(done)
    clock.now += 61.0
    assert book.expired(done)


def test_the_log_keeps_the_newest_jobs() -> None:
    book = JobBook[Task](max_jobs=3)
    tasks = [book.create(Task, prompt=str(i)) for i in range(5)]
    assert len(book) == 3
    assert book.get(tasks[1].id) is None and book.get(tasks[4].id) is tasks[4]
    book.clear()
    assert len(book) == 0


def test_the_job_switches_take_the_providers_defaults_and_help() -> None:
    parser = argparse.ArgumentParser()
    add_job_arguments(parser, JobSwitches(generation_seconds=2.5, generation_help="RUNNING"))
    assert "RUNNING (default 2.5)" in parser.format_help()
    assert job_options(parser.parse_args([])) == {
        "queue_seconds": 0.0,
        "generation_seconds": 2.5,
        "retention": 3600.0,
        "rate_limit": None,
    }
    args = parser.parse_args(["--queue-seconds", "1", "--rate-limit", "5"])
    assert job_options(args)["queue_seconds"] == 1.0 and job_options(args)["rate_limit"] == 5
    with pytest.raises(SystemExit):
        parser.parse_args(["--retention", "-1"])
