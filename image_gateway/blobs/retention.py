"""Retention: a background loop that deletes stored images older than the configured age."""

from __future__ import annotations

import asyncio
import logging

from image_gateway.blobs.base import ImageStore

log = logging.getLogger("image_gateway.storage")


async def run_retention(store: ImageStore, *, max_age_seconds: float, interval: float) -> None:
    while True:
        try:
            deleted = await store.delete_older_than(max_age_seconds)
            if deleted:
                log.info("expired images deleted", extra={"fields": {"deleted": deleted}})
        except Exception as exc:  # a store outage must not kill the loop; try again later
            log.warning("image retention failed", extra={"fields": {"error": type(exc).__name__}})
        await asyncio.sleep(interval)
