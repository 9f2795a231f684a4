"""Jobs as the API sees them: submit (idempotently), read, list, cancel, wait, and the JSON a
job is shown as. Running them is the worker's (`worker.py`).

A job is admitted when it is submitted, by the dispatcher's `preflight()` — the very checks a
synchronous request gets, so every refusal is the same status and code before the 202 and no
job exists — and keeps that admission (its concurrency slot and budget reservation) in its row
until it ends: the worker settles it, or a cancel while queued releases it. A replay of an
accepted request (same Idempotency-Key and body) returns its job before any check: it costs
nothing, so nothing refuses it.

What the pre-flight loaded for a job is kept in the image store, as an edit's uploads are:
its input images (uploaded or fetched by URL), its mask, and the `provider_params` images a
provider's `prepare` loaded (`inputs.params`, name → image id); the worker puts them back, so
nothing is fetched twice and a URL is never fetched after the 202.

A job's result is kept as stored image ids, never bytes, and rendered by the renderer that
renders synchronous answers (`rendering.Renderer`): `GET /v1/jobs/{id}` shows it in the shape of
the synchronous response (`b64_json` read back from the image store, or `url`).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
import pybase64

from image_gateway.access.auth import Client
from image_gateway.access.controls import Admission
from image_gateway.blobs import ImageUrls
from image_gateway.errors import InvalidRequest, NotFound
from image_gateway.fetch.addresses import is_public
from image_gateway.fetch.fetcher import BlockedAddress, GuardedResolver
from image_gateway.fetch.urls import ParsedUrl, Refused, parse_target
from image_gateway.generation.dispatch import Admitted, Dispatcher
from image_gateway.generation.rendering import Generation, Renderer
from image_gateway.image_format import sniff_image_type
from image_gateway.jobs.pacing import retry_after
from image_gateway.jobs.queue import JobQueue
from image_gateway.jobs.rows import JobRow, NewJob
from image_gateway.jobs.runs_here import RunsHere
from image_gateway.schemas import GenerationBody, ImageRef, InputImage

if TYPE_CHECKING:
    from image_gateway.jobs.store import JobStore

JOB_FIELDS_NOT_HASHED = ("webhook_secret",)
WEBHOOK_RESOLVE_SECONDS = 3.0


class Submission(NamedTuple):
    job: JobRow
    created: bool  # False: an Idempotency-Key found the job of an earlier request
    target: tuple[str, str] | None  # the (provider, model) the job tries first


def owner_of(client: Client) -> str:
    if client.key_id is not None:
        return f"key:{client.key_id}"
    return "development" if client.name == "development" else f"env:{client.name}"


class JobService:
    def __init__(
        self,
        *,
        store: JobStore,
        queue: JobQueue,
        dispatcher: Dispatcher,
        image_urls: ImageUrls,
        renderer: Renderer,
        webhook_allow_hosts: list[str],
    ) -> None:
        self.store = store
        self.queue = queue
        self.dispatcher = dispatcher
        self.image_urls = image_urls
        self.renderer = renderer
        self.webhook_allow = frozenset(h.lower() for h in webhook_allow_hosts)
        # The jobs this process's worker runs, and a notice when a run ends (`watch`).
        self.runs = RunsHere()

    async def submit(
        self,
        body: GenerationBody,
        *,
        client: Client,
        public_base_url: str,
        request_id: str | None,
        images: list[InputImage],
        mask: InputImage | None,
        idempotency_key: str | None,
        refs: Sequence[ImageRef] = (),
    ) -> Submission:
        """Replay (an Idempotency-Key already used for this body), or check and admit now (a
        refusal is the synchronous request's, at once, not a failed job), store the inputs,
        create the job with its admission and wake a worker. Returns the job, whether it is
        new, and the (provider, model) it tries first (None for a replay, which is not
        planned again)."""
        request = body.model_dump(mode="json", exclude_none=True)
        request_hash = _hash(request, images, mask, refs)
        owner = owner_of(client)
        if idempotency_key is not None:
            existing = await self.store.create_probe(owner, idempotency_key, request_hash)
            if existing is not None:
                return Submission(existing, False, None)
        if body.webhook_url is not None:
            await self.check_webhook_url(body.webhook_url)
        admitted = await self.dispatcher.preflight(
            body, client=client, request_id=request_id, images=images, mask=mask, refs=refs
        )
        admission = admitted.admission
        primary = admitted.plan.candidates[0]
        created = False
        try:
            inputs = await self._keep_inputs(admitted)
            job, created = await self.store.create(
                NewJob(
                    owner=owner,
                    user_id=body.user_id or body.user,
                    kind="edit" if admitted.images else "generate",
                    request=request,
                    inputs=inputs,
                    public_base_url=public_base_url,
                    webhook_url=body.webhook_url,
                    webhook_secret=body.webhook_secret,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                    request_id=request_id,
                    admission=held(admission),
                )
            )
        finally:
            if not created:  # refused, failed, or a concurrent request with the key made it
                await self.dispatcher.release(admission)
        if created:
            await self.queue.enqueue(job.id)
        return Submission(job, created, (primary.provider.name, primary.spec.id))

    async def _keep_inputs(self, admitted: Admitted) -> dict[str, Any] | None:
        """What the pre-flight loaded, in the image store (see the module docstring)."""
        store = self.image_urls.store
        inputs: dict[str, Any] = {}
        if admitted.images:
            inputs["images"] = [await store.put(i.data, i.content_type) for i in admitted.images]
            if admitted.mask is not None:
                inputs["mask"] = await store.put(admitted.mask.data, admitted.mask.content_type)
        params = {}
        for name, value in admitted.prepared.items():
            data = pybase64.b64decode(value)
            params[name] = await store.put(data, sniff_image_type(data) or "image/png")
        if params:
            inputs["params"] = params
        return inputs or None

    async def cancel(self, job_id: str, client: Client) -> JobRow:
        """Cancel a queued job at once (giving back what its admission holds); ask the worker
        of a running one to stop. 404 for another key's job."""
        await self.get(job_id, client)
        owner = None if client.admin else owner_of(client)
        job, canceled_queued = await self.store.request_cancel(job_id, owner)
        assert job is not None
        if canceled_queued:
            await self.release(job)
            self.runs.ended(job_id)  # its waiters answer now
        return job

    async def release(self, job: JobRow) -> None:
        """Give back what the job's admission holds: it ends without calling a provider."""
        # Releasing needs only what the admission holds, not the key (which may be revoked).
        admission = restored(job, Client(job["owner"]))
        if admission is not None:
            await self.dispatcher.release(admission)

    async def check_webhook_url(self, url: str) -> None:
        """Webhook targets must be public http(s) URLs. A name is resolved now, so a loopback
        or private target is a 400 before any job exists; the delivery checks every resolved
        address again when it connects (DNS rebinding)."""
        try:
            target = parse_target(url)
        except Refused as exc:
            raise InvalidRequest(f"webhook_url {exc}", param="webhook_url") from None
        if not self.allows_webhook_target(target):
            raise InvalidRequest("webhook_url must be a public address", param="webhook_url")
        if target.ip is not None or target.authority in self.webhook_allow:
            return
        resolver = GuardedResolver(self.webhook_allow)
        try:
            await asyncio.wait_for(
                resolver.resolve(target.host, target.port), WEBHOOK_RESOLVE_SECONDS
            )
        except BlockedAddress:
            raise InvalidRequest(
                "webhook_url must be a public address", param="webhook_url"
            ) from None
        except (OSError, TimeoutError):
            return  # not resolvable right now: the delivery resolves (and checks) it again

    def allows_webhook_target(self, target: ParsedUrl) -> bool:
        """The checks that need no DNS, as for input image URLs: an address literal must be
        public, a name fully qualified and not `localhost` (unless WEBHOOK_ALLOW_HOSTS)."""
        if target.authority in self.webhook_allow:
            return True
        if target.ip is not None:
            return is_public(target.ip)
        host = target.host
        return "." in host and host != "localhost" and not host.endswith(".localhost")

    async def get(self, job_id: str, client: Client) -> JobRow:
        """The job, if the client's key submitted it (any job for the admin key); 404 else."""
        job = await self.find(job_id, client)
        if job is None:
            raise NotFound("no such job", param="job_id", code="job_not_found")
        return job

    async def find(self, job_id: str, client: Client) -> JobRow | None:
        """`get()` without the 404: None when the job is not the client's or is gone."""
        return await self.store.get(job_id, None if client.admin else owner_of(client))

    async def page(
        self,
        client: Client,
        *,
        status: str | None,
        user_id: str | None,
        limit: int,
        before: tuple[datetime, str] | None,
    ) -> list[JobRow]:
        """The client's jobs (every key's for the admin key), newest first; `before` is the
        (created_at, id) of the last job of the previous page."""
        owner = None if client.admin else owner_of(client)
        return await self.store.page(
            owner, status=status, user_id=user_id, limit=limit, before=before
        )

    async def wait(self, job_id: str, seconds: float, poll: float = 0.1) -> JobRow | None:
        """The job once it is finished, or None when `seconds` pass first (`watch`; a job run
        elsewhere is read again after `poll` seconds, growing to 1 s)."""
        job = await self.store.get(job_id)
        if job is None:
            return None

        def pace(_job: JobRow) -> float:
            nonlocal poll
            wait, poll = poll, min(poll * 1.5, 1.0)
            return wait

        job = await self._watch(job, seconds, None, pace)
        return job if job.terminal else None

    async def watch(self, job: JobRow, client: Client, seconds: float) -> JobRow:
        """`job` (as read for `client`) once it has ended, or as it is after `seconds` (a
        `GET /v1/jobs/{id}` with `Prefer: wait=N`). A job this process runs is read again when
        its run ends here (`runs_here.py`), one run elsewhere at the pacing interval
        (`pacing.retry_after`). A job deleted meanwhile is shown as it was last read."""
        owner = None if client.admin else owner_of(client)
        return await self._watch(job, seconds, owner, self._pace)

    @staticmethod
    def _pace(job: JobRow) -> float:
        return float(retry_after(job, time.time()) or 1)

    async def _watch(
        self, job: JobRow, seconds: float, owner: str | None, pace: Callable[[JobRow], float]
    ) -> JobRow:
        deadline = time.monotonic() + seconds
        while not job.terminal:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # Checked after the row was read, with no await until the waiter is in place:
            # a run here that ends after this check wakes it.
            await self.runs.wait(job.id, left if job.id in self.runs else min(left, pace(job)))
            found = await self.store.get(job.id, owner)
            if found is None:
                break
            job = found
        return job

    async def view(self, job: JobRow, *, with_result: bool = True) -> dict[str, Any]:
        """A job as JSON: status, timings, where to watch it, and its result or error."""
        base = job["public_base_url"]
        view: dict[str, Any] = {
            "id": job.id,
            "object": "image.job",
            "status": job.status,
            "progress": job["progress"],
            "kind": job["kind"],
            "user_id": job["user_id"],
            "created_at": _unix(job["created_at"]),
            "started_at": _unix(job["started_at"]),
            "finished_at": _unix(job["finished_at"]),
            "attempts": job["attempts"],
            "cancel_requested": bool(job["cancel_requested"]),
            "status_url": f"{base}/v1/jobs/{job.id}",
            "events_url": f"{base}/v1/jobs/{job.id}/events",
            "result": None,
            "error": job["error"]["body"] if job["error"] else None,
        }
        if job["webhook_url"]:
            state = job["webhook"] or {}
            view["webhook"] = {"url": job["webhook_url"], **state}
        if with_result and job["result"]:
            try:
                view["result"] = await self.render_result(job)
            except NotFound:  # its images outlived IMAGE_RETENTION_HOURS: the job is still here
                view["result_expired"] = True
        return view

    async def partial_image(self, job: JobRow, ref: dict[str, Any]) -> dict[str, Any] | None:
        """A `partial_image` event of the job's events from a reference its worker wrote
        (`JobJournal.partial_image`): OpenAI's partial image event fields (its `type` by the
        job's kind, `b64_json`, `partial_image_index`, `size`, ...) plus the job `id` and the
        `image_index` within the request; None once the image is gone (the job ended)."""
        stored = await self.image_urls.store.get(ref["image_id"])
        if stored is None:
            return None
        kind = "image_generation" if job["kind"] == "generate" else "image_edit"
        fields = {k: v for k, v in ref.items() if k != "image_id"}
        return {
            "id": job.id,
            "type": f"{kind}.partial_image",
            **fields,
            "b64_json": pybase64.b64encode(stored.data).decode("ascii"),
        }

    async def store_result(self, generation: Generation, body: GenerationBody) -> dict[str, Any]:
        """A finished generation as a job's `result` (`Renderer.keep`)."""
        return await self.renderer.keep(generation, body.response_format)

    async def render_result(self, job: JobRow) -> dict[str, Any]:
        """A succeeded job's result as the synchronous answer's body (`Renderer.render_kept`),
        in the format its request asked for."""
        return await self.renderer.render_kept(
            job["result"], job["request"].get("response_format"), job["public_base_url"]
        )


def held(admission: Admission) -> dict[str, Any]:
    """An admission as a job row keeps it (JSON)."""
    return {"provider": admission.provider, "model": admission.model, "data": admission.data}


def restored(job: JobRow, client: Client) -> Admission | None:
    """The admission a job was submitted with, for `client` (the key as it is now); None for
    a job queued by a version that admitted jobs only when they ran."""
    kept = job["admission"]
    if not kept:
        return None
    return Admission(
        client,
        kept["provider"],
        kept["model"],
        job["user_id"],
        job["request_id"],
        dict(kept["data"]),
    )


def _hash(
    request: dict[str, Any],
    images: list[InputImage],
    mask: InputImage | None,
    refs: Sequence[ImageRef] = (),
) -> str:
    """What makes two requests "the same" for Idempotency-Key: the body, the uploaded bytes and
    the URLs of the images it names (a replay is recognised before anything is fetched)."""
    digest = hashlib.sha256()
    hashed = {k: v for k, v in request.items() if k not in JOB_FIELDS_NOT_HASHED}
    digest.update(orjson.dumps(hashed, option=orjson.OPT_SORT_KEYS))
    for item in [*images, *([mask] if mask else [])]:
        digest.update(hashlib.sha256(item.data).digest())
    if refs:
        named = [[ref.field, ref.url] for ref in refs]
        digest.update(hashlib.sha256(orjson.dumps(named)).digest())
    return digest.hexdigest()


def _unix(moment: Any) -> int | None:
    if moment is None:
        return None
    return int(moment.replace(tzinfo=UTC).timestamp())
