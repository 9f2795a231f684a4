"""The gateway's closed set of errors, and their one rendering as OpenAI-style JSON.

    GatewayError
    ├── CallerError                 the request is wrong (4xx, never retried, never a fallback)
    │   ├── InvalidRequest          400 invalid_request_error (names the field in `param`)
    │   ├── ContentPolicyViolation  400 content_policy_violation (provider moderation)
    │   ├── AuthenticationFailed    401
    │   ├── BudgetExceeded          402 budget_exceeded: the key's monthly budget is spent
    │   ├── PermissionDenied        403 the key may not do this (scope, provider, model, admin)
    │   ├── NotFound                404 unknown model, provider, route, image or job
    │   ├── RequestTimeout          408 the client did not send its request in time
    │   ├── Conflict                409 an Idempotency-Key reused with a different request
    │   ├── PayloadTooLarge         413
    │   ├── RateLimited             429 the key's own rate/concurrency limit (with Retry-After)
    │   └── ClientClosedRequest     499 the client left: no new paid call starts for it (never
    │                                   sent: nobody is listening; recorded in ledger and logs)
    └── ProviderError               the provider failed or cannot be used (5xx/429/402)
        ├── ProviderNotConfigured   503 no key configured for the provider
        ├── ProviderRateLimited     429 (carries the provider's Retry-After)
        ├── ProviderQuotaExhausted  402 the provider account is out of credits; not retryable
        ├── ProviderUnavailable     503 circuit open, or no provider slot freed before the deadline
        ├── UpstreamError           502 bad status, malformed body, connection failure
        │   └── NoImageGenerated    502 no_image_generated: the provider answered without an
        │                               image and without a moderation reason (Gemini NO_IMAGE)
        └── UpstreamTimeout         504 connect/read timeout, polling or request deadline
    ServiceUnavailable              503 the gateway's own store (keys, budgets) is unreachable
    └── StoreBusy                   503 store_busy: the database is busy (no pooled connection
                                        freed, or SQLite's write lock not taken, within
                                        DATABASE_TIMEOUT_SECONDS); with Retry-After

Every answer says whether the client may send the same request again, in `x-should-retry`
(`response_headers()`), which openai-python and openai-node obey before their own rule (retry
408, 409, 429 and 5xx twice; openai-python `_base_client.SyncAPIClient._should_retry`). Only an
answer given before any provider could charge for the request, for a condition that passes,
says `true`: the key's rate limits (429), a provider's rate limit, a full provider queue or one
that did not free a slot in time, an open circuit (all with `Retry-After`), a store briefly
unreachable, and a provider failure marked `retryable` (nothing was accepted upstream). Every
other answer says `false`: a request a retry cannot fix (4xx, 503 `provider_not_configured`,
bad provider credentials, a bug) and any failure that may have been paid (`billed_unknown`),
whose message also says the outcome is unknown and may have been charged.

A `ProviderError` also says what the dispatcher may do with it (`image_gateway/resilience/`):
`retryable` (the same call may be sent again: nothing was accepted upstream), `retry_after`
(the provider's hint, seconds), `billed_unknown` (the provider may have accepted — and charged —
the request, so it is never re-sent) and `outage` (counts toward the provider's circuit
breaker: 5xx, timeouts, connection failures; never 4xx, rate limits or moderation).

Any error may carry `billed`, what the provider charged for although the call failed (a
`ProviderResult`, usually without images: Ideogram bills the images its safety check withheld
when it withholds them all); the ledger prices it (`billing/accounting.py`).

Any error may carry `attribution`, the (provider, model) the failed request was for once the
dispatcher knew it (the one tried last, else the primary): the access log line and the job
log line show it; the error body does not change.

Adapters raise these; `upstream.client` maps transport exceptions to them in one place;
`api/error_responses.py` renders them with `error_body()`. A message never contains a secret or a
raw provider body (provider text is trimmed and scrubbed before it gets here).
"""

from __future__ import annotations

