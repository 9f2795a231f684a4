"""Images as files under one root folder, written atomically (temp file, then rename)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from image_gateway.blobs.base import (
    IMAGE_ID_RE,
    ImageStore,
    StoredImage,
    content_type_of,
    new_image_id,
)


class LocalImageStore(ImageStore):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    async def put(self, data: bytes, content_type: str) -> str:
        image_id, _ = new_image_id(data, content_type)
        await asyncio.to_thread(self._write, image_id, data)
        return image_id

    def _write(self, image_id: str, data: bytes) -> None:
        path = self._path(image_id)
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_bytes(data)
        except FileNotFoundError:  # the first image of its folder: made now, not every time
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
        os.replace(tmp, path)

    async def get(self, image_id: str) -> StoredImage | None:
        if not IMAGE_ID_RE.match(image_id):
            return None
        try:
            data = await asyncio.to_thread(self._path(image_id).read_bytes)
        except FileNotFoundError:
            return None
        return StoredImage(data, content_type_of(image_id))

    async def delete(self, image_ids: list[str]) -> None:
        def unlink() -> None:
            for image_id in image_ids:
                if IMAGE_ID_RE.match(image_id):
                    self._path(image_id).unlink(missing_ok=True)

        await asyncio.to_thread(unlink)

    async def delete_older_than(self, age_seconds: float) -> int:
        return await asyncio.to_thread(self._delete_older_than, time.time() - age_seconds)

    def _delete_older_than(self, cutoff: float) -> int:
        deleted = 0
        if not self.root.is_dir():
            return 0
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                try:
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        deleted += 1
                except FileNotFoundError:
                    continue
        return deleted

    async def writable(self) -> bool:
        def check() -> bool:
            self.root.mkdir(parents=True, exist_ok=True)
            return os.access(self.root, os.W_OK)

        try:
            return await asyncio.to_thread(check)
        except OSError:
            return False

    def _path(self, image_id: str) -> Path:
        # Two-character fan-out keeps directories small; the id is validated before use.
        return self.root / image_id[:2] / image_id
