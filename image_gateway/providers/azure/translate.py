"""Azure OpenAI translations, pure: where a task is posted, and how Azure says no. The request
body and the images in an answer are OpenAI's (`openai/translate.py`); Azure adds per-item
`content_filter_results` / `prompt_filter_results` to DALL-E answers, which the gateway's own
answer leaves out (it is built from the images alone).

Paths (REFERENCE-MORE §5; OAI-SDK `lib/azure.py` builds the same):
    /openai/deployments/{deployment}/images/{generations|edits}?api-version={version}
    /openai/v1/images/{generations|edits}          (api-version `v1`; `model` = deployment)

Refusals, whatever their HTTP status (REFERENCE §3.7, §1.8; REFERENCE-MORE §5):
- `error.code` `content_policy_violation` with `inner_error.code`
  `ResponsibleAIPolicyViolation` and `inner_error.content_filter_results` (the spec's
  `dalleErrorResponse`), `moderation_blocked` (GPT image models, [3P]), `content_filter` with
  "The response was filtered ..." [3P], `contentFilter` (the how-to's flagged prompt or image,
  `{"created", "error": {...}}`, status not stated [UNVERIFIED]: read on a 2xx too);
- a 2xx whose items carry no image and a content filter result marked `filtered`.
A resource blocked as a whole: 403 `{"error": {"code": "Forbidden", "message": "Your resource
has been temporarily blocked because we detected behavior that may violate our content
policy..."}}` [3P: pollinations #9707/#12067; other clients see "...detected unusual
behavior."].
"""

from __future__ import annotations

from typing import Any

CONTENT_FILTER_CODES = frozenset(
    {"content_policy_violation", "moderation_blocked", "content_filter", "contentFilter"}
)
INNER_FILTER_CODE = "ResponsibleAIPolicyViolation"
FILTERED_MESSAGE = "The response was filtered"
BLOCKED_MESSAGE = "temporarily blocked"
DEPLOYMENT_NOT_FOUND = "DeploymentNotFound"
API_VERSION_REFUSED = "API version not supported"
# Content filter categories Azure reports (AZ-SPEC `dalleFilterResults`, and the prompt-side
# ones): only these names are ever repeated in a message.
FILTER_CATEGORIES = (
    "hate",
    "sexual",
    "violence",
    "self_harm",
    "profanity",
    "jailbreak",
    "custom_blocklists",
    "protected_material_text",
    "protected_material_code",
)
IMAGE_FIELDS = ("b64_json", "url")


def path(api_version: str, deployment: str, edit: bool) -> str:
    """The path (and query) after the resource endpoint for one call."""
    operation = "edits" if edit else "generations"
    if api_version == "v1":
        return f"/openai/v1/images/{operation}"
    return f"/openai/deployments/{deployment}/images/{operation}?api-version={api_version}"


def error_of(payload: Any) -> dict[str, Any]:
    """The `error` object of an answer; empty when there is none."""
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else {}


def content_filtered(payload: Any) -> bool:
    """Whether an answer (an error body or a 2xx) is a content-filter refusal (module
    docstring)."""
    error = error_of(payload)
    inner = error.get("inner_error")
    message = error.get("message")
    if (
        error.get("code") in CONTENT_FILTER_CODES
        or (isinstance(inner, dict) and inner.get("code") == INNER_FILTER_CODE)
        or (isinstance(message, str) and message.startswith(FILTERED_MESSAGE))
    ):
        return True
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return False
    return any(
        isinstance(item, dict)
        and not any(item.get(name) for name in IMAGE_FIELDS)
        and bool(_flagged(item.get("content_filter_results")))
        for item in items
    )


def filtered_categories(payload: Any) -> list[str]:
    """The content filter categories marked `filtered` in a refusal (`inner_error`'s results,
    or the items'), known names only, in `FILTER_CATEGORIES` order."""
    inner = error_of(payload).get("inner_error")
    found: set[str] = set()
    if isinstance(inner, dict):
        found |= _flagged(inner.get("content_filter_results"))
    items = payload.get("data") if isinstance(payload, dict) else None
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict):
            found |= _flagged(item.get("content_filter_results"))
            found |= _flagged(item.get("prompt_filter_results"))
    return [name for name in FILTER_CATEGORIES if name in found]


def resource_blocked(status: int, payload: Any) -> bool:
    """Whether a 403 says the whole resource is blocked (module docstring)."""
    message = error_of(payload).get("message")
    return status == 403 and isinstance(message, str) and BLOCKED_MESSAGE in message


def has_code(payload: Any, code: str) -> bool:
    return error_of(payload).get("code") == code


def refused_api_version(status: int, payload: Any) -> bool:
    """A 400 saying the api-version is not served ("API version not supported", [3P])."""
    message = error_of(payload).get("message")
    return status == 400 and isinstance(message, str) and API_VERSION_REFUSED in message


def _flagged(results: Any) -> set[str]:
    if not isinstance(results, dict):
        return set()
    return {
        name
        for name, result in results.items()
        if isinstance(result, dict) and result.get("filtered") is True
    }