from typing import Any, Self

UNKNOWN_OUTCOME = (
    "The outcome is unknown: the provider may have generated, and charged for, this request; "
    "sending it again may be charged again."
)


class GatewayError(Exception):
    """The base of every gateway error; raised as such only for a bug (500, no details)."""

    status_code = 500
    error_type = "server_error"
    default_code: str | None = None
    # The same request may be sent again and may then succeed, without paying twice (see the
    # module docstring); False for every type whose retry cannot help or could pay twice.
    retry_safe = False
    # A provider may have charged for this request although it failed (set on `ProviderError`s).
    billed_unknown = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        provider: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param
        self.provider = provider
        self.headers = headers or {}
        self.attribution: tuple[str, str] | None = None
        # A `schemas.ProviderResult` (not named here: schemas imports this module).
        self.billed: Any = None

    def with_billed(self, result: Any) -> Self:
        """Record what the provider charged for although this call failed (module docstring);
        returns itself."""
        self.billed = result
        return self

    def attribute(self, provider: str, model: str) -> None:
        """Record the (provider, model) the request was for, unless an inner layer, which knew
        more precisely, already did."""
        if self.attribution is None:
            self.attribution = (provider, model)

    @property
    def should_retry(self) -> bool:
        """What `x-should-retry` tells the client: may it send this request again?"""
        return self.retry_safe and not self.billed_unknown

    def response_headers(self) -> dict[str, str]:
        """The answer's headers: the error's own (`Retry-After`) and `x-should-retry`."""
        return {**self.headers, "x-should-retry": "true" if self.should_retry else "false"}


class CallerError(GatewayError):
    """The request is wrong; never retried, never a fallback."""

    status_code = 400
    error_type = "invalid_request_error"


class InvalidRequest(CallerError):
    """A bad or unknown field (named in `param`), or a value the model does not accept."""

    default_code = "invalid_value"


class ContentPolicyViolation(CallerError):
    """The provider's moderation refused the prompt or the result."""

    default_code = "content_policy_violation"


class AuthenticationFailed(CallerError):
    """No key, a key that is wrong or revoked, or a key put in the URL (`api_key_in_url`)."""

    status_code = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class NotFound(CallerError):
    """No such model, provider, route, image, job or key."""

    status_code = 404
    default_code = "not_found"


class PayloadTooLarge(CallerError):
    """The body is over MAX_REQUEST_BYTES."""

    status_code = 413
    default_code = "payload_too_large"


class RequestTimeout(CallerError):
    """The request's headers or body did not arrive in time (CLIENT_HEADER_TIMEOUT_SECONDS,
    CLIENT_BODY_TIMEOUT_SECONDS); the connection is closed."""

    status_code = 408
    default_code = "request_timeout"
    retry_safe = True  # refused before any provider was called; a faster send may succeed


class ClientClosedRequest(CallerError):
    """The client left first: no new paid call starts for it. Never sent (nobody is listening);
    its code is what the ledger row records."""

    status_code = 499  # nginx's code for a client that closed the connection first
    default_code = "client_closed_request"


class BudgetExceeded(CallerError):
    """The key's monthly budget is spent."""

    status_code = 402
    error_type = "insufficient_quota"
    default_code = "budget_exceeded"


class Conflict(CallerError):
    """An Idempotency-Key used again with a different request."""

    status_code = 409
    default_code = "idempotency_key_reused"


class PermissionDenied(CallerError):
    """The key may not do this: scope, provider or model allow-list, admin-only."""

    status_code = 403
    error_type = "permission_error"
    default_code = "permission_denied"


class RateLimited(CallerError):
    """The key's own rate or concurrency limit; see Retry-After."""

    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"
    retry_safe = True  # refused before any provider call; Retry-After says when


class ServiceUnavailable(GatewayError):
    """The gateway's own store (keys, budgets) is unreachable."""

    status_code = 503
    default_code = "service_unavailable"
    retry_safe = True  # the key or budget store, before any provider call


