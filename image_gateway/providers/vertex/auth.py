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
gateway's own upstream client (`google_io.GatewayTransport`): the same egress proxy, CA bundle,
limits and timeouts as every provider call; no second HTTP stack. google-auth (`google_io`)
is imported with the first token, not with the gateway.

Failures, before anything is sent to Vertex (so nothing is paid): credentials that cannot be
loaded are 503 `provider_not_configured` naming the variable; a refresh the token endpoint
refuses (`invalid_grant`: a deleted key, a wrong signature) is 502 `provider_auth_failed`; a
token endpoint that cannot be reached or answers 5xx/429 is a retryable 502.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from image_gateway.errors import GatewayError, ProviderNotConfigured, UpstreamError
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.upstream.client import UpstreamClient

if TYPE_CHECKING:
    import google.auth.credentials

SCOPE = "https://www.googleapis.com/auth/cloud-platform"


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
        from image_gateway.providers.vertex.google_io import google, service_account

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
        from image_gateway.providers.vertex.google_io import GatewayTransport, google, refusal

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
