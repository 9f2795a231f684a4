"""`stream: true` on `POST /v1/images/generations` and `/edits`: the answer as server-sent
events in OpenAI's format (README, Streaming), whatever the provider.

    event: image_generation.partial_image      (image_edit.* for an edit)
    data: {"type", "b64_json", "created_at", "size", "quality", "background", "output_format",
           "partial_image_index", "image_index"}
    : image_gateway.progress {"progress", "provider_status", "queue_position"}
                                                a comment (the SDK skips it), by default
    event: image_gateway.progress               instead, with stream_options.include_progress
    data: {"type", "progress", "provider_status", "queue_position"}
    event: image_generation.completed           one per image, after the run
    data: {"type", "b64_json" | "url", "created_at", "size", "quality", "background",
           "output_format", "usage", "image_index", "id", "provider", "model", "attempts",
           ["fallback_from"], ["route"], ["cost"], ["revised_prompt"], ["seed"]}
    event: error                                the run failed after the stream began
    data: {"type": "error", "error": {"message", "type", "code", "param", ...}}
    : keep-alive                                a comment, after STREAM_KEEPALIVE_SECONDS quiet

Partial images come from a model that streams them (`ModelSpec.streams`), as the provider
sends them (`kit/sync.py` hands them to the run's `StreamJournal`; nothing holds them back or
decodes their base64); progress from one that reports it (BFL's polls). The completed events
are the run's images once the gateway checked, priced and recorded them, with the fields of
the JSON answer as extras (the SDK keeps unknown fields). `usage` is each image's own where
the provider reported it per image, else the request's for a single image, else null (a
provider without token usage: the price is in `cost`). `cost` is the request's total,
repeated in each completed event (never per image: add none of them up). Images are base64
whatever the model's JSON default (DALL·E's is a URL); only `response_format: "url"`, asked
explicitly, puts a `url` to the stored image in place of `b64_json` (OpenAI's streams carry
base64 only; a client that asks for a URL gets one); partial images are always base64 and
never stored.

When the answer begins: nothing is sent until the run reports something, ends, or has been
quiet for STREAM_KEEPALIVE_SECONDS. A run that fails before that is answered like any request,
with its status and JSON error (what the SDK raises as `BadRequestError`, `RateLimitError`...).
After it, the status is 200 and a failure is an `error` event, the last of the stream, logged
and counted as a JSON failure is (`EventStream.failed`).
Progress goes as a comment unless the client opted in (`stream_options: {"include_progress":
true}`): the official SDK yields every `data:` event as an image event, so an ordinary SDK loop
would take a progress event for a partial image. A progress comment also keeps the connection
alive (it resets the keep-alive wait).
Retries and fallbacks run until the client has seen a partial image (`RunJournal.relayed`: a
second try would draw another picture); progress (event or comment) and keep-alive comments
never stop them: a retried or fallen-back run only counts its progress again from 0.

A client that leaves mid-stream is a departed client (`jobs/departed.py`): a run none of whose
calls was sent is cancelled, one whose call the provider may charge for finishes in the
background and is recorded as a job of its key; the ledger and the budget settle either way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from image_gateway.api.error_responses import INTERNAL_ERROR, log_failure
from image_gateway.api.middleware import disconnected
from image_gateway.errors import GatewayError, error_body
from image_gateway.generation.rendering import Generation, Renderer
from image_gateway.jobs.departed import SyncRun
from image_gateway.providers.kit.journal import Report, StreamJournal
from image_gateway.providers.kit.progress import PartialImage, Progress
from image_gateway.schemas import b64_text

log = logging.getLogger("image_gateway.streaming")

KEEPALIVE = b": keep-alive\n\n"
# An SSE frame in parts: (`event: <name>\ndata: ` or a comment's head, its JSON, its end).
Frame = tuple[bytes, bytes, bytes]
KEEPALIVE_FRAME: Frame = (b"", KEEPALIVE, b"")
# Bytes of one body message: uvicorn pauses a response's writes once its transport holds
# more than 64 KiB (asyncio's default high-water mark), so pieces this size keep one frame's
# copies in flight small whatever the frame's size (a 1 MB partial image is 1.4 MB of base64).
SEND_PIECE = 64 * 1024
PROGRESS = "image_gateway.progress"
EVENT_PREFIX = {"generate": "image_generation", "edit": "image_edit"}
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
]
# What the relay waits for next: a report, or one of these.
DONE, IDLE, LEFT = "done", "idle", "left"
Next = Report | str


class Relay:
    """What a streaming answer waits on: the run's reports (in order), the run's end, and its
    client's departure; `next(quiet)` gives the first of them, or IDLE after `quiet` seconds."""

    def __init__(self, run: SyncRun, journal: StreamJournal, receive: Receive) -> None:
        self.run, self.journal = run, journal
        self._left = asyncio.ensure_future(disconnected(receive))
        self._report: asyncio.Task[Report] | None = None

    async def next(self, quiet: float) -> Next:
        queue = self.journal.reports
        if self._report is None and not queue.empty():
            return queue.get_nowait()
        if self._report is None and not self.run.work.done():
            self._report = asyncio.ensure_future(queue.get())
        waiting: set[asyncio.Future[Any]] = {self.run.work, self._left}
        if self._report is not None:
            waiting.add(self._report)
        await asyncio.wait(waiting, timeout=quiet, return_when=asyncio.FIRST_COMPLETED)
        if self._report is not None and self._report.done():
            report, self._report = self._report.result(), None
            return report
        if self.run.work.done():
            return DONE if queue.empty() else queue.get_nowait()
        return LEFT if self._left.done() else IDLE

    def close(self) -> None:
        self._left.cancel()
        if self._report is not None:
            self._report.cancel()


