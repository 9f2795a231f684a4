"""Transport failures as gateway errors: the one mapping (`gateway_error`), used by every call
of `upstream.client` and by the streams of `upstream.sse`. Messages never carry URLs, headers
or keys (`first_send`: a POST, see `UpstreamClient.request()`):

    refused, DNS, TLS failure; proxy refused   UpstreamError    retryable=first_send
    no connection within connect_timeout       UpstreamTimeout  retryable=first_send
    silent > read_timeout, or past deadline    UpstreamTimeout  billed_unknown=first_send
    reset, early EOF, malformed response       UpstreamError    billed_unknown=first_send
    body over max_response_bytes               UpstreamError    billed_unknown=first_send, if 2xx
    URL or header that is not valid HTTP       UpstreamError    (neither: nothing was sent)
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import ProviderError, UpstreamError, UpstreamTimeout
from image_gateway.upstream.body import BodyTooLarge, MalformedBody


def gateway_error(exc: Exception, provider: str, first_send: bool) -> ProviderError | None:
    """The gateway error for a transport failure; None for anything else (a bug: re-raised)."""
    import aiohttp

    if isinstance(exc, BodyTooLarge):
        return UpstreamError(
            f"{provider} response is too large",
            provider=provider,
            billed_unknown=first_send and 200 <= exc.status < 300,
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError) or (
        isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, TimeoutError)
    ):  # ours (DNS, TCP, TLS), or the kernel's ETIMEDOUT
        return UpstreamTimeout(
            f"{provider} did not accept a connection in time",
            provider=provider,
            retryable=first_send,
        )
    if isinstance(exc, TimeoutError):  # sock_read (aiohttp's SocketTimeoutError), or deadline
        return UpstreamTimeout(
            f"{provider} did not answer in time", provider=provider, billed_unknown=first_send
        )
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientHttpProxyError):
        # refused, unreachable, DNS, TLS, or the proxy refused the tunnel: nothing reached
        # the provider
        return UpstreamError(
            f"could not connect to {provider}", provider=provider, retryable=first_send
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return UpstreamError(f"request to {provider} is not valid HTTP", provider=provider)
    reason = _reason(exc, aiohttp)
    if reason is None:
        return None
    return UpstreamError(
        f"connection to {provider} failed ({reason})",
        provider=provider,
        billed_unknown=first_send,
    )


def _reason(exc: Exception, aiohttp: Any) -> str | None:
    if isinstance(exc, MalformedBody):
        return f"malformed response: {exc}"
    if isinstance(exc, aiohttp.ClientResponseError):  # the parser refused the status or head
        return "malformed response"
    if isinstance(exc, aiohttp.ClientPayloadError):  # cut short, or bad chunked framing
        return "incomplete or malformed response body"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "closed before the response was complete"
    if isinstance(exc, aiohttp.ClientOSError | aiohttp.ClientConnectionResetError):
        return "connection reset"
    if isinstance(exc, aiohttp.ClientError):
        return "connection lost"
    return None
