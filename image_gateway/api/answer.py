"""How the image routes answer a request: synchronously, as a job, or idempotently (`Answerer`,
which routes get as `api.deps.AnswerDep`).

- `Prefer: respond-async` on `POST /v1/images/generations` or `/edits` → `202` with the job
  (`Location: /v1/jobs/{id}`); `webhook_url`/`webhook_secret` in the body need it.
- `stream: true` in the body → `text/event-stream`, OpenAI's image events as the run goes
  (`api/streaming.py`); not with `Prefer: respond-async` or `Idempotency-Key` (400).
- `Idempotency-Key: <up to 256 printable characters>` on either POST: the same key and body
  within IDEMPOTENCY_TTL_HOURS returns the first request's job (async) or its result (sync)
  instead of generating again; the same key with a different body is a 409. A synchronous
  request with a key runs as a job and waits for it, so a retry after a dropped connection
  gets the same images.

Every one of them passes the dispatcher's one pre-flight before anything runs or any job
exists (`Dispatcher.preflight`; for a job, `JobService.submit`), and every result is rendered
by the one renderer (`rendering.Renderer`).

A synchronous request watches its connection while it waits: when the client leaves, a
generation none of whose provider calls was sent is cancelled, one whose call was sent or
accepted finishes in the background (`jobs/departed.py`), and the request ends as a 499
(`ClientDisconnect`) without an answer. A departed client waiting on an idempotent job only
stops waiting: the job goes on, and a retry with the same key gets it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import orjson
from fastapi import Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from image_gateway.access.auth import Client
from image_gateway.api.middleware import header, header_list
from image_gateway.api.streaming import DONE, LEFT, EventStream, Relay
from image_gateway.errors import ClientClosedRequest, Conflict, GatewayError, InvalidRequest
from image_gateway.generation.dispatch import Dispatcher
from image_gateway.generation.rendering import Renderer
from image_gateway.jobs.departed import SyncRun
from image_gateway.jobs.pacing import RETRY_AFTER_HEADER, retry_after_header
from image_gateway.jobs.rows import IdempotencyConflict, JobRow
from image_gateway.jobs.runtime import Jobs
from image_gateway.jobs.service import JobService
from image_gateway.providers.kit.journal import RequestJournal, StreamJournal
from image_gateway.schemas import Base64, GenerationBody, ImageRef, InputImage, LazyB64

T = TypeVar("T")

IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,256}$")
# The request headers an answer reads, as OpenAPI parameters of the image routes. No examples:
# Swagger UI would fill them in, and every "Try it out" would become a job or a replay.
ANSWER_HEADERS: list[dict[str, Any]] = [
    {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "`respond-async` (RFC 7240): answer at once with `202` and the job "
        "(`Location: /v1/jobs/{id}`) instead of waiting for the images; needed for "
        "`webhook_url`.",
    },
    {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_RE.pattern, "maxLength": 256},
        "description": "1-256 printable ASCII characters. The same key with the same request "
        "within IDEMPOTENCY_TTL_HOURS gets the first request's job or result instead of "
        "generating (and paying) again; with a different request it is a `409`.",
    },
]
ACCEPTED_RESPONSE: dict[str, Any] = {
    "description": "Accepted as a job: `Prefer: respond-async`, or a request with an "
    "`Idempotency-Key` that did not finish in time. The body is the job, as `GET /v1/jobs/{id}` "
    "shows it.",
    "headers": {
        "Location": {"schema": {"type": "string"}, "description": "`/v1/jobs/{id}`"},
        "Preference-Applied": {"schema": {"type": "string"}, "description": "`respond-async`"},
        "Retry-After": RETRY_AFTER_HEADER,
    },
    "content": {"application/json": {"schema": {"type": "object"}}},
}
# A failed or canceled job is what its Idempotency-Key answers until the key expires: sending the
# request again returns the same answer, so no retry can fix it (and the SDKs retry 409 and 5xx).
FINAL = {"x-should-retry": "false"}


class Answerer:
    """Answers an image request (see the module docstring) with the app's dispatcher, renderer
    and job system, wired once by `create_app`. An idempotent synchronous request waits for
    its job at most `wait_seconds`, then answers 202 with the job. Links in answers (stored
    images, a job's URLs) start with `public_base_url` (PUBLIC_BASE_URL), else with the
    request's own base URL (`base_url()`)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        renderer: Renderer,
        jobs: Jobs,
        *,
        wait_seconds: float,
        public_base_url: str | None = None,
        keepalive_seconds: float = 15.0,
    ) -> None:
        self.dispatcher = dispatcher
        self.renderer = renderer
        self.jobs = jobs
        self.wait_seconds = wait_seconds
        self.public_base_url = public_base_url
        self.keepalive_seconds = keepalive_seconds  # STREAM_KEEPALIVE_SECONDS

    async def __call__(
        self,
        request: Request,
        body: GenerationBody,
        *,
        client: Client,
        images: list[InputImage] | None = None,
        mask: InputImage | None = None,
        refs: Sequence[ImageRef] = (),
    ) -> Response:
        """The answer to `body`: synchronous, asynchronous (a job), idempotent, or streamed
        (`stream: true`, `api/streaming.py`). `refs` (input images by URL) are fetched by the
        pre-flight, once the request is admitted."""
        prefer, key = _answer_headers(request.scope)
        respond_async = "respond-async" in prefer.lower()
        if body.partial_images and not body.stream and not respond_async:
            raise InvalidRequest(
                "partial images come in a stream (stream: true) or in a job's events "
                "('Prefer: respond-async'); send one of them with partial_images",
                param="partial_images",
            )
        if body.stream_options is not None and not body.stream:
            raise InvalidRequest(
                "stream_options applies to a stream: send it with stream: true",
                param="stream_options",
            )
        if body.stream and (respond_async or key is not None):
            raise InvalidRequest(
                "stream: true is answered as it runs; it cannot be a job "
                "('Prefer: respond-async') or idempotent ('Idempotency-Key'): follow a job's "
                "GET /v1/jobs/{id}/events instead",
                param="stream",
            )
        if key is not None and not IDEMPOTENCY_KEY_RE.match(key):
            raise InvalidRequest(
                "Idempotency-Key must be 1-256 printable ASCII characters",
                param="Idempotency-Key",
            )
        if (body.webhook_url or body.webhook_secret) and not respond_async:
            raise InvalidRequest(
                "webhook_url needs an asynchronous request (header 'Prefer: respond-async')",
                param="webhook_url",
            )
        if body.webhook_url and not body.webhook_secret:
            # Signed with an empty secret, anyone could forge the gateway's deliveries.
            raise InvalidRequest(
                "webhook_url needs a webhook_secret (16-256 characters) to sign its deliveries",
                param="webhook_secret",
            )
        state = request.scope.setdefault("state", {})  # what `request.state` reads and writes
        request_id = state.get("request_id")
        public_base_url = self.public_base_url or base_url(request)
        if body.stream:
            return await self._stream(request, body, client, images, mask, refs)
        if not respond_async and key is None:
            journal = RequestJournal()
            work = asyncio.create_task(
                self.dispatcher.generate(
                    body,
                    client=client,
                    request_id=request_id,
                    images=images,
                    mask=mask,
                    refs=refs,
                    journal=journal,
                )
            )
            kind = "edit" if images or refs else "generate"
            run = SyncRun(work, journal, body, client, kind, request_id, public_base_url)
            try:
                payload = await self._generate_now(request.receive, run)
            except GatewayError as exc:
                _attribute(state, exc.attribution)
                raise
            except (ClientDisconnect, asyncio.CancelledError):
                _attribute(state, journal.target)  # what it was made with when its client left
                raise
            _attribute(state, (payload["provider"], payload["model"]))
            return _json(payload)
        service = self.jobs.service
        try:
            submission = await service.submit(
                body,
                client=client,
                public_base_url=public_base_url,
                request_id=request_id,
                images=images or [],
                mask=mask,
                refs=refs,
                idempotency_key=key,
            )
        except IdempotencyConflict:
            raise Conflict(
                "this Idempotency-Key was used with a different request", param="Idempotency-Key"
            ) from None
        except GatewayError as exc:
            _attribute(state, exc.attribution)
            raise
        job = submission.job
        _attribute(state, submission.target)  # the primary: what the job will try first
        if not respond_async:
            # Only the waiting ends when the client leaves: the job goes on.
            finished = await unless_client_leaves(
                service.wait(job.id, self.wait_seconds), request.receive
            )
            if finished is not None:
                _attribute(state, served_by(finished), replace=True)
                return await _finished(service, finished)
        location = f"/v1/jobs/{job.id}"
        headers = {"Location": location, "Preference-Applied": "respond-async"}
        headers |= retry_after_header(job, time.time())
        return _json(await service.view(job, with_result=False), 202, headers)

    async def _stream(
        self,
        request: Request,
        body: GenerationBody,
        client: Client,
        images: list[InputImage] | None,
        mask: InputImage | None,
        refs: Sequence[ImageRef],
    ) -> EventStream:
        """A streamed answer (`api/streaming.py`): the run starts here; a failure before its
        first event (or keep-alive) is raised, and answered like any request's."""
        state = request.scope.setdefault("state", {})
        request_id = state.get("request_id")
        journal = StreamJournal()
        work = asyncio.create_task(
            self.dispatcher.generate(
                body,
                client=client,
                request_id=request_id,
                images=images,
                mask=mask,
                refs=refs,
                journal=journal,
            )
        )
        kind = "edit" if images or refs else "generate"
        public_base_url = self.public_base_url or base_url(request)
        run = SyncRun(work, journal, body, client, kind, request_id, public_base_url)
        relay = Relay(run, journal, request.receive)
        try:
            first = await relay.next(self.keepalive_seconds)
            if first == LEFT:
                self._let_go(run)
                raise ClientDisconnect()
            if first == DONE and work.exception() is not None:
                work.result()  # raises: answered with its status, nothing streamed yet
        except GatewayError as exc:
            relay.close()
            _attribute(state, exc.attribution)
            raise
        except (ClientDisconnect, asyncio.CancelledError):
            relay.close()
            if not work.done() and not journal.closed:
                self._let_go(run)  # the server stops this request: as if its client left
            _attribute(state, journal.target)
            raise
        except BaseException:
            relay.close()
            raise
        return EventStream(
            relay,
            first,
            kind=kind,
            renderer=self.renderer,
            # base64 unless a URL was asked for: a model whose JSON default is a URL (DALL·E)
            # must not put one in a stream, a shape OpenAI never sends
            response_format=body.response_format or "b64_json",
            include_progress=bool(body.stream_options and body.stream_options.include_progress),
            request_id=request_id,
            keepalive=self.keepalive_seconds,
            let_go=self._let_go,
            attribute=lambda target: _attribute(state, target, replace=True),
            state=state,
        )

    async def _generate_now(self, receive: Receive, run: SyncRun) -> dict[str, Any]:
        """The synchronous answer of a running generation, unless its client leaves first
        (`ClientDisconnect`; the generation is then cancelled or adopted, see `_let_go`)."""
        try:
            left = await client_left_first(run.work, receive)
        except asyncio.CancelledError:  # the server stops this request: as if its client left
            self._let_go(run)
            raise
        if left:
            self._let_go(run)
            raise ClientDisconnect()
        body, generation = run.body, run.work.result()
        return await self.renderer.render(generation, body.response_format, run.public_base_url)

    def _let_go(self, run: SyncRun) -> None:
        """The client is gone: finish what the provider may charge for, cancel the rest."""
        if run.journal.committed:
            self.jobs.departed.adopt(run)
            return
        run.journal.closed = True
        run.journal.stopped = ClientClosedRequest.default_code  # its ledger row says so
        run.work.cancel()