class StoreBusy(ServiceUnavailable):
    """The database is busy, not down: every pooled connection stayed taken, or SQLite's
    write lock stayed held, for DATABASE_TIMEOUT_SECONDS (`db/engine.py` raises it for any
    store). A job's worker puts the job back rather than failing it (`jobs/worker.py`)."""

    default_code = "store_busy"
    retry_seconds = 1

    def __init__(
        self, message: str = "the gateway's database is busy; try again shortly", **kwargs: Any
    ) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(self.retry_seconds)})
        super().__init__(message, **kwargs)


class ProviderError(GatewayError):
    """The provider failed or cannot be used."""

    status_code = 502
    error_type = "provider_error"
    outage_default = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        provider: str | None = None,
        headers: dict[str, str] | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        billed_unknown: bool = False,
        outage: bool | None = None,
    ) -> None:
        super().__init__(message, code=code, param=param, provider=provider, headers=headers)
        self.retryable = retryable
        self.retry_after = retry_after
        self.billed_unknown = billed_unknown
        self.outage = self.outage_default if outage is None else outage

    @property
    def should_retry(self) -> bool:
        return (self.retry_safe or self.retryable) and not self.billed_unknown

    def after_acceptance(self) -> Self:
        """Mark a failure that came after the provider accepted the call (a 2xx answer to a
        submission that cannot be used, a BFL task that failed, got lost or never finished): it
        may have been charged, so neither the dispatcher nor the client sends it again. Returns
        itself."""
        self.retryable, self.billed_unknown = False, True
        return self


class ProviderNotConfigured(ProviderError):
    """No key is configured for that provider."""

    status_code = 503
    default_code = "provider_not_configured"


class ProviderRateLimited(ProviderError):
    """The provider's rate or concurrency limit; see Retry-After."""

    status_code = 429
    error_type = "rate_limit_error"
    default_code = "provider_rate_limited"
    retry_safe = True  # the provider refused before taking the request; or our queue is full


class ProviderQuotaExhausted(ProviderError):
    """The provider account is out of credits or quota."""

    status_code = 402
    default_code = "provider_quota_exhausted"


class ProviderUnavailable(ProviderError):
    """The gateway's own provider limits: circuit open, queue full or no slot in time."""

    status_code = 503
    default_code = "provider_unavailable"
    retry_safe = True  # an open circuit or a full queue: nothing was sent


class UpstreamError(ProviderError):
    """The provider failed: bad status, malformed answer, connection failure."""

    default_code = "upstream_error"
    outage_default = True


class NoImageGenerated(UpstreamError):
    """The provider accepted the request and answered without an image, giving no moderation
    reason (Gemini's `finishReason` `NO_IMAGE`, `IMAGE_OTHER`, `OTHER`, or text only).

    The provider's failure, not the caller's: the same prompt may draw next time or elsewhere,
    so a fallback may serve it. It came after acceptance (the provider bills the tokens it
    used), so it is never re-sent and says so (`billed_unknown`); not an outage either (the
    provider answered), so it does not count toward the circuit breaker."""

    default_code = "no_image_generated"
    outage_default = False


class UpstreamTimeout(ProviderError):
    """The provider timed out, or the request's deadline passed."""

    status_code = 504
    default_code = "upstream_timeout"
    outage_default = True


def error_body(err: GatewayError, request_id: str | None) -> dict[str, Any]:
    """The OpenAI-style error object; a failure that may have been paid says so."""
    message = err.message
    if err.billed_unknown:  # a message that ends its sentence (. ! ?) gets no second stop
        stem = message.rstrip()
        message = f"{stem}{'' if stem.endswith(('.', '!', '?')) else '.'} {UNKNOWN_OUTCOME}"
    body: dict[str, Any] = {
        "message": message,
        "type": err.error_type,
        "code": err.code,
        "param": err.param,
    }
    if err.provider:
        body["provider"] = err.provider
    if request_id:
        body["request_id"] = request_id
    return {"error": body}
