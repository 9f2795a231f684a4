"""Who the gateway is to Bedrock, and the headers that say so on each InvokeModel call.

Three ways, the first configured one wins (`config.py` names the variables):

    api_key   a Bedrock API key: `Authorization: Bearer <key>` (botocore's `BearerAuth`;
              bedrock-runtime's service model lists `smithy.api#httpBearerAuth`)
    keys      `BEDROCK_ACCESS_KEY_ID` / `_SECRET_ACCESS_KEY` (/ `_SESSION_TOKEN`): SigV4
    chain     `BEDROCK_PROFILE` or `BEDROCK_REGION` alone: botocore's standard credential chain
              (environment, `~/.aws` with the profile, SSO, web identity, container, instance
              role), resolved on first use in a worker thread, never on the event loop

SigV4 is botocore's `SigV4Auth(credentials, "bedrock", region)` (signing name `bedrock`,
BOTO `bedrock-runtime/2023-09-30/service-2.json`) over the exact bytes and headers sent:
`Content-Type`, `Accept`, `X-Amz-Date`, `Host` (and `X-Amz-Security-Token`). Credentials from
the chain are botocore's own objects: temporary ones refresh themselves before they expire
(`get_frozen_credentials`, in the same worker thread). A chain that finds nothing is
`provider_not_configured`, and the answer is kept for `MISSING_RETRY_SECONDS` so a gateway
without AWS credentials does not wait on the instance-metadata service for every request.

botocore is imported only here and only when Bedrock is configured (its import time is
measured in bench/RESULTS.md; tests/test_startup.py checks a default gateway goes without it).
Nothing here logs: credentials, signatures and the Authorization header stay in this module
and the request that carries them.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from image_gateway.providers.bedrock.config import BedrockConfig

if TYPE_CHECKING:
    from botocore.credentials import Credentials

SIGNING_NAME = "bedrock"
MISSING_RETRY_SECONDS = 30.0
Mode = Literal["api_key", "keys", "chain"]


class NoCredentials(Exception):
    """Bedrock is not configured, or its credential chain found nothing; says which variables
    would fix it."""


def endpoint(region: str) -> str:
    """bedrock-runtime's public endpoint in `region` (BOTO: endpoint prefix
    `bedrock-runtime`; the `aws-cn` partition uses `amazonaws.com.cn`)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://bedrock-runtime.{region}.{suffix}"


class BedrockAuth:
    """The credentials and region of one gateway process (see the module docstring)."""

    def __init__(self, config: BedrockConfig, environ: Mapping[str, str] = os.environ) -> None:
        self.config = config
        self.mode = _mode(config)
        self.problem: str | None = None  # why a configured mode cannot sign, for the 503
        self.region = (
            config.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
        )
        if self.mode == "chain" and self.region is None:
            self.region = self._profile_region()
        self._lock = threading.Lock()
        self._credentials: Credentials | None = None
        self._seen: list[str] = []  # the chain's secrets as last signed with (for redaction)
        self._missing_until = 0.0
        if self.mode == "keys" and None in (config.access_key_id, config.secret_access_key):
            self.problem = "BEDROCK_ACCESS_KEY_ID and BEDROCK_SECRET_ACCESS_KEY go together"
        elif self.mode is not None and self.mode != "api_key" and self.region is None:
            self.problem = "no AWS region: set BEDROCK_REGION (or AWS_REGION)"
        elif self.base_url is None:
            self.problem = "no endpoint: set BEDROCK_REGION or BEDROCK_BASE_URL"

    @property
    def base_url(self) -> str | None:
        """`BEDROCK_BASE_URL`, else the region's endpoint; None when neither is known."""
        if self.config.base_url is not None:
            return str(self.config.base_url)
        return endpoint(self.region) if self.region else None

    @property
    def configured(self) -> bool:
        """Whether a request may be attempted: a mode is set and nothing it needs is missing
        (whether the chain finds credentials is known when it is first used)."""
        return self.mode is not None and self.problem is None

    def secrets(self) -> list[str]:
        """Everything secret this process signs with, for redaction."""
        found = [
            s.get_secret_value()
            for s in (self.config.api_key, self.config.secret_access_key, self.config.session_token)
            if s is not None
        ]
        return found + self._seen

    async def headers(self, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        """`headers` plus those that authenticate a POST of `body` to `url` (credentials
        resolved or refreshed and the body hashed in a worker thread). `NoCredentials` when
        there are none to use."""
        if not self.configured:
            raise NoCredentials(self.problem or "")
        return await asyncio.to_thread(self._sign, url, body, headers)

    def forget(self) -> None:
        """Drop the chain's credentials (Bedrock said they expired): the next call resolves
        them again."""
        with self._lock:
            if self.mode == "chain":
                self._credentials = None

    # --- in a worker thread -----------------------------------------------------------------

    def _sign(self, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        from botocore.auth import BearerAuth, SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        if self.mode == "api_key" and self.config.api_key is not None:
            from botocore.tokens import FrozenAuthToken

            token = FrozenAuthToken(self.config.api_key.get_secret_value())
            BearerAuth(token).add_auth(request)
        else:
            frozen = self._current().get_frozen_credentials()  # refreshes when near expiry
            if self.mode == "chain":
                self._remember(frozen.secret_key, frozen.token)
            SigV4Auth(frozen, SIGNING_NAME, self.region).add_auth(request)
        return {str(name): str(value) for name, value in request.headers.items()}

    def _remember(self, *values: str | None) -> None:
        with self._lock:
            for value in values:
                if value and value not in self._seen:
                    self._seen = [*self._seen[-5:], value]  # a rotated secret stays redacted

    def _current(self) -> Any:
        with self._lock:
            if self._credentials is not None:
                return self._credentials
            if self.mode == "keys":
                from botocore.credentials import Credentials

                secret = self.config.secret_access_key
                token = self.config.session_token
                self._credentials = Credentials(
                    str(self.config.access_key_id),
                    secret.get_secret_value() if secret else "",
                    token.get_secret_value() if token else None,
                )
                return self._credentials
            if time.monotonic() < self._missing_until:
                raise NoCredentials(CHAIN_FOUND_NOTHING)
            credentials = self._session().get_credentials()
            if credentials is None:
                self._missing_until = time.monotonic() + MISSING_RETRY_SECONDS
                raise NoCredentials(CHAIN_FOUND_NOTHING)
            self._credentials = credentials
            return credentials

    def _session(self) -> Any:
        import botocore.session

        return botocore.session.Session(profile=self.config.profile)

    def _profile_region(self) -> str | None:
        """The region of the profile's `~/.aws/config` section (botocore reads it)."""
        try:
            region = self._session().get_config_variable("region")
        except Exception:  # a missing profile or a broken file: no region, said in the 503
            return None
        return str(region) if region else None


CHAIN_FOUND_NOTHING = (
    "the AWS credential chain found no credentials (environment AWS_ACCESS_KEY_ID, "
    "~/.aws files, SSO, a container or instance role)"
)


def _mode(config: BedrockConfig) -> Mode | None:
    if config.api_key is not None:
        return "api_key"
    if config.access_key_id is not None or config.secret_access_key is not None:
        return "keys"
    if config.profile is not None or config.region is not None:
        return "chain"
    return None
