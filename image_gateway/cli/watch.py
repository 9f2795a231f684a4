"""One job from submission to saved images: `Run` is what the display shows of it, `submit`
sends the request as a job (`Prefer: respond-async`), `follow` reads its event stream
(`GET /v1/jobs/{id}/events`) to the `result` event and saves the images.

Events (README "Asynchronous jobs"): `status` (`{"id", "status", "progress"}`), `progress`
(`{"id", "progress", "provider_status", "queue_position"}`), `partial_image` (OpenAI's partial
image fields and `b64_json`, where the gateway streams them: counted; any event whose name says
`partial` is), then `result`, the whole job. Other events are ignored, so a newer
gateway's events do not break an older client.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from image_gateway.cli.client import (
    STREAM_RETRIES,
    CliError,
    Gateway,
    RequestFailed,
    Unusable,
    job_error,
)
from image_gateway.image_format import sniff_image_type

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


@dataclass
class Run:
    """One job as the command sees it. `latency` is in seconds: from sending the request to
    the result (or, for a job this command did not submit, the gateway's `created_at` to
    `finished_at`)."""

    label: str  # the model as asked ("default" when none was named), or the job id
    timed_here: bool = True  # False: a job submitted elsewhere, timed by the gateway
    job_id: str | None = None
    status: str = "submitting"
    progress: float | None = None  # 0..1
    provider_status: str | None = None
    queue_position: int | None = None
    partial_images: int = 0
    started: float = field(default_factory=time.monotonic)
    latency: float | None = None
    provider: str | None = None
    model: str | None = None
    cost: dict[str, Any] | None = None
    paths: list[Path] = field(default_factory=list)
    error: str | None = None
    code: str | None = None
    exit_code: int = 0

    @property
    def elapsed(self) -> float:
        return self.latency if self.latency is not None else time.monotonic() - self.started

    def fail(self, exc: CliError) -> None:
        self.error, self.code, self.exit_code = exc.message, exc.code, exc.exit_code
        if self.status not in TERMINAL:
            self.status = "error"

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "requested": self.label,
            "status": self.status,
            "provider": self.provider,
            "model": self.model,
            "latency_seconds": None if self.latency is None else round(self.latency, 3),
            "cost": self.cost,
            "paths": [str(p) for p in self.paths],
            "partial_images": self.partial_images,
            "error": None if self.error is None else {"message": self.error, "code": self.code},
        }


class Observer(Protocol):
    """What is told of every change of a run (the progress display)."""

    def changed(self, run: Run, what: str) -> None: ...


Send = Callable[[], Awaitable[Any]]


async def submit(gw: Gateway, run: Run, send: Send, out_dir: Path, observer: Observer) -> None:
    """Send the request (`send` POSTs it with `Prefer: respond-async`), then `follow` the job.
    Failures are recorded on `run`, never raised, so the other runs go on."""
    try:
        job = await send()
        run.job_id = str(job["id"])
        run.status = str(job.get("status") or "queued")
        observer.changed(run, "submitted")
        await follow(gw, run, out_dir, observer)
    except CliError as exc:
        run.fail(exc)
        observer.changed(run, "error")


async def follow(gw: Gateway, run: Run, out_dir: Path, observer: Observer) -> None:
    """Read the job's events until its `result`, then save its images into `out_dir`. A stream
    cut mid-job is opened again (at most STREAM_RETRIES times in a row)."""
    assert run.job_id is not None
    failures = 0
    while True:
        try:
            async for name, data in gw.events(f"/v1/jobs/{run.job_id}/events"):
                failures = 0
                if name == "result" and isinstance(data, dict):
                    await _finish(gw, run, data, out_dir, observer)
                    return
                if _apply(run, name, data):
                    observer.changed(run, name)
        except RequestFailed as exc:
            if exc.status is not None:  # the gateway answered: an error, not a cut
                raise
            failures += 1
            if failures > STREAM_RETRIES:
                raise
            await asyncio.sleep(0.5 * failures)
        # The stream ended without a result (the gateway ends streams after 15 minutes): the
        # job may have finished meanwhile, so read it before listening again.
        job = await gw.get(f"/v1/jobs/{run.job_id}")
        if job.get("status") in TERMINAL:
            await _finish(gw, run, job, out_dir, observer)
            return


def _apply(run: Run, name: str, data: Any) -> bool:
    """An event's news on `run`; whether anything changed."""
    if not isinstance(data, dict):
        data = {}
    if name == "status":
        run.status = str(data.get("status") or run.status)
        run.progress = _fraction(data.get("progress"), run.progress)
        return True
    if name == "progress":
        run.progress = _fraction(data.get("progress"), run.progress)
        run.provider_status = data.get("provider_status") or run.provider_status
        position = data.get("queue_position")
        run.queue_position = position if isinstance(position, int) else None
        return True
    if "partial" in name:
        run.partial_images += 1
        return True
    return False


