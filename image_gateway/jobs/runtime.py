"""Wires the job system from settings: the store, the queue (Redis Streams when `REDIS_URL` is
set, else in-process), the API-side service, the calls departed clients left behind and, when
`RUN_WORKERS` is on, a worker."""

from __future__ import annotations

import logging
from datetime import timedelta

from image_gateway.access.key_store import KeyStore
from image_gateway.blobs import ImageUrls
from image_gateway.db.engine import Database
from image_gateway.generation.dispatch import Dispatcher
from image_gateway.generation.rendering import Renderer
from image_gateway.jobs.departed import DepartedCalls
from image_gateway.jobs.queue import JobQueue, MemoryJobQueue, RedisJobQueue
from image_gateway.jobs.service import JobService
from image_gateway.jobs.store import JobStore
from image_gateway.jobs.worker import JobWorker
from image_gateway.settings import Settings

log = logging.getLogger("image_gateway.jobs")


class Jobs:
    def __init__(
        self,
        settings: Settings,
        *,
        db: Database,
        keys: KeyStore,
        dispatcher: Dispatcher,
        image_urls: ImageUrls,
        renderer: Renderer,
        run_workers: bool | None = None,
    ) -> None:
        self.store = JobStore(db, idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours))
        self.queue: JobQueue
        if settings.redis_url is not None:
            import redis.asyncio as redis

            self.queue = RedisJobQueue(
                redis.Redis.from_url(
                    settings.redis_url.get_secret_value(),
                    socket_timeout=max(settings.redis_timeout_seconds, 5.0),
                ),
                stream=f"{settings.redis_key_prefix}jobs",
                reclaim_idle_seconds=settings.job_lease_seconds,
            )
        else:
            self.queue = MemoryJobQueue()
        self.service = JobService(
            store=self.store,
            queue=self.queue,
            dispatcher=dispatcher,
            image_urls=image_urls,
            renderer=renderer,
            webhook_allow_hosts=settings.webhook_allow_hosts,
        )
        self.departed = DepartedCalls(
            store=self.store, service=self.service, grace=settings.shutdown_grace_seconds
        )
        run = settings.run_workers if run_workers is None else run_workers
        self.worker = (
            JobWorker(settings, store=self.store, queue=self.queue, service=self.service, keys=keys)
            if run
            else None
        )

    async def start(self) -> None:
        if self.worker is not None:
            await self.worker.start()
        elif isinstance(self.queue, MemoryJobQueue):
            log.warning(
                "RUN_WORKERS=false without REDIS_URL: jobs submitted here run only when the "
                "workers of another gateway sharing this database sweep them up, after "
                "JOB_REQUEUE_AFTER_SECONDS; set REDIS_URL to hand them to workers at once"
            )

    async def close(self) -> None:
        await self.departed.close()
        if self.worker is not None:
            await self.worker.stop()
        await self.queue.close()
