"""Images in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO) through aiobotocore.

aiobotocore is imported only when this backend is configured: botocore's import time is a
cost a serverless cold start should not pay for the default local store.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

from image_gateway.blobs.base import (
    IMAGE_ID_RE,
    ImageStore,
    StoredImage,
    content_type_of,
    new_image_id,
)


class S3ImageStore(ImageStore):
    def __init__(
        self,
        *,
        bucket: str,
        prefix: str,
        region: str,
        endpoint_url: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
        public_base_url: str | None,
        presign: bool,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.public_base_url = public_base_url
        self.presign = presign
        self._client_args: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": endpoint_url,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
        }
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    async def start(self) -> None:
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        config = AioConfig(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            # Custom endpoints (MinIO, R2, local servers) expect path-style addressing.
            s3={"addressing_style": "path" if self._client_args["endpoint_url"] else "auto"},
        )
        self._stack = AsyncExitStack()
        self._client = await self._stack.enter_async_context(
            get_session().create_client("s3", config=config, **self._client_args)
        )

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
            self._client = None

    def _key(self, image_id: str) -> str:
        return f"{self.prefix}{image_id}"

    async def put(self, data: bytes, content_type: str) -> str:
        image_id, content_type = new_image_id(data, content_type)
        # A public bucket or presigned link serves the object with this type; S3 cannot add
        # `nosniff` or a CSP itself (a CDN in front of the bucket can: README).
        await self._client.put_object(
            Bucket=self.bucket, Key=self._key(image_id), Body=data, ContentType=content_type
        )
        return image_id

    async def get(self, image_id: str) -> StoredImage | None:
        if not IMAGE_ID_RE.match(image_id):
            return None
        try:
            resp = await self._client.get_object(Bucket=self.bucket, Key=self._key(image_id))
        except self._client.exceptions.NoSuchKey:
            return None
        async with resp["Body"] as stream:
            data = await stream.read()
        return StoredImage(data, content_type_of(image_id))

    async def delete(self, image_ids: list[str]) -> None:
        keys = [{"Key": self._key(i)} for i in image_ids if IMAGE_ID_RE.match(i)]
        for start in range(0, len(keys), 1000):
            await self._client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": keys[start : start + 1000], "Quiet": True}
            )

    async def delete_older_than(self, age_seconds: float) -> int:
        cutoff = datetime.fromtimestamp(time.time() - age_seconds, UTC)
        paginator = self._client.get_paginator("list_objects_v2")
        deleted = 0
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            old = [
                {"Key": o["Key"]} for o in page.get("Contents", []) if o["LastModified"] < cutoff
            ]
            for start in range(0, len(old), 1000):
                await self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": old[start : start + 1000], "Quiet": True}
                )
            deleted += len(old)
        return deleted

    async def writable(self) -> bool:
        try:
            await self._client.head_bucket(Bucket=self.bucket)
        except Exception:  # any client error means "not ready"; the reason is logged by botocore
            return False
        return True

    async def direct_url(self, image_id: str, ttl_seconds: float | None) -> str | None:
        if self.public_base_url:
            return f"{self.public_base_url}/{self._key(image_id)}"
        if not self.presign:
            return None
        url: str = await self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._key(image_id)},
            ExpiresIn=int(ttl_seconds or 3600),
        )
        return url
