"""`image-gateway worker`: a process that runs job workers and serves no HTTP.

It builds the same app as the server (providers, database, image store, Redis queue), with
the factory `cli.py` hands it (`app.create_app`: this module imports nothing above jobs/), and
runs its start-up and shut-down with RUN_WORKERS forced on, so a worker is configured exactly
like a gateway. SIGTERM or SIGINT stops it gracefully: no new jobs are taken, running ones are
interrupted and their leases released, so another worker resumes them from their journals at
once (a second signal exits at once; a kill -9 leaves the leases to expire after
JOB_LEASE_SECONDS instead).

A separate worker needs REDIS_URL: that is how jobs submitted to other processes reach it. An
instance without Redis keeps its queue in memory, so its jobs are run by its own workers.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable

from fastapi import FastAPI

from image_gateway.settings import Settings


def run_worker(
    settings: Settings, build_app: Callable[[Settings], FastAPI], *, concurrency: int | None = None
) -> int:
    """Run until SIGTERM/SIGINT. Exit status: 0 stopped, 1 store unreachable, 2 configuration."""
    if settings.redis_url is None:
        print(
            "error: `image-gateway worker` needs REDIS_URL (jobs reach a separate worker through "
            "the Redis queue); without Redis, run the workers inside the gateway "
            "(RUN_WORKERS=true, the default)",
            file=sys.stderr,
        )
        return 2
    update: dict[str, object] = {"run_workers": True}
    if concurrency is not None:
        update["worker_concurrency"] = concurrency
    return asyncio.run(_serve(settings.model_copy(update=update), build_app))


async def _serve(settings: Settings, build_app: Callable[[Settings], FastAPI]) -> int:
    from image_gateway.access.persistence import StoreUnavailable

    app = build_app(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)

    def on_signal() -> None:
        stop.set()
        for sig in signals:  # a second signal ends the process the default way
            loop.remove_signal_handler(sig)

    for sig in signals:
        loop.add_signal_handler(sig, on_signal)
    try:
        async with app.router.lifespan_context(app):
            worker = app.state.jobs.worker
            print(
                f"image-gateway worker {worker.name} running {settings.worker_concurrency} job "
                f"loops (database {app.state.persistence.db.display_url}); SIGTERM stops it",
                flush=True,
            )
            await stop.wait()
            print(f"image-gateway worker {worker.name} stopping", flush=True)
    except StoreUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        # Never echo exception text: a driver or client error can carry a URL with a password.
        print(f"error: the worker failed to start or stop ({type(exc).__name__})", file=sys.stderr)
        return 1
    return 0
