"""The submit-and-poll kit (`kit/polling.py`) over real sockets: BFL's adapter against the BFL
emulator, and a small queue-style provider (fal's shape: server-given status, result and cancel
URLs, progress, a result document listing several images) against an in-test aiohttp server."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiohttp import web

from image_gateway.errors import UNKNOWN_OUTCOME, UpstreamError
from image_gateway.providers.bfl.adapter import BFLProvider
from image_gateway.providers.bfl.config import BFLConfig
from image_gateway.providers.bfl.models import MODELS
from image_gateway.providers.kit import polling
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.journal import CallJournal, RequestJournal
from image_gateway.providers.kit.polling import (
    Call,
    Finished,
    Output,
    Pending,
    PollOutcome,
    ResultAt,
    SubmitAndPollProvider,
    Submitted,
)
from image_gateway.providers.kit.progress import Progress
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamClient, UpstreamResponse
from tests.conftest import BFL_TEST_KEY, Canary, LogCapture, RunningGateway, make_settings
from tests.image_host import make_image

PNG = make_image("PNG")


class Journal(CallJournal):
    """A job's call journal in memory: what was saved, progress reported, `submitted` set once
    the provider's handle is kept."""

    def __init__(self, state: dict[str, Any] | None = None, *, resumable: bool = True) -> None:
        self.writes: list[dict[str, Any] | None] = []
        self.progressed: list[float | None] = []
        self.submitted = asyncio.Event()

        async def save(state: dict[str, Any] | None) -> None:
            self.writes.append(state)
            if state is not None and state.get("phase") == "submitted":
                self.submitted.set()

        super().__init__(state, save, resumable=lambda: resumable)

    async def progress(self, value: float | Progress) -> None:
        self.progressed.append(Progress.of(value).fraction)


@pytest.fixture
async def http() -> AsyncIterator[UpstreamClient]:
    client = UpstreamClient(
        connect_timeout=2, read_timeout=2, max_connections=8, max_response_bytes=1 << 24
    )
    await client.start()
    yield client
    await client.close()


def task(prompt: str = "a lighthouse") -> ImageTask:
    return ImageTask(provider="bfl-flux", model="flux-dev", prompt=prompt)


def bfl_adapter(
    tmp_path: Path, bfl: Any, http: UpstreamClient, cls: type[BFLProvider] = BFLProvider
) -> BFLProvider:
    settings = make_settings(
        tmp_path,
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=[bfl.poll_base_url],
        bfl_poll_timeout_seconds=10,
    )
    return cls(settings, http)


async def test_a_resumed_call_only_polls(tmp_path: Path, bfl: Any, http: UpstreamClient) -> None:
    """A job whose worker stopped after BFL accepted its task: the next run (a new adapter, the
    journal read back) polls that task and is never submitted again."""
    journal = Journal()
    first = asyncio.create_task(
        bfl_adapter(tmp_path, bfl, http).generate(task(), MODELS["flux-dev"], journal)
    )
    await journal.submitted.wait()
    first.cancel()  # the worker stops
    with contextlib.suppress(asyncio.CancelledError):
        await first
    state = journal.writes[-1]
    assert state is not None and state["phase"] == "submitted" and state["polling_url"]
    assert bfl.stats()["submits"] == 1

    resumed = bfl_adapter(tmp_path, bfl, http)
    result = await resumed.generate(task(), MODELS["flux-dev"], Journal(dict(state)))
    assert len(result.images) == 1 and result.images[0].data.startswith(b"\xff\xd8")
    assert result.charge is not None and result.charge.credits == state.get("credits")
    stats = bfl.stats()
    assert stats["submits"] == 1 and stats["polls_by_task"][state["task_id"]] >= 1


class ForeignPollingUrl(BFLProvider):
    """BFL answering with a polling URL on an origin it is not trusted for; its own status URL
    is the emulator's (`poll_base` stands for BFL_BASE_URL's get_result)."""

    foreign = ""
    poll_base = ""

    def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
        submitted = super().parse_submit(resp, payload)
        return Submitted(submitted.task_id, self.foreign, credits=submitted.credits)

    def poll_url(self, task_id: str) -> str:
        return f"{self.poll_base}/v1/get_result?id={task_id}"


async def test_an_untrusted_polling_url_falls_back_to_the_providers_own(
    tmp_path: Path, bfl: Any, http: UpstreamClient, canary: Canary
) -> None:
    adapter = bfl_adapter(tmp_path, bfl, http, ForeignPollingUrl)
    adapter.foreign = f"http://localhost:{canary.port}/v1/get_result?id=x"
    adapter.poll_base = bfl.poll_base_url
    result = await adapter.generate(task(), MODELS["flux-dev"], Journal())
    assert len(result.images) == 1 and canary.accepted == 0
    assert bfl.stats()["submits"] == 1


