"""Input images given by URL, fetched by the gateway itself — only from public addresses.

Every user-supplied image reference (an edit's `image_url`, BFL `input_image*`/`image_prompt`)
goes through `ImageFetcher.load()`: http(s) URLs are downloaded behind the SSRF guard, `data:`
URLs and base64 are decoded locally (never fetched), and all are checked as images.

    urls.py       strict URL parser (scheme, userinfo, fragment, host forms)
    addresses.py  which addresses are public (IPv4/IPv6, numeric forms, embedded IPv4)
    fetcher.py    the session, the checking resolver, redirects, byte cap, deadline
    images.py     magic bytes, header dimensions (pixel bombs), Pillow verification
    params.py     request fields: cheap validation, then concurrent loading

Problems are `InvalidRequest` (400) naming the field; messages never show a resolved address.
`FETCH_ALLOW_HOSTS` (tests and local demos only) lets exact `host:port` pairs through.
"""

from image_gateway.fetch.fetcher import ImageFetcher
from image_gateway.fetch.params import check_image_value, load_all, resolve_image_params

__all__ = ["ImageFetcher", "check_image_value", "load_all", "resolve_image_params"]