class EventStream(Response):
    """The ASGI answer once the stream begins (module docstring): `first` is what the relay
    gave before it; `let_go(run)` is the departed-client machinery (`Answerer._let_go`),
    `attribute(target)` names who served it in the access log. A `Response` for the routes'
    sake (FastAPI sends a `Response` as it is); it sends itself."""

    def __init__(
        self,
        relay: Relay,
        first: Next,
        *,
        kind: str,
        renderer: Renderer,
        response_format: str | None,
        include_progress: bool,
        request_id: str | None,
        keepalive: float,
        let_go: Callable[[SyncRun], None],
        attribute: Callable[[tuple[str, str] | None], None],
        state: dict[str, Any],
    ) -> None:
        self.relay, self.first = relay, first
        self.status_code, self.background, self.raw_headers = 200, None, list(HEADERS)
        self.prefix = EVENT_PREFIX[kind]
        self.renderer = renderer
        self.response_format = response_format
        self.include_progress = include_progress
        self.request_id = request_id
        self.keepalive = keepalive
        self.let_go = let_go
        self.attribute = attribute
        self.state = state  # the request's scope state (`failed`)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        relay = self.relay
        try:
            await send({"type": "http.response.start", "status": 200, "headers": list(HEADERS)})
            item, self.first = self.first, DONE
            while item != DONE:
                if item == LEFT:
                    raise ClientDisconnect()
                frame = KEEPALIVE_FRAME if item == IDLE else self.frame(item)
                item = DONE  # a partial image's base64 is let go before the next report
                await send_frame(send, frame)
                del frame
                item = await relay.next(self.keepalive)
            for frame in await self.ending():
                await send_frame(send, frame)
            await _body(send, b"", more=False)
        except (ClientDisconnect, OSError):
            self.depart()
            raise ClientDisconnect() from None
        except asyncio.CancelledError:  # the server stops this request: as if its client left
            self.depart()
            raise
        finally:
            relay.close()

    def depart(self) -> None:
        """The client is gone: what the run reports is dropped, and the run is let go."""
        self.attribute(self.relay.journal.target)
        self.relay.journal.detach()
        if not self.relay.run.work.done():
            self.let_go(self.relay.run)

    def frame(self, item: Next) -> Frame:
        if isinstance(item, PartialImage):
            return event_frame(
                f"{self.prefix}.partial_image",
                {
                    "b64_json": item.b64_json,
                    "created_at": item.created_at or int(time.time()),
                    "size": item.size,
                    "quality": item.quality,
                    "background": item.background,
                    "output_format": item.output_format,
                    "partial_image_index": item.partial_image_index,
                    "image_index": item.image_index,
                },
            )
        assert isinstance(item, Progress)
        if self.include_progress:
            return event_frame(PROGRESS, progress_fields(item))
        data = orjson.dumps(progress_fields(item))
        return (b": " + PROGRESS.encode() + b" ", data, b"\n\n")

    def failed(self, err: GatewayError) -> list[Frame]:
        """The `error` event of a run that failed after the stream began, seen by operators as
        a JSON answer's failure is: its warning line (`log_failure`), and `state["stream_error"]`,
        which the request-context middleware counts in `igw_errors_total` and writes in the
        access line (`stream_error`: the error's code; the status stays 200)."""
        log_failure(err, self.request_id)
        self.state["stream_error"] = err
        return [event_frame("error", error_body(err, self.request_id))]

    async def ending(self) -> list[Frame]:
        """The run's last events: one completed event per image, or its `error` event."""
        work = self.relay.run.work
        try:
            generation = work.result()
        except GatewayError as exc:
            self.attribute(exc.attribution)
            return self.failed(exc)
        except Exception as exc:  # a bug: logged with its traceback, answered without it
            log.error(
                "unhandled error", exc_info=exc, extra={"fields": {"request_id": self.request_id}}
            )
            return self.failed(GatewayError(INTERNAL_ERROR))
        self.attribute((generation.provider, generation.model))
        return await completed_events(
            generation, self.prefix, self.renderer, self.response_format, self.relay.run
        )