async def test_an_untrusted_sample_is_refused_and_never_fetched(
    tmp_path: Path, bfl: Any, http: UpstreamClient, canary: Canary
) -> None:
    sample = f"http://localhost:{canary.port}/x.png"
    ready = {"id": "x", "status": "Ready", "result": {"sample": sample}}
    bfl.add_faults([{"match": "poll", "status": 200, "body": ready}])
    with pytest.raises(UpstreamError) as err:
        await bfl_adapter(tmp_path, bfl, http).generate(task(), MODELS["flux-dev"], Journal())
    assert "untrusted origin" in err.value.message and err.value.billed_unknown
    assert canary.accepted == 0 and bfl.stats()["submits"] == 1


async def test_a_servers_retry_hint_spaces_the_polls(
    tmp_path: Path, bfl: Any, http: UpstreamClient
) -> None:
    """Polls are free: a 429 is polled again, after its Retry-After (up to 5 max intervals)."""
    bfl.add_faults([{"match": "poll", "status": 429, "headers": {"retry-after": "0.4"}}])
    started = time.monotonic()
    result = await bfl_adapter(tmp_path, bfl, http).generate(task(), MODELS["flux-dev"], Journal())
    assert len(result.images) == 1 and time.monotonic() - started >= 0.4
    assert bfl.stats()["submits"] == 1


# -- a queue-style provider (fal's protocol) on an in-test server ---------------------------


class QueueServer:
    """`POST /submit` answers status, result and cancel URLs; the status is IN_PROGRESS (HTTP
    202, with progress) for `polls_until_done` polls, then COMPLETED; the result document lists
    one image by URL and one as a data: URL. Records each request's path and credentials."""

    def __init__(self, polls_until_done: int = 2, cancel_delay: float = 0.0) -> None:
        self.polls_until_done = polls_until_done
        self.cancel_delay = cancel_delay
        self.answers: dict[str, Any] = {}  # path -> the JSON answered instead of the usual
        self.seen: list[tuple[str, str, str | None]] = []  # method, path, authorization
        self.base = ""
        self.polls = 0
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)

    async def start(self) -> None:
        await self.runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        await web.SockSite(self.runner, sock).start()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path, request.headers.get("Authorization")))
        if request.path in self.answers:
            return web.json_response(self.answers[request.path])
        route = (request.method, request.path)
        if route == ("POST", "/submit"):
            req = f"{self.base}/requests/r1"
            return web.json_response(
                {
                    "request_id": "r1",
                    "status_url": f"{req}/status",
                    "response_url": req,
                    "cancel_url": f"{req}/cancel",
                }
            )
        if route == ("GET", "/requests/r1/status"):
            self.polls += 1
            if self.polls < self.polls_until_done:
                progress = self.polls / self.polls_until_done
                return web.json_response(
                    {"status": "IN_PROGRESS", "progress": progress}, status=202
                )
            return web.json_response({"status": "COMPLETED"})
        if route == ("GET", "/requests/r1"):
            inline = "data:image/png;base64," + base64.b64encode(PNG).decode()
            images = [{"url": f"{self.base}/files/a.png"}, {"url": inline}]
            return web.json_response({"images": images, "seed": 5})
        if route == ("GET", "/files/a.png"):
            return web.Response(body=PNG, content_type="image/png")
        if route == ("PUT", "/requests/r1/cancel"):
            await asyncio.sleep(self.cancel_delay)
            return web.json_response({"status": "CANCELLATION_REQUESTED"}, status=202)
        return web.json_response({"detail": "Not Found"}, status=404)

    def calls(self, method: str, path: str) -> list[str | None]:
        """The credentials each `method path` request carried."""
        return [auth for m, p, auth in self.seen if (m, p) == (method, path)]


Q = ModelSpec(id="q", description="a queue model", size_rule="any")


