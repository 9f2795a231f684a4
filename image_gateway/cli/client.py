"""HTTP to a gateway for the client commands (`generate`, `edit`, `models`, `jobs`): one
`httpx.AsyncClient` with the key in `X-API-Key`, job event streams read with `httpx-sse`, and the
API's error bodies (`{"error": {"message", "code", "param", ...}}`, README "Errors") raised as
`RequestFailed` — or, when the gateway is not reached or refuses the key, `Unusable`.

Where: `--url`, else `IMAGE_GATEWAY_URL`, else http://127.0.0.1:8000 (what `make run` serves).
The key: `--api-key`, else `IMAGE_GATEWAY_API_KEY`, else none (a gateway in development mode
serves loopback clients without one). The key is sent to that origin only: images the gateway
links to by URL are downloaded without it (their unguessable id is their credential, README
"Endpoints"), and no message this module makes contains it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from httpx_sse import SSEError, aconnect_sse

DEFAULT_URL = "http://127.0.0.1:8000"
URL_VARIABLE = "IMAGE_GATEWAY_URL"
KEY_VARIABLE = "IMAGE_GATEWAY_API_KEY"

# Seconds. The event stream sends a comment every 15 s while a job is quiet (api/jobs.py), so a
# read waiting 60 s without a byte means the connection is gone.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
# An event stream that drops mid-job is opened again this many times in a row (a stream that ends
# after the gateway's 15 minutes is opened again without counting).
STREAM_RETRIES = 3


class CliError(Exception):
    """A failure the command reports as one line on stderr; `exit_code` is its exit status."""

    exit_code = 1

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class RequestFailed(CliError):
    """The gateway answered a request with an error (exit status 1)."""


class Unusable(CliError):
    """Bad arguments or configuration: the gateway unreachable, the URL malformed, the key
    refused (exit status 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Target:
    """The gateway's base URL (no trailing slash, no `/v1`) and the key sent to it."""

    url: str
    api_key: str | None

    @classmethod
    def from_options(cls, url: str | None, api_key: str | None) -> Target:
        """The flags first, then the environment; `Unusable` for a URL that is not http(s)."""
        raw = url or os.environ.get(URL_VARIABLE) or DEFAULT_URL
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            source = "--url" if url else URL_VARIABLE
            raise Unusable(f"{source} must be an http:// or https:// URL, like {DEFAULT_URL}")
        key = api_key if api_key is not None else os.environ.get(KEY_VARIABLE)
        base = raw.rstrip("/")
        # The start-up log and the SDKs' base_url name the API as .../v1; the routes add it.
        if base.endswith("/v1"):
            base = base.removesuffix("/v1")
        return cls(base, key or None)


class Gateway:
    """An open connection pool to one gateway; use as `async with Gateway(target) as gw`."""

    def __init__(self, target: Target) -> None:
        self.target = target
        headers = {"X-API-Key": target.api_key} if target.api_key else {}
        timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
        self._http = httpx.AsyncClient(base_url=target.url, headers=headers, timeout=timeout)
        # Downloads of linked images: no key, whatever host the link names.
        self._plain = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()
        await self._plain.aclose()

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `path` and its JSON body; `RequestFailed`/`Unusable` for an error answer."""
        return await self._send("GET", path, params=params)

    async def post(
        self,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """POST a JSON body, or a multipart form (`data` and `files`), and its JSON answer."""
        return await self._send("POST", path, json=json, data=data, files=files, headers=headers)

    async def events(self, path: str) -> AsyncIterator[tuple[str, Any]]:
        """The Server-Sent Events of `path` as (event name, JSON data) pairs, until the server
        ends the stream. An error answer raises as `get` does."""
        try:
            async with aconnect_sse(self._http, "GET", path) as source:
                if source.response.status_code >= 400:
                    await source.response.aread()
                    raise self._error(source.response)
                async for event in source.aiter_sse():
                    try:
                        data = event.json() if event.data else None
                    except ValueError:
                        data = None  # not JSON: passed on as None, the name still counts
                    yield event.event, data
        except SSEError as exc:
            raise RequestFailed(
                f"the gateway's event stream at {path} is not one ({exc})"
            ) from None
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None

    async def download(self, url: str) -> bytes:
        """The bytes of an image the gateway links to (a relative link is on the gateway)."""
        absolute = urljoin(self.target.url + "/", url)
        try:
            resp = await self._plain.get(absolute)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if resp.status_code != 200:
            raise RequestFailed(
                f"downloading an image failed: HTTP {resp.status_code}", status=resp.status_code
            )
        return resp.content

    async def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if resp.status_code >= 400:
            raise self._error(resp)
        try:
            return resp.json()
        except ValueError:
            raise RequestFailed(
                f"the gateway answered {method} {path} with something that is not JSON "
                f"(HTTP {resp.status_code})",
                status=resp.status_code,
            ) from None

    def _error(self, resp: httpx.Response) -> CliError:
        """The API's error body as an exception: its message, code and status."""
        body = _error_body(resp)
        message = str(body.get("message") or f"HTTP {resp.status_code} from the gateway")
        code = body.get("code") if isinstance(body.get("code"), str) else None
        if resp.status_code == 401:
            what = "check" if self.target.api_key else "set"
            return Unusable(
                f"the gateway refused the request: {message}; {what} {KEY_VARIABLE} or --api-key",
                code=code,
                status=401,
            )
        return RequestFailed(self.redact(in_cli_words(message)), code=code, status=resp.status_code)

    def _transport_error(self, exc: httpx.HTTPError) -> CliError:
        kind = type(exc).__name__
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return Unusable(
                f"cannot reach the gateway at {self.target.url} ({kind}): is it running? "
                f"Set {URL_VARIABLE} or --url"
            )
        if isinstance(exc, httpx.TimeoutException):
            return RequestFailed(f"the gateway at {self.target.url} stopped answering ({kind})")
        return RequestFailed(f"the connection to the gateway at {self.target.url} failed ({kind})")

    def redact(self, text: str) -> str:
        """`text` without the key (the gateway never echoes it; this holds whatever it says)."""
        key = self.target.api_key
        return text.replace(key, "[key]") if key else text


# The API's pointers to its own routes, as the command that does the same (README "Command line").
CLI_WORDS = (
    ("see GET /v1/models", "see image-gateway models"),
    ("use POST /v1/images/edits", "use image-gateway edit IMAGE PROMPT"),
    ("is not configured: set ", "is not configured on the gateway: its operator sets "),
)


def in_cli_words(message: str) -> str:
    """`message` with the API's pointers to routes and server settings put as a CLI user
    acts on them."""
    for api, cli in CLI_WORDS:
        message = message.replace(api, cli)
    return message


def _error_body(resp: httpx.Response) -> dict[str, Any]:
    try:
        payload = resp.json()
    except ValueError:
        return {}
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else {}


def job_error(job: Mapping[str, Any]) -> tuple[str, str | None]:
    """A finished job's error as (message, code): `error` holds the body a synchronous request
    would have got (README "Asynchronous jobs"); a canceled job may have none."""
    body = job.get("error")
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        message = str(error.get("message") or job.get("status"))
        return message, code if isinstance(code, str) else None
    return f"the job was {job.get('status')}", None