def base_url(request: Request) -> str:
    """The request's own base URL (scheme, host, root path), without the trailing slash."""
    scope = request.scope
    # Building a URL costs more than the rest of the route's own work; a gateway is reached
    # under few names, so the answers are remembered (a bounded number of them).
    key = (
        scope["scheme"],
        tuple(scope.get("server") or ()),  # a list from some servers (ASGI allows any iterable)
        scope.get("root_path"),
        scope.get("app_root_path"),
        header(scope, b"host"),
    )
    found = _BASE_URLS.get(key)
    if found is None:
        found = str(request.base_url).rstrip("/")
        if len(_BASE_URLS) < _BASE_URLS_MAX:
            _BASE_URLS[key] = found
    return found


_BASE_URLS: dict[tuple[object, ...], str] = {}
_BASE_URLS_MAX = 256


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return Response(orjson.dumps(payload), status, headers, media_type="application/json")
    spliced = [_spliced(item) for item in data]
    images = [b64 for _, b64 in spliced if b64 is not None]
    text = orjson.dumps({**payload, "data": [item for item, _ in spliced]})
    if not images:
        return Response(text, status, headers, media_type="application/json")
    return SplicedJSON(text, images, status, headers)


# Where an image's base64 goes in the dumped answer: a NUL byte, which orjson never writes
# itself (a string's U+0000 is escaped as \u0000), so each one found is a placeholder.
_PLACE = orjson.Fragment(b"\x00")