class QueueProvider(SubmitAndPollProvider[BFLConfig]):
    """fal's queue protocol in a few lines (BFL's settings stand in for a config of its own)."""

    definition = BFLProvider.definition
    models: ClassVar[dict[str, ModelSpec]] = {"q": Q}

    def submit_url(self, spec: ModelSpec) -> str:
        return f"{self.config.base_url}/submit"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return {"prompt": task.prompt}

    def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
        return Submitted(
            payload["request_id"],
            polling_url=payload["status_url"],
            cancel_url=payload["cancel_url"],
            result_url=payload["response_url"],
        )

    def parse_poll(self, resp: UpstreamResponse, payload: Any, submitted: Submitted) -> PollOutcome:
        if payload["status"] == "COMPLETED" and submitted.result_url:
            return ResultAt(submitted.result_url)
        return Pending(progress=payload.get("progress"))

    def parse_result(
        self, resp: UpstreamResponse, payload: Any, submitted: Submitted
    ) -> PollOutcome:
        seed = payload.get("seed")
        return Finished(tuple(Output.of(i["url"], self.name, seed) for i in payload["images"]))

    def cancel_call(self, submitted: Submitted) -> Call | None:
        return Call("PUT", submitted.cancel_url) if submitted.cancel_url else None


@pytest.fixture
async def queue() -> AsyncIterator[QueueServer]:
    server = QueueServer()
    await server.start()
    yield server
    await server.runner.cleanup()


def queue_adapter(tmp_path: Path, server: QueueServer, http: UpstreamClient) -> QueueProvider:
    settings = make_settings(
        tmp_path,
        bfl_api_key="queue-key-0123",
        bfl_base_url=server.base,
        bfl_trusted_hosts=[],
        bfl_poll_timeout_seconds=10,
    )
    return QueueProvider(settings, http)


async def test_a_result_document_with_several_images_and_progress(
    tmp_path: Path, queue: QueueServer, http: UpstreamClient
) -> None:
    queue.polls_until_done = 3
    journal = Journal()
    result = await queue_adapter(tmp_path, queue, http).generate(task(), Q, journal)
    assert [image.data for image in result.images] == [PNG, PNG]
    assert [image.seed for image in result.images] == [5, 5]
    assert journal.progressed == [pytest.approx(1 / 3), pytest.approx(2 / 3)]
    bearer = "Bearer queue-key-0123"
    assert queue.calls("GET", "/requests/r1/status") == [bearer] * 3
    assert queue.calls("GET", "/requests/r1") == [bearer]
    assert queue.calls("GET", "/files/a.png") == [None]  # downloads go without the key
    assert journal.writes[-1] == {
        "phase": "submitted",
        "task_id": "r1",
        "polling_url": f"{queue.base}/requests/r1/status",
        "cancel_url": f"{queue.base}/requests/r1/cancel",
        "result_url": f"{queue.base}/requests/r1",
    }


async def stop_while_polling(adapter: QueueProvider, journal: CallJournal) -> float:
    """Start a generation that never finishes, let it poll, then cancel it: the seconds the
    cancellation took."""
    work = asyncio.create_task(adapter.generate(task(), Q, journal))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    work.cancel()
    with pytest.raises(asyncio.CancelledError):
        await work
    return time.monotonic() - started


async def test_a_call_stopped_for_good_cancels_its_task(
    tmp_path: Path, queue: QueueServer, http: UpstreamClient
) -> None:
    queue.polls_until_done = 10**6
    await stop_while_polling(queue_adapter(tmp_path, queue, http), RequestJournal().call(0, 0))
    assert queue.calls("PUT", "/requests/r1/cancel") == ["Bearer queue-key-0123"]


async def test_a_call_that_will_resume_leaves_its_task_running(
    tmp_path: Path, queue: QueueServer, http: UpstreamClient
) -> None:
    """A job whose worker stops: the next run polls the same task, so it is not cancelled."""
    queue.polls_until_done = 10**6
    await stop_while_polling(queue_adapter(tmp_path, queue, http), Journal(resumable=True))
    assert queue.calls("PUT", "/requests/r1/cancel") == []
    await stop_while_polling(queue_adapter(tmp_path, queue, http), Journal(resumable=False))
    assert len(queue.calls("PUT", "/requests/r1/cancel")) == 1


