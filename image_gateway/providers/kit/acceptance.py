"""The one rule for failures after a provider accepted a paid call (a 2xx to a submission).

From then on the provider may have generated, and charged for, what it was asked: whatever
goes wrong must say the outcome is unknown (`ProviderError.after_acceptance()`:
`billed_unknown`, never sent again, `x-should-retry: false`), never a 500 "internal error" the
client may retry. `after_acceptance(provider)` wraps that part of a call (`kit/sync.py`: reading
the answer and downloading its images; `kit/polling.py`: reading the handle, polling,
downloading, the charge):

- a `ProviderError` (an adapter's own, or the kit's) is marked `after_acceptance()`;
- an exception of an answer the adapter's pure translations could not read (`UNREADABLE`:
  a missing key, a value of the wrong type or form: `images: ["x"]`, `status_url: 123`)
  becomes `UpstreamError` "returned an answer the gateway cannot read", marked so too, and
  one warning line (`provider`, the exception's type and its message, redacted as provider
  text: `redaction.provider_message`).

Anything else (a `CallerError`, a cancellation) passes unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from image_gateway.errors import ProviderError, UpstreamError
from image_gateway.providers.kit.redaction import provider_message

if TYPE_CHECKING:
    from image_gateway.providers.kit.base import Provider

log = logging.getLogger("image_gateway.providers.acceptance")

# What reading an unexpected answer raises in a translation (`payload["id"]`, `float(x)`, ...).
UNREADABLE = (LookupError, TypeError, ValueError, AttributeError)


@contextmanager
def after_acceptance(provider: Provider[Any]) -> Iterator[None]:
    """Failures inside are failures of an accepted call (see the module docstring)."""
    try:
        yield
    except ProviderError as exc:
        exc.after_acceptance()
        raise
    except UNREADABLE as exc:
        log.warning(
            "provider answer not readable after acceptance",
            extra={
                "fields": {
                    "provider": provider.name,
                    "error": type(exc).__name__,
                    "detail": provider_message(exc, provider.secrets()),
                }
            },
        )
        raise UpstreamError(
            f"{provider.name} returned an answer the gateway cannot read", provider=provider.name
        ).after_acceptance() from None
