"""Wires the job system from settings: the store, the queue (Redis Streams when `REDIS_URL` is
set, else in-process), the API-side service, the calls departed clients left behind and, when
`RUN_WORKERS` is on, a worker.

The store and what uses it are made on first use (a job request, or the worker's first poll),
with their SQLAlchemy: never by `import main`, nor before a start's first answers (issue 16)."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from image_gateway.access.persistence import Persistence
from image_gateway.blobs import ImageUrls
from image_gateway.generation.dispatch import Dispatcher
from image_gateway.generation.rendering import Renderer
from image_gateway.jobs.departed import DepartedCalls
from image_gateway.jobs.queue import JobQueue, MemoryJobQueue, RedisJobQueue
from image_gateway.jobs.service import JobService
from image_gateway.jobs.worker import JobWorker
from image_gateway.settings import Settings

if TYPE_CHECKING:
    from image_gateway.jobs.store import JobStore

log = logging.getLogger("image_gateway.jobs")


class Jobs:
    def __init__(
        self,
        settings: Settings,
        *,
        persistence: Persistence,
        dispatcher: Dispatcher,
        image_urls: ImageUrls,
        renderer: Renderer,
        run_workers: bool | None = None,
    ) -> None:
        self._settings = settings
        self._persistence = persistence
        self._dispatcher = dispatcher
        self._image_urls = image_urls
        self._renderer = renderer
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
        self._run_workers = settings.run_workers if run_workers is None else run_workers

    @cached_property
    def store(self) -> JobStore:
        from image_gateway.jobs.store import JobStore

        ttl = timedelta(hours=self._settings.idempotency_ttl_hours)
        return JobStore(self._persistence.db, idempotency_ttl=ttl)

    @cached_property
    def service(self) -> JobService:
        return JobService(
            store=self.store,
            queue=self.queue,
            dispatcher=self._dispatcher,
            image_urls=self._image_urls,
            renderer=self._renderer,
            webhook_allow_hosts=self._settings.webhook_allow_hosts,
        )

    @cached_property
    def departed(self) -> DepartedCalls:
        return DepartedCalls(
            store=self.store, service=self.service, grace=self._settings.shutdown_grace_seconds
        )

    @cached_property
    def worker(self) -> JobWorker | None:
        if not self._run_workers:
            return None
        persistence = self._persistence
        return JobWorker(
            self._settings,
            store=lambda: self.store,
            queue=self.queue,
            service=lambda: self.service,
            keys=lambda: persistence.keys,
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
        made = self.__dict__  # what was made (`cached_property` keeps it there)
        if "departed" in made:
            await self.departed.close()
        if made.get("worker") is not None:
            await self.worker.stop()  # type: ignore[union-attr]
        await self.queue.close()
