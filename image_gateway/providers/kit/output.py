"""Reading a provider's images safely: base64 checked, and every image vouched for by its
first bytes before it is answered or stored."""

from __future__ import annotations

import binascii

import pybase64

from image_gateway.errors import UpstreamError
from image_gateway.image_format import describe, what_it_looks_like
from image_gateway.providers.kit.b64_answer import Decoded
from image_gateway.schemas import GeneratedImage


def decode_b64_image(value: object, provider: str) -> bytes:
    """The bytes of a provider's base64 image, a str or a view of the bytes of its answer
    (`kit/b64_answer.loads(views=True)`), or already decoded as it arrived
    (`kit/b64_answer.Decoded`): strict (only the standard alphabet, padding at the end and only
    as much as needed; pybase64, SIMD), else `UpstreamError`."""
    if isinstance(value, Decoded):
        return b"".join(decode_b64_runs(value, provider))
    if isinstance(value, memoryview) and (value.ndim != 1 or value.itemsize != 1):
        value = None  # not a view of bytes
    if not isinstance(value, str | memoryview):
        raise UpstreamError(f"{provider} returned an image without data", provider=provider)
    try:
        return pybase64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(provider) from None


def decode_b64_runs(value: object, provider: str) -> list[bytes]:
    """`decode_b64_image`'s bytes in runs (each a multiple of 3 bytes but the last): those of a
    `Decoded` as they were decoded, never joined (`schemas.GeneratedImage`'s `runs`), else one."""
    if isinstance(value, Decoded):
        if value.runs is None:
            raise _invalid(provider)
        return value.runs
    return [decode_b64_image(value, provider)]


def _invalid(provider: str) -> UpstreamError:
    return UpstreamError(f"{provider} returned invalid base64 image data", provider=provider)


def check_images(images: list[GeneratedImage], provider: str) -> None:
    """Vouch for a provider's output before it is answered or stored: each image must be a PNG,
    JPEG or WebP whose header gives its dimensions (its first bytes; no pixel is decoded). Sets
    each image's `content_type` (from its magic, whatever the provider claimed) and `size`.

    Anything else — an HTML error page, SVG, JSON, a file cut short — is an `UpstreamError`
    (502, `invalid_image_output`) that says the provider has probably charged for it: the call
    succeeded as far as the provider is concerned, so it is never re-sent (`billed_unknown`)."""
    for index, image in enumerate(images):
        # The header from the first bytes alone (an image held as base64 is not decoded); where
        # they do not give it (a JPEG with more metadata first, or no image), from all of them.
        info = describe(image.head()) or describe(image.data)
        if info is None:
            raise UpstreamError(
                f"{provider} answered with something that is not an image "
                f"(image {index}: {what_it_looks_like(image.data)}); nothing was kept or "
                "returned, but the provider has probably charged for it",
                code="invalid_image_output",
                provider=provider,
                billed_unknown=True,
            )
        image.content_type, image.size = info.mime, info.size
