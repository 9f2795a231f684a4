"""The one seam through which every upstream (provider) HTTP call goes, and which of the URLs a
provider hands back may receive its key.

    client.py       `UpstreamClient.request()` on aiohttp: timeouts, proxy, TLS; `open_stream()`
    failures.py     the one table of transport failures as gateway errors
    sse.py          server-sent events of a streamed answer (`UpstreamStream`), httpx-sse's parser
    encoding.py     a request's URL, headers and body, checked and encoded before any socket
    body.py         a response's body read whole under the byte cap, gzip/deflate decoded here
    origins.py      trusted origins: where a provider's key (or our request at all) may go
    retry_after.py  `Retry-After` (and `retry-after-ms`), read from providers, written to clients
"""
