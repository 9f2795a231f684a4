"""URLs for stored images: served by the gateway, optionally signed and time-limited.

With `IMAGE_URL_TTL_SECONDS` > 0 a URL carries `expires` and an HMAC-SHA256 `sig` over the id
and the expiry, so it stops working at that time; with 0 the unguessable id alone is the
credential. Instances that serve each other's URLs must share `IMAGE_URL_SECRET`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from image_gateway.blobs.base import ImageStore


class ImageUrls:
    def __init__(self, store: ImageStore, *, secret: bytes, ttl_seconds: float) -> None:
        self.store = store
        self.secret = secret
        self.ttl_seconds = ttl_seconds

    async def url_for(self, image_id: str, public_base_url: str) -> str:
        direct = await self.store.direct_url(image_id, self.ttl_seconds or None)
        if direct is not None:
            return direct
        url = f"{public_base_url}/v1/images/files/{image_id}"
        if self.ttl_seconds <= 0:
            return url
        expires = math.ceil(time.time() + self.ttl_seconds)
        return f"{url}?expires={expires}&sig={self._sign(image_id, expires)}"

    def allows(self, image_id: str, expires: str | None, sig: str | None) -> bool:
        """Whether a request for `image_id` with these query values may be served."""
        if self.ttl_seconds <= 0:
            return True
        if expires is None or sig is None or not expires.isdigit():
            return False
        if int(expires) < time.time():
            return False
        return hmac.compare_digest(sig, self._sign(image_id, int(expires)))

    def _sign(self, image_id: str, expires: int) -> str:
        message = f"{image_id}:{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()
