"""xAI's error answers: what its bodies say, and the ones the status table would misread.

xAI's body is `{"code": <a gRPC status description>, "error": <text>}` (vercel/ai
`packages/xai/src/xai-error.ts` at 3e947e6; real answers quoted in openclaw
`extensions/xai/index.test.ts` and beeai-framework #447 [3P]); OpenAI's envelope
(`{"error": {"message", "code", ...}}`, which vercel/ai's later `xai-error.ts` reads) and a
plain-text body (a 422 "Failed to deserialize the JSON body ...": CherryHQ/cherry-studio #4732
[3P]) are read too. The `code` sentence becomes a token (`invalid_argument`, ...).

Answers decided here rather than by the status table (`kit/errors.py`):

- a 4xx saying "Content violates usage guidelines" (a 403: inspect_ai #2267 [3P]), naming
  content moderation or policy, or with code `usage_guideline_violation` [3P] or one of
  OpenAI's moderation codes: `ContentPolicyViolation`;
- a 402/403/429 "Your team ... has either used all available credits or reached its monthly
  spending limit" (continuedev #10373; the openclaw test above), or OpenAI's quota codes:
  `ProviderQuotaExhausted` (not retried: such a 429 is no rate limit);
- a 400 "Incorrect API key provided" (docs.x.ai "Debugging Errors": an incorrect key is a 400):
  the table's answer to a 401, `provider_auth_failed`.

A 429 "Rate limit exceeded" is the table's (`ProviderRateLimited`, with `Retry-After` when xAI
sends one); `resolution: "4k"` (503 `model_service_unavailable`, REFERENCE-MORE §7) never
reaches xAI, the adapter refuses it.
"""

from __future__ import annotations

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    ProviderQuotaExhausted,
    UpstreamError,
)
from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.kit.errors import (
    ErrorDetail,
    common_error_detail,
    error_for_status,
    safe_token,
)
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.openai.adapter import MODERATION_CODES, QUOTA_CODES
from image_gateway.upstream.client import UpstreamResponse

# The gRPC status descriptions xAI puts in `code` (tonic's `Code::description`), as tokens.
GRPC_CODES = {
    "Client specified an invalid argument": "invalid_argument",
    "The request does not have valid authentication credentials": "unauthenticated",
    "The caller does not have permission to execute the specified operation": "permission_denied",
    # xAI's 404 on its Images API: "a model specified in a POST request body was not found"
    # (docs.x.ai "Debugging Errors"), the code OpenAI gives the same answer.
    "Some requested entity was not found": "model_not_found",
    "Some resource has been exhausted": "resource_exhausted",
    "The system is not in a state required for the operation's execution": "failed_precondition",
    "Deadline expired before operation could complete": "deadline_exceeded",
    "Internal error": "internal",
    "The service is currently unavailable": "unavailable",
}
MODERATION_TEXT = ("violates usage guidelines", "content moderation", "content policy")
QUOTA_TEXT = ("used all available credits", "spending limit", "run out of credits")
BAD_KEY_TEXT = ("incorrect api key", "invalid api key")


def error_detail(resp: UpstreamResponse, provider: str, secrets: list[str]) -> ErrorDetail:
    """What an xAI error answer says (module docstring), made safe."""
    try:
        payload = resp.json(provider)
    except UpstreamError:  # not JSON: xAI's plain-text 422s, or a proxy's page
        return _text_detail(resp, secrets)
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        code = payload.get("code")
        token = GRPC_CODES.get(code) if isinstance(code, str) else None
        return ErrorDetail(
            provider_message(payload["error"], secrets), token or safe_token(code, secrets)
        )
    return common_error_detail(resp, provider, secrets)


def classify(
    definition: ProviderDefinition, resp: UpstreamResponse, detail: ErrorDetail
) -> GatewayError | None:
    """The error for an answer the status table would misread (module docstring), else None."""
    text = detail.message.lower()
    provider = definition.name
    if 400 <= resp.status < 500 and (
        detail.code in (*MODERATION_CODES, "usage_guideline_violation")
        or any(words in text for words in MODERATION_TEXT)
    ):
        return ContentPolicyViolation(
            f"{provider}'s safety system rejected this request",
            code="content_policy_violation",
            provider=provider,
        )
    if resp.status in (402, 403, 429) and (
        detail.code in QUOTA_CODES or any(words in text for words in QUOTA_TEXT)
    ):
        return ProviderQuotaExhausted(
            f"the {provider} team is out of credits or at its spending limit", provider=provider
        )
    if resp.status == 400 and any(words in text for words in BAD_KEY_TEXT):
        return error_for_status(definition, 401, resp.headers, detail)
    return None


def _text_detail(resp: UpstreamResponse, secrets: list[str]) -> ErrorDetail:
    content_type = resp.headers.get("content-type", "").lower()
    if not content_type.startswith("text/plain"):
        return ErrorDetail()
    return ErrorDetail(provider_message(resp.body.decode("utf-8", "replace"), secrets))