def _spliced(item: Any) -> tuple[Any, Base64 | None]:
    """An answer's image with its `b64_json` (megabytes of base64, checked when it was read from
    the provider or encoded by us: nothing in it to escape) taken out and a placeholder left,
    and that base64; `(item, None)` when there is none, or it holds a quote, backslash or non-
    ASCII character (which base64 never does: the ordinary encoding then). An image's bytes
    still to encode (`schemas.LazyB64`) are encoded as they are sent (issue 16).

    The base64 is then sent as its own piece of the body (`SplicedJSON`), never copied into one
    answer: orjson neither scans it for escapes nor copies it (issue 16: about 4x less CPU than
    encoding a 4 MB image's base64 as a string), and the whole answer is never held at once as
    well as the base64 (bench/RESULTS.md)."""
    b64 = item.get("b64_json") if isinstance(item, dict) else None
    if isinstance(b64, LazyB64):
        return {**item, "b64_json": _PLACE}, b64
    if not isinstance(b64, str) or '"' in b64 or "\\" in b64 or not b64.isascii():
        return item, None
    return {**item, "b64_json": _PLACE}, b64


# Characters of a `LazyB64` encoded and sent at a time: fewer, larger pieces cost less CPU
# (probe under load: 64 kB pieces cost ~1 ms more per 4.2 MB image than 256 kB ones), and
# uvicorn waits for the write buffer to drain before it takes the next.
B64_PIECE = 256 * 1024


