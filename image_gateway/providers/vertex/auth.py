"""OAuth 2.0 access tokens for Vertex AI, from google-auth: never a JWT or signature of ours.

`AccessTokens` holds one google-auth credentials object, loaded once (off the event loop):

- `VERTEX_AI_CREDENTIALS_FILE` set: that service-account key file
  (`service_account.Credentials.from_service_account_file`, scope `cloud-platform`); its
  `project_id` is the project when `VERTEX_AI_PROJECT` is unset;
- else application default credentials (`google.auth.default`, as python-genai's `load_auth`:
  `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's, the metadata server).

A token is reused while google-auth calls it valid (until a few minutes before it expires) and
refreshed by google-auth (`Credentials.refresh`: the service account signs a JWT assertion and
trades it at its `token_uri`) in a worker thread, one refresh at a time (an asyncio lock, as
python-genai's `async_get_token_from_credentials`). google-auth's HTTP goes through the
gateway's own upstream client (`GatewayTransport`): the same egress proxy, CA bundle, limits
and timeouts as every provider call; no second HTTP stack.

Failures, before anything is sent to Vertex (so nothing is paid): credentials that cannot be
loaded are 503 `provider_not_configured` naming the variable; a refresh the token endpoint
refuses (`invalid_grant`: a deleted key, a wrong signature) is 502 `provider_auth_failed`; a
token endpoint that cannot be reached or answers 5xx/429 is a retryable 502.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from typing import Any

import google.auth
import google.auth.credentials
import google.auth.exceptions
import google.auth.transport
from google.oauth2 import service_account

from image_gateway.errors import GatewayError, ProviderNotConfigured, UpstreamError
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.upstream.client import UpstreamClient

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
TOKEN_DEADLINE_SECONDS = 30.0  # one token-endpoint exchange, whole


class _Response(google.auth.transport.Response):
    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self._status, self._headers, self._data = status, dict(headers), data

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    @property
    def data(self) -> bytes:
        return self._data


class GatewayTransport(google.auth.transport.Request):
    """google-auth's transport interface over the gateway's `UpstreamClient`, for google-auth
    code running in a worker thread: each request runs on the event loop (`loop`) and the
    thread waits for it. A failure to get an answer is google-auth's `TransportError`, whose
    `__cause__` is the gateway's error."""

    def __init__(
        self, http: UpstreamClient, loop: asyncio.AbstractEventLoop, provider: str
    ) -> None:
        self.http, self.loop, self.provider = http, loop, provider

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        content = body.encode() if isinstance(body, str) else body
        call = self.http.request(
            method,
            url,
            provider=self.provider,
            headers=headers,
            content=content,
            deadline=min(timeout or TOKEN_DEADLINE_SECONDS, TOKEN_DEADLINE_SECONDS),
        )
        try:
            resp = asyncio.run_coroutine_threadsafe(call, self.loop).result()
        except GatewayError as exc:
            raise google.auth.exceptions.TransportError(exc.message) from exc  # type: ignore[no-untyped-call]
        return _Response(resp.status, resp.headers, resp.body)


def refusal(exc: google.auth.exceptions.RefreshError) -> str:
    """What the token endpoint said, as a sentence: OAuth's `error` and `error_description`
    (RFC 6749 §5.2), or a Google envelope's `error.message`/`error.status`; google-auth's
    `RefreshError` carries the parsed body as its second argument (`oauth2/_client.py`
    `_handle_error_response`), its text as the first."""
    body = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):  # {"error": {"code": 401, "message": ..., "status": ...}}
            parts = [error.get("status"), error.get("message")]
        else:
            parts = [error, body.get("error_description")]
        text = ": ".join(str(p) for p in parts if isinstance(p, str | int) and str(p))
        if text:
            return text
    first = exc.args[0] if exc.args else ""
    return first if isinstance(first, str) and "{" not in first else ""