async def test_a_slow_cancel_call_does_not_hold_the_cancellation(
    tmp_path: Path, queue: QueueServer, http: UpstreamClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(polling, "CANCEL_SECONDS", 0.2)
    queue.polls_until_done, queue.cancel_delay = 10**6, 3.0
    adapter = queue_adapter(tmp_path, queue, http)
    took = await stop_while_polling(adapter, RequestJournal().call(0, 0))
    assert took < 2.0 and len(queue.calls("PUT", "/requests/r1/cancel")) == 1


async def test_an_untrusted_status_url_without_a_fallback_is_never_polled(
    tmp_path: Path, queue: QueueServer, http: UpstreamClient, canary: Canary
) -> None:
    class Foreign(QueueProvider):
        def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
            return Submitted("r1", polling_url=f"http://localhost:{canary.port}/status")

    settings = queue_adapter(tmp_path, queue, http).settings
    with pytest.raises(UpstreamError) as err:
        await Foreign(settings, http).generate(task(), Q, Journal())
    assert err.value.billed_unknown and "BFL_TRUSTED_HOSTS" in err.value.message
    assert canary.accepted == 0


# -- answers an adapter's hooks cannot read, after the provider accepted the task ------------


def test_a_status_the_adapter_cannot_read_is_an_unknown_outcome_not_a_500(
    start_gateway: Any, bfl: Any, gateway_logs: LogCapture
) -> None:
    """BFL's own adapter, through the gateway: a poll answering `status: []` (its translation
    raises TypeError on it) ends the accepted task as an unknown outcome, never re-sent."""
    gw: RunningGateway = start_gateway(
        bfl_api_key=BFL_TEST_KEY, bfl_base_url=bfl.base_url, bfl_trusted_hosts=bfl.poll_base_url
    )
    bfl.add_faults([{"match": "poll", "status": 200, "body": {"status": []}}])
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={"model": "flux-dev", "prompt": "p"})
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["provider"]) == ("upstream_error", "bfl-flux")
    assert "bfl-flux returned an answer the gateway cannot read" in error["message"]
    assert UNKNOWN_OUTCOME in error["message"] and resp.headers["x-should-retry"] == "false"
    time.sleep(0.2)
    assert bfl.stats()["submits"] == 1
    (line,) = [line for line in gateway_logs.lines if "not readable after acceptance" in line]
    assert '"provider":"bfl-flux"' in line and '"error":"TypeError"' in line
    assert BFL_TEST_KEY not in "\n".join(gateway_logs.lines)


def handle(**fields: Any) -> dict[str, Any]:
    return {
        "request_id": "r1",
        "status_url": "/s",
        "response_url": "/r",
        "cancel_url": "/c",
        **fields,
    }


# case -> (path, its answer, what the hook raised): the queue provider's hooks and the
# `Submitted` they build, failing on it
UNREADABLE = {
    "status_url a number": ("/submit", handle(status_url=123), "TypeError"),
    "empty task id": ("/submit", handle(request_id=""), "ValueError"),
    "no task id": ("/submit", {"id": "r1"}, "KeyError"),
    "a status without its field": ("/requests/r1/status", {"state": "COMPLETED"}, "KeyError"),
    "images not objects": ("/requests/r1", {"images": ["x"]}, "TypeError"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
async def test_an_answer_a_hook_cannot_read_is_billed_unknown(
    tmp_path: Path, queue: QueueServer, http: UpstreamClient, gateway_logs: LogCapture, case: str
) -> None:
    """`parse_submit`, `parse_poll`, `parse_result` (or the `Submitted`/`Output` they build)
    failing on what the provider answered: an `UpstreamError` after acceptance, one submission."""
    path, answer, raised = UNREADABLE[case]
    queue.answers[path] = answer
    with pytest.raises(UpstreamError) as err:
        await queue_adapter(tmp_path, queue, http).generate(task(), Q, Journal())
    assert err.value.billed_unknown and not err.value.retryable
    assert "returned an answer the gateway cannot read" in err.value.message
    assert len(queue.calls("POST", "/submit")) == 1
    (line,) = [line for line in gateway_logs.lines if "not readable after acceptance" in line]
    assert '"provider":"bfl-flux"' in line and f'"error":"{raised}"' in line
    assert "queue-key" not in line


async def test_an_untrusted_cancel_url_is_not_called_and_says_so(
    tmp_path: Path,
    queue: QueueServer,
    http: UpstreamClient,
    canary: Canary,
    gateway_logs: LogCapture,
) -> None:
    foreign = f"http://localhost:{canary.port}/requests/r1/cancel?token=abc"
    queue.answers["/submit"] = handle(
        status_url=f"{queue.base}/requests/r1/status", cancel_url=foreign
    )
    queue.polls_until_done = 10**6
    await stop_while_polling(queue_adapter(tmp_path, queue, http), RequestJournal().call(0, 0))
    assert canary.accepted == 0
    (line,) = [line for line in gateway_logs.lines if "untrusted cancel_url" in line]
    assert '"provider":"bfl-flux"' in line
    assert f'"origin":"http://localhost:{canary.port}"' in line
    assert "token" not in line and "/requests" not in line and "queue-key" not in line
