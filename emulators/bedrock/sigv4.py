"""Checking a request's credentials as Bedrock does: SigV4 recomputed with botocore from the
emulator's own access key and secret, or a Bedrock API key as `Authorization: Bearer`.

SigV4 (`AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/aws4_request,
SignedHeaders=<names>, Signature=<hex>`): the signature is recomputed with
`botocore.auth.SigV4Auth` over the request as received — method, the path as sent
(percent-encoded), query, the signed headers' values, the body — at the request's own
`X-Amz-Date`, and compared in constant time. Refused, with AWS's error names (403 each):

    no Authorization                          MissingAuthenticationTokenException
    a malformed Authorization                 IncompleteSignatureException
    an unknown access key id (or API key)     UnrecognizedClientException
    a session token that is not the one given UnrecognizedClientException
    a scope of another region or service      InvalidSignatureException
    X-Amz-Date missing, not signed, or more than 5 minutes from the emulator's clock
                                              InvalidSignatureException ("Signature expired")
    any other difference                      InvalidSignatureException ("does not match")

The messages follow AWS's wording as seen in public threads; the 5-minute window is SigV4's
general rule for API requests [UNVERIFIED for Bedrock specifically].
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import BedrockError

SERVICE = "bedrock"
SKEW_SECONDS = 300
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)
_DATE = "%Y%m%dT%H%M%SZ"
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
UNRECOGNIZED = "The security token included in the request is invalid."


@dataclass(frozen=True)
class Identity:
    """What the emulator accepts: one access key (with its secret, and a session token when
    set) in one region, and the secret as a Bedrock API key too."""

    access_key_id: str
    secret: str
    region: str
    session_token: str | None = None


@dataclass(frozen=True)
class Received:
    """A request as it arrived: what the signature covers."""

    method: str
    scheme: str
    raw_path: str  # percent-encoded, as sent
    query: str
    headers: dict[str, str]  # names lowercased
    body: bytes


def check(request: Received, identity: Identity, clock: Callable[[], float] = time.time) -> None:
    """Return when the request is authenticated; `BedrockError` (403) otherwise."""
    authorization = request.headers.get("authorization", "")
    if not authorization:
        raise BedrockError(
            403, "MissingAuthenticationTokenException", "Missing Authentication Token"
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer":
        if not _same(token.strip(), identity.secret):
            raise BedrockError(403, "UnrecognizedClientException", UNRECOGNIZED)
        return
    match = _AUTH.match(authorization)
    if match is None:
        raise BedrockError(
            403,
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            f"parameters. Authorization={authorization.split(' ', 1)[0]}",
        )
    key_id, date, region, service, terminal = (match["credential"].split("/") + [""] * 5)[:5]
    if not _same(key_id, identity.access_key_id):
        raise BedrockError(403, "UnrecognizedClientException", UNRECOGNIZED)
    if identity.session_token is not None and not _same(
        request.headers.get("x-amz-security-token", ""), identity.session_token
    ):
        raise BedrockError(403, "UnrecognizedClientException", UNRECOGNIZED)
    if service != SERVICE or terminal != "aws4_request":
        raise _invalid(f"Credential should be scoped to correct service: '{SERVICE}'.")
    if region != identity.region:
        raise _invalid(
            f"Credential should be scoped to a valid region. (expected {identity.region})"
        )
    signed = match["signed"].split(";")
    stamp = request.headers.get("x-amz-date", "")
    _check_time(stamp, signed, date, clock())
    if not _same(match["signature"], _signature(request, identity, signed, stamp)):
        raise _invalid(MISMATCH)


def _check_time(stamp: str, signed: list[str], date: str, now: float) -> None:
    try:
        when = datetime.strptime(stamp, _DATE).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise _invalid("X-Amz-Date must be a signed header in the form YYYYMMDDTHHMMSSZ") from None
    if "x-amz-date" not in signed or stamp[:8] != date:
        raise _invalid(MISMATCH)
    if abs(now - when) > SKEW_SECONDS:
        limit = time.strftime(_DATE, time.gmtime(now - SKEW_SECONDS))
        current = time.strftime(_DATE, time.gmtime(now))
        relation = "earlier" if when < now else "later"
        raise _invalid(
            f"Signature expired: {stamp} is now {relation} than {limit} ({current} - 5 min.)"
        )


def _signature(request: Received, identity: Identity, signed: list[str], stamp: str) -> str:
    """The signature botocore computes for this request with the emulator's secret."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host = request.headers.get("host", "")
    url = f"{request.scheme}://{host}{request.raw_path}"
    if request.query:
        url += f"?{request.query}"
    headers = {name: request.headers.get(name, "") for name in signed}
    aws = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
    aws.context["timestamp"] = stamp
    credentials = Credentials(identity.access_key_id, identity.secret, identity.session_token)
    signer = SigV4Auth(credentials, SERVICE, identity.region)
    canonical = signer.canonical_request(aws)
    return str(signer.signature(signer.string_to_sign(aws, canonical), aws))


def _same(presented: str, expected: str) -> bool:
    return bool(presented) and hmac.compare_digest(presented.encode(), expected.encode())


def _invalid(message: str) -> BedrockError:
    return BedrockError(403, "InvalidSignatureException", message)