class SplicedJSON(Response):
    """A JSON answer whose images' base64 is sent between the pieces of the rest: `text` is the
    answer dumped with a placeholder (`_PLACE`) for each of `images`, each sent as
    `"<base64>"` in turn (ASGI `more_body`; one `Content-Length` for the whole). A `LazyB64` is
    encoded in pieces of `B64_PIECE` characters as it is sent: the server takes the next once
    its write buffer drained (uvicorn's flow control), so an answer never holds its base64
    whole. The body the client reads is byte for byte what `orjson.dumps` of the whole answer
    would have been (with each `LazyB64` as its text)."""

    media_type = "application/json"

    def __init__(
        self, text: bytes, images: list[Base64], status: int, headers: dict[str, str] | None
    ) -> None:
        rest = text.split(b"\x00")
        assert len(rest) == len(images) + 1  # one placeholder per image
        pieces: list[bytes | LazyB64] = [rest[0]]
        for b64, after in zip(images, rest[1:], strict=True):
            pieces += [b'"', b64.encode("ascii") if isinstance(b64, str) else b64, b'"' + after]
        self.pieces = pieces
        length = sum(len(piece) for piece in pieces)
        super().__init__(None, status, {**(headers or {}), "content-length": str(length)})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        pieces, self.pieces = self.pieces, []  # each let go once sent
        last = len(pieces) - 1
        for index in range(len(pieces)):
            piece, pieces[index] = pieces[index], b""
            if isinstance(piece, LazyB64):
                for part in piece.pieces(B64_PIECE):
                    await send({"type": "http.response.body", "body": part, "more_body": True})
                continue
            await send({"type": "http.response.body", "body": piece, "more_body": index < last})