def _fraction(value: Any, default: float | None) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return default


async def _finish(
    gw: Gateway, run: Run, job: dict[str, Any], out_dir: Path, observer: Observer
) -> None:
    """A finished job: its images saved and its figures on `run`, or its error."""
    run.status = str(job.get("status"))
    if run.timed_here:
        run.latency = time.monotonic() - run.started
    else:
        created, finished = job.get("created_at"), job.get("finished_at")
        if isinstance(created, int) and isinstance(finished, int):
            run.latency = float(finished - created)
    result = job.get("result")
    if run.status != "succeeded" or not isinstance(result, dict):
        if run.status == "succeeded" and job.get("result_expired"):
            run.error = "the job's images are no longer kept (IMAGE_RETENTION_HOURS)"
        else:
            run.error, run.code = job_error(job)
        run.exit_code = 1
        observer.changed(run, "failed")
        return
    run.provider, run.model = result.get("provider"), result.get("model")
    cost = result.get("cost")
    run.cost = cost if isinstance(cost, dict) else None
    run.progress = 1.0
    try:
        run.paths = await save_images(gw, str(job["id"]), result, out_dir)
    except CliError as exc:
        run.fail(exc)
    except OSError as exc:
        run.fail(RequestFailed(f"cannot write into {out_dir}: {exc.strerror or exc}"))
    observer.changed(run, "finished")


async def save_images(
    gw: Gateway, job_id: str, result: dict[str, Any], out_dir: Path
) -> list[Path]:
    """Each image of a result (`b64_json` or a `url`) as `<job id>-<index>.<ext>` in `out_dir`,
    the index from 1 in `data`'s order and the extension from the image's own bytes."""
    images: list[tuple[str, bytes]] = []
    for index, item in enumerate(result.get("data") or [], start=1):
        if item.get("b64_json"):
            try:
                data = base64.b64decode(item["b64_json"], validate=True)
            except (binascii.Error, ValueError):
                raise RequestFailed(f"image {index} of job {job_id} is not valid base64") from None
        elif item.get("url"):
            data = await gw.download(str(item["url"]))
        else:
            continue
        ext = EXTENSIONS.get(sniff_image_type(data) or "", "bin")
        images.append((f"{job_id}-{index}.{ext}", data))
    return await asyncio.to_thread(_write, out_dir, images)


def prepare_output(out_dir: Path) -> None:
    """Make `out_dir` (and its parents) before anything is submitted, so a job is never paid
    for whose images cannot be saved; `Unusable` (exit status 2) when it is not a writable
    folder."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise Unusable(f"-o {out_dir}: not a directory") from None
    except OSError as exc:
        raise Unusable(f"-o {out_dir}: cannot create it: {exc.strerror or exc}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise Unusable(f"-o {out_dir}: not writable") from None


def _write(out_dir: Path, images: list[tuple[str, bytes]]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in images:
        path = out_dir / name
        path.write_bytes(data)
        paths.append(path)
    return paths


async def wait(gw: Gateway, run: Run, out_dir: Path, observer: Observer) -> None:
    """A job submitted elsewhere (`jobs wait`): read it, then follow it if it is not finished.
    Failures are recorded on `run`, as `submit` does."""
    assert run.job_id is not None
    try:
        job = await gw.get(f"/v1/jobs/{run.job_id}")
        run.status = str(job.get("status"))
        observer.changed(run, "status")
        if run.status in TERMINAL:
            await _finish(gw, run, job, out_dir, observer)
        else:
            await follow(gw, run, out_dir, observer)
    except CliError as exc:
        run.fail(exc)
        observer.changed(run, "error")