class AccessTokens:
    """Access tokens of one provider instance (module docstring). `variable`: the name of the
    credentials-file variable, for messages."""

    def __init__(
        self,
        provider: str,
        http: UpstreamClient,
        credentials_file: str | None,
        variable: str,
        secrets: Callable[[], list[str]],
    ) -> None:
        self.provider = provider
        self.http = http
        self.credentials_file = credentials_file
        self.variable = variable
        self._secrets = secrets  # redaction of google-auth's messages
        self._credentials: google.auth.credentials.Credentials | None = None
        self.project: str | None = None  # what the credentials name, once loaded
        self._lock = asyncio.Lock()
        self.issued: list[str] = []  # the tokens handed out (the last few), never to be shown

    @property
    def quota_project(self) -> str | None:
        """`x-goog-user-project`, when the credentials name a quota project (python-genai)."""
        return getattr(self._credentials, "quota_project_id", None)

    @property
    def secrets(self) -> list[str]:
        """What must never be shown: the tokens issued and the service-account key's id (the
        private key itself never reaches a message; the project and client email are no
        secrets)."""
        key_id = getattr(getattr(self._credentials, "signer", None), "key_id", None)
        return [*self.issued, *([key_id] if isinstance(key_id, str) and key_id else [])]

    async def token(self) -> str:
        """A valid access token: the cached one, else a fresh one."""
        credentials = await self._load()
        if not credentials.valid:
            async with self._lock:
                if not credentials.valid:  # another caller may have refreshed meanwhile
                    await self._refresh(credentials)
        return str(credentials.token)

    async def renewed(self, refused: str) -> str:
        """A token other than `refused` (which Vertex answered 401): refreshed once, whoever
        of the callers refused with the same token asks first."""
        credentials = await self._load()
        async with self._lock:
            if credentials.token == refused or not credentials.valid:
                await self._refresh(credentials)
        return str(credentials.token)

    async def _load(self) -> google.auth.credentials.Credentials:
        if self._credentials is None:
            async with self._lock:
                if self._credentials is None:
                    credentials, project = await asyncio.to_thread(self._read)
                    self._credentials, self.project = credentials, project
        return self._credentials

    def _read(self) -> tuple[google.auth.credentials.Credentials, str | None]:
        """The credentials (a worker thread: files, maybe the metadata server)."""
        if self.credentials_file is not None:
            try:
                credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                    self.credentials_file, scopes=[SCOPE]
                )
            except (OSError, ValueError) as exc:  # no file, not JSON, not a service account key
                raise self._not_configured(
                    f"{self.variable} is not a readable service-account key file "
                    f"({type(exc).__name__})"
                ) from None
            return credentials, credentials.project_id
        try:
            found, project = google.auth.default(scopes=[SCOPE])
        except google.auth.exceptions.DefaultCredentialsError:
            raise self._not_configured(
                f"no credentials: set {self.variable} to a service-account key file, or "
                "provide application default credentials (GOOGLE_APPLICATION_CREDENTIALS)"
            ) from None
        return found, project

    async def _refresh(self, credentials: google.auth.credentials.Credentials) -> None:
        transport = GatewayTransport(self.http, asyncio.get_running_loop(), self.provider)
        try:
            await asyncio.to_thread(functools.partial(credentials.refresh, transport))
        except google.auth.exceptions.TransportError as exc:
            cause = exc.__cause__
            raise UpstreamError(
                f"{self.provider} could not reach its token endpoint"
                + (f": {cause.message}" if isinstance(cause, GatewayError) else ""),
                provider=self.provider,
                retryable=True,
            ) from None
        except google.auth.exceptions.RefreshError as exc:
            retryable = bool(getattr(exc, "retryable", False))
            detail = provider_message(refusal(exc), self._secrets())
            said = f": {detail}" if detail else ""
            raise UpstreamError(
                f"{self.provider}'s token endpoint refused the service account{said}. Check "
                f"that {self.variable} is a current key of an enabled service account",
                code=None if retryable else "provider_auth_failed",
                provider=self.provider,
                retryable=retryable,
                outage=retryable,
            ) from None
        self.issued = [*self.issued[-3:], str(credentials.token)]

    def _not_configured(self, why: str) -> ProviderNotConfigured:
        return ProviderNotConfigured(
            f"provider {self.provider} is not configured: {why}", provider=self.provider
        )