def _attribute(
    state: dict[str, Any], target: tuple[str, str] | None, *, replace: bool = False
) -> None:
    """The provider and model the access log line names (`middleware.log_access`)."""
    if target is not None and (replace or state.get("provider") is None):
        state["provider"], state["model"] = target


def served_by(job: JobRow) -> tuple[str, str] | None:
    """Who served a finished job, or the (provider, model) its failure is attributed to."""
    if job["result"]:
        shell = job["result"]["shell"]
        return shell["provider"], shell["model"]
    error = job["error"] or {}
    if error.get("provider") and error.get("model"):
        return error["provider"], error["model"]
    return None


async def client_left_first(work: asyncio.Task[Any], receive: Receive) -> bool:
    """Wait for `work`; True if the client disconnected first (`work` is then still running).

    The request's own task watches the connection (`receive()` until `http.disconnect`), and
    `work`'s end cancels that wait, as `asyncio.timeout` cancels what it bounds: the
    cancellation is ours when `uncancel()` leaves none pending, and anything else (the server
    stopping the request) is raised. No task and no future of its own: this is every
    synchronous request, held for the whole generation, thousands at once."""
    task = asyncio.current_task()
    assert task is not None
    woken = False

    def wake(_: object) -> None:
        nonlocal woken
        woken = True
        task.cancel()

    work.add_done_callback(wake)
    try:
        # `middleware.disconnected`, inline: one coroutine frame fewer per request in flight
        while (await receive())["type"] != "http.disconnect":
            pass  # (a body's rest, read and dropped)
    except asyncio.CancelledError:
        if not woken or task.uncancel() > 0:
            raise  # not (only) ours: the server stops this request
        return False
    finally:
        work.remove_done_callback(wake)
    # Here `wake` never ran: once it has, the task's next step raises the cancellation above.
    return True


async def unless_client_leaves(waiting: Coroutine[Any, Any, T], receive: Receive) -> T:
    """What `waiting` returns, or `ClientDisconnect` when the client disconnects first (the
    wait is cancelled then: nothing is held for a client that is gone)."""
    work = asyncio.create_task(waiting)
    if await client_left_first(work, receive):
        work.cancel()
        raise ClientDisconnect()
    return work.result()


def _answer_headers(scope: Scope) -> tuple[str, str | None]:
    """Every `Prefer` header, joined, and the first `Idempotency-Key`, from the raw headers
    (without building Starlette's `Headers`)."""
    return header_list(scope, b"prefer"), header(scope, b"idempotency-key")


async def _finished(service: JobService, job: JobRow) -> Response:
    """A finished job as a synchronous request would have been answered (a failure with its
    stored status and body, which says when the outcome is unknown; `x-should-retry: false`)."""
    if job.status == "succeeded":
        return _json(await service.render_result(job))
    if job["error"]:
        return _json(job["error"]["body"], int(job["error"]["status"]), FINAL)
    return _json(
        {
            "error": {
                "message": "the job was canceled",
                "type": "invalid_request_error",
                "code": "job_canceled",
                "param": None,
            }
        },
        409,
        FINAL,
    )
