"""The emulator's Google identity side: one service account (an RSA key pair made at start,
its JSON key file for the gateway) and the OAuth 2.0 token endpoint that trades the account's
signed JWT assertion for an access token (RFC 7523 `jwt-bearer`, as google-auth's
`service_account.Credentials.refresh` sends it: `google/oauth2/_client.py` `jwt_grant`).

The assertion is checked with google-auth's own verifier (`google.auth.jwt.decode`: RS256
signature against the account's public key, `iat`/`exp`, the audience
`https://oauth2.googleapis.com/token` that google-auth always signs for); then its issuer (the
account's email) and its scope (`cloud-platform`). Refusals are Google's OAuth error bodies,
HTTP 400 `{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}` and the
like [inference: google-auth's `_client._handle_error_response` reads `error` and
`error_description`].

Access tokens are `ya29.` + the emulator's key + a serial and random part: a token that leaked
into an answer or a log line shows as the emulator's key, which the contract suite looks for.
Each expires after `token_ttl` seconds (`expires_in`); `revoke_all()` ends every issued one
(the `expire_tokens` fault switch), so the next API call is a 401.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google.auth.exceptions
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUDIENCE = "https://oauth2.googleapis.com/token"  # google-auth `_GOOGLE_OAUTH2_TOKEN_ENDPOINT`
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
CLOCK_SKEW_SECONDS = 10


@dataclass(frozen=True)
class OAuthError(Exception):
    """A refusal of the token endpoint: HTTP 400 with Google's OAuth error body."""

    error: str
    description: str
    status: int = 400

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def _key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class ServiceAccount:
    """One service account of `project`, and the tokens issued to it."""

    def __init__(
        self,
        project: str,
        api_key: str,
        token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.project = project
        self.api_key = api_key
        self.token_ttl = token_ttl
        self.clock = clock
        self.email = f"image-gateway@{project}.iam.gserviceaccount.com"
        self.key_id = secrets.token_hex(20)
        self._key = new_key()
        self._public_pem = (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        self._tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self._serial = 0
        self._lock = threading.Lock()
        self.grants = 0  # tokens issued
        self.refusals = 0  # assertions refused

    def key_file(self, token_uri: str, forged: bool = False) -> dict[str, Any]:
        """The account's JSON key file as Google issues it, `token_uri` pointing here;
        `forged`: the same names with another private key (its assertions fail the check)."""
        key = new_key() if forged else self._key
        return {
            "type": "service_account",
            "project_id": self.project,
            "private_key_id": self.key_id,
            "private_key": _key_pem(key),
            "client_email": self.email,
            "client_id": str(int.from_bytes(os.urandom(8), "big")),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        }

    def write_key_file(self, path: Path, token_uri: str, forged: bool = False) -> Path:
        """Write `key_file(...)` to `path`, readable by its owner only (it holds a key)."""
        path.write_text(json.dumps(self.key_file(token_uri, forged), indent=2))
        path.chmod(0o600)
        return path

    def grant(self, form: dict[str, str]) -> dict[str, Any]:
        """The token endpoint's answer to a urlencoded grant; `OAuthError` for a refusal."""
        if form.get("grant_type") != GRANT_TYPE:
            raise OAuthError(
                "unsupported_grant_type", "Invalid grant_type: " + form.get("grant_type", "")
            )
        assertion = form.get("assertion", "")
        try:
            claims = jwt.decode(  # type: ignore[no-untyped-call]
                assertion,
                certs={self.key_id: self._public_pem},
                audience=AUDIENCE,
                clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
            )
        except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
            self.refusals += 1
            if "signature" in str(exc).lower():
                raise OAuthError("invalid_grant", "Invalid JWT Signature.") from None
            raise OAuthError("invalid_grant", f"Invalid JWT: {exc}") from None
        if claims.get("iss") != self.email:
            self.refusals += 1
            raise OAuthError("invalid_grant", "Invalid grant: account not found")
        if SCOPE not in str(claims.get("scope", "")).split():
            self.refusals += 1
            raise OAuthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        with self._lock:
            self._serial += 1
            token = f"ya29.{self.api_key}.{self._serial:06d}{secrets.token_urlsafe(12)}"
            self._tokens[token] = self.clock() + self.token_ttl
            self.grants += 1
        return {"access_token": token, "expires_in": int(self.token_ttl), "token_type": "Bearer"}

    def tokens(self) -> list[str]:
        """The tokens issued and not revoked (a test quotes one in a fault's body)."""
        with self._lock:
            return list(self._tokens)

    def valid(self, token: str) -> bool:
        with self._lock:
            expiry = self._tokens.get(token)
            return expiry is not None and self.clock() < expiry

    def revoke_all(self) -> None:
        with self._lock:
            self._tokens.clear()

    def reset(self) -> None:
        """Counters only: issued tokens stay valid, as a provider's credentials would (a reset
        between tests must not turn the next call into a 401)."""
        with self._lock:
            self.grants = self.refusals = 0