async def completed_events(
    generation: Generation,
    prefix: str,
    renderer: Renderer,
    response_format: str | None,
    run: SyncRun,
) -> list[Frame]:
    """One `<prefix>.completed` frame per image: OpenAI's fields, then the JSON answer's."""
    body = await renderer.render(generation, response_format, run.public_base_url)
    items = body.pop("data")
    names = ("id", "provider", "model", "attempts", "fallback_from", "route", "cost")
    shell: dict[str, Any] = {k: body[k] for k in names if k in body}
    single = len(generation.images) == 1
    frames = []
    for index, (image, item) in enumerate(zip(generation.images, items, strict=True)):
        usage = image.usage or (generation.usage if single else None)
        payload: dict[str, Any] = {
            **({"url": item["url"]} if "url" in item else {"b64_json": b64_text(item["b64_json"])}),
            "created_at": generation.created,
            "size": image.size or body.get("size") or "auto",
            "quality": body.get("quality") or run.body.quality or "auto",
            "background": body.get("background") or run.body.background or "auto",
            "output_format": body.get("output_format"),
            "usage": usage,
            "image_index": index,
            **shell,
        }
        payload.update({k: item[k] for k in ("revised_prompt", "seed") if k in item})
        frames.append(event_frame(f"{prefix}.completed", payload))
    return frames


def progress_fields(report: Progress) -> dict[str, Any]:
    """A progress event's data, in the names of a job's `progress` event (README, Events)."""
    return {
        "progress": report.fraction,
        "provider_status": report.status,
        "queue_position": report.queue_position,
    }


def event_frame(name: str, payload: dict[str, Any]) -> Frame:
    """One SSE frame whose data carries its name as `type`, as OpenAI's events do, in its
    three parts (`Frame`): the JSON is the only copy of an image's base64 it makes."""
    data = orjson.dumps({"type": name, **payload})
    return (b"event: " + name.encode() + b"\ndata: ", data, b"\n\n")


def event(name: str, payload: dict[str, Any]) -> bytes:
    """`event_frame` as one byte string."""
    return b"".join(event_frame(name, payload))


def pieces(frame: Frame) -> Iterator[bytes]:
    """A frame's bytes in body messages of about SEND_PIECE bytes: its head and tail joined to
    its data's first and last piece (one message for a frame no larger than that)."""
    head, data, tail = frame
    if len(data) <= SEND_PIECE:
        yield head + data + tail
        return
    yield head + data[:SEND_PIECE]
    for start in range(SEND_PIECE, len(data), SEND_PIECE):
        end = start + SEND_PIECE
        yield data[start:end] + tail if end >= len(data) else data[start:end]


async def send_frame(send: Send, frame: Frame) -> None:
    """Send a frame piece by piece (`pieces`): the server's write buffer stops taking more at
    its high-water mark until the client has read, so a slow client holds about one piece in
    it, not a copy of the whole frame (uvicorn copies each message once more to frame it as a
    chunk, and asyncio copies what the socket did not take)."""
    for piece in pieces(frame):
        await _body(send, piece)


async def _body(send: Send, data: bytes, more: bool = True) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": more})
