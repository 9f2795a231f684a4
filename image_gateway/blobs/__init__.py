"""Durable storage for generated images, behind a small interface (`ImageStore`).

Provider URLs expire (BFL after 10 minutes, OpenAI after 60), so `response_format: "url"`
answers with a URL to bytes held here: a local folder by default, an S3-compatible bucket when
configured. `build_image_store()` picks the backend from settings.
"""

from __future__ import annotations

import secrets

from image_gateway.blobs.base import ImageStore, StoredImage
from image_gateway.blobs.local import LocalImageStore
from image_gateway.blobs.signed_urls import ImageUrls
from image_gateway.settings import Settings


def build_image_store(settings: Settings) -> ImageStore:
    if settings.image_store == "s3":
        from image_gateway.blobs.s3 import S3ImageStore

        assert settings.s3_bucket is not None, "checked by Settings"
        return S3ImageStore(
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=(
                settings.s3_secret_access_key.get_secret_value()
                if settings.s3_secret_access_key
                else None
            ),
            public_base_url=settings.s3_public_base_url,
            presign=settings.s3_presign,
        )
    return LocalImageStore(settings.image_store_dir)


def build_image_urls(settings: Settings, store: ImageStore) -> ImageUrls:
    secret = (
        settings.image_url_secret.get_secret_value().encode()
        if settings.image_url_secret
        else secrets.token_bytes(32)  # fine for one instance; shared secret needed for many
    )
    return ImageUrls(store, secret=secret, ttl_seconds=settings.image_url_ttl_seconds)


__all__ = [
    "ImageStore",
    "ImageUrls",
    "LocalImageStore",
    "StoredImage",
    "build_image_store",
    "build_image_urls",
]
