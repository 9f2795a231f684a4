"""Encoding an upstream request: pure functions (URL, headers, body) before anything touches a
socket, for `upstream.client`.

A URL is parsed as the trust check of server-given URLs parses it (`origins.split_url`), so
what was checked is where the request goes, and handed to aiohttp percent-encoded. Header names
must be tokens and values free of CR, LF and NUL (a header cannot smuggle another); the body's
framing and type are ours (a caller's Host, Content-Length, Transfer-Encoding or Connection is
dropped). JSON is serialized with orjson; multipart/form-data is encoded here, with a random
boundary and names escaped as browsers escape them; bytes already encoded (`content`: an OAuth
token request's urlencoded form, a body a SigV4 signature covers) are sent as they are, typed
by the caller's Content-Type. A body over 1 MB (an uploaded image, base64 in JSON) is handed
over as a one-piece async iterable with its Content-Length (`_large`): given raw bytes that
large aiohttp raises a ResourceWarning per request (silent by default, an error under
`-W error`), and the BytesIO it suggests costs ~3 ms of CPU per 4 MB (64 kB writes, a loop turn
each); this sends the same bytes in one write, with the same framing.
Anything that cannot be sent is a ValueError, raised before any connection.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from image_gateway.upstream.origins import DEFAULT_PORTS, Origin, split_url

if TYPE_CHECKING:
    from yarl import URL

_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\r\n\0]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
LARGE_BODY = 1 << 20  # aiohttp's TOO_LARGE_BYTES_BODY: raw bytes over it draw its warning


@dataclass(frozen=True, slots=True)
class FormPart:
    """One multipart/form-data part: a plain field (str) or a file (bytes + filename)."""

    name: str
    value: str | bytes
    filename: str | None = None
    content_type: str | None = None


def encode(
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    json: Any,
    form: list[FormPart] | None,
    content: bytes | None = None,
) -> tuple[URL, dict[str, str], bytes | AsyncIterator[bytes] | None]:
    """The target, the headers to add to the client's defaults (which the caller's override)
    and the body (None: none; POST, PUT and PATCH always send one, maybe empty; over
    `LARGE_BODY` bytes, an async iterable of them, and their Content-Length in the headers)."""
    target = _target(url)[1]
    data: bytes | None = None
    out: dict[str, str] = {}
    if json is not None:
        data = orjson.dumps(json)
        out["Content-Type"] = "application/json"
    elif form is not None:
        data, out["Content-Type"] = multipart(form)
    elif content is not None:
        data = content
    elif method in _BODY_METHODS:
        data = b""
    if headers:
        for name, value in headers.items():
            lowered = name.lower()
            if lowered in _FRAMING or (lowered == "content-type" and "Content-Type" in out):
                continue
            if not _TOKEN.fullmatch(name) or _CONTROL.search(value):
                raise ValueError("a header name or value holds a forbidden character")
            out[name] = value
    if data is not None and len(data) > LARGE_BODY:
        out["Content-Length"] = str(len(data))  # framing as for bytes: never chunked
        return target, out, _large(data)
    return target, out, data


async def _large(data: bytes) -> AsyncIterator[bytes]:
    """`data` in one piece, for aiohttp (see the module's docstring)."""
    yield data


_targets: dict[str, tuple[Origin, URL]] = {}


def _target(url: str) -> tuple[Origin, URL]:
    """`parse_url`, cached (URLs repeat)."""
    target = _targets.get(url)
    if target is None:
        target = parse_url(url)
        if len(_targets) >= 1024:
            _targets.clear()
        _targets[url] = target
    return target


def parse_url(url: str) -> tuple[Origin, URL]:
    """(origin, URL as sent) of an absolute http(s) URL; ValueError otherwise. The path and
    query are percent-encoded here and handed to aiohttp as they are (`encoded=True`)."""
    from yarl import URL

    origin, parts = split_url(url)
    scheme, host, port = origin
    path = quote(parts.path or "/", safe="/%!$&'()*+,;=:@-._~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/?%!$&'()*+,;=:@-._~")
    authority = f"[{host}]" if ":" in host else host
    if port != DEFAULT_PORTS[scheme]:
        authority += f":{port}"
    return origin, URL(f"{scheme}://{authority}{path}", encoded=True)


def multipart(parts: list[FormPart]) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type (random boundary, found in no value)."""
    encoded = [(p, p.value if isinstance(p.value, bytes) else p.value.encode()) for p in parts]
    boundary = secrets.token_hex(16)
    while any(boundary.encode() in value for _, value in encoded):
        boundary = secrets.token_hex(16)
    out: list[bytes] = []
    for part, value in encoded:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(part.name)}"'
        if isinstance(part.value, bytes):
            ctype = _CONTROL.sub("", part.content_type or "application/octet-stream")
            head += f'; filename="{_quoted(part.filename or "file")}"\r\nContent-Type: {ctype}'
        out += [head.encode(), b"\r\n\r\n", value, b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def _quoted(text: str) -> str:
    """A field name or filename inside quotes, escaped as browsers do (WHATWG HTML)."""
    return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
