"""OpenAI's error envelope and the message shapes the real API uses (REFERENCE §1.8).

Messages copy the wording seen in public issue threads where one is known (`Unknown parameter`,
`Invalid type for`, `unsupported mimetype`, ...); the rest follow the same style.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class APIError(Exception):
    """An error answer: HTTP status plus the `{"error": {...}}` envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.headers = headers or {}
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def quoted_list(values: Sequence[str]) -> str:
    """`'a', 'b', and 'c'` — the enumeration style of OpenAI's messages."""
    items = [f"'{v}'" for v in values]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def bad_request(
    message: str, param: str | None = None, code: str | None = "invalid_value"
) -> APIError:
    return APIError(400, message, param=param, code=code)


def invalid_value(param: str, value: object, supported: Sequence[str]) -> APIError:
    return bad_request(
        f"Invalid value: '{value}'. Supported values are: {quoted_list(supported)}.", param
    )


def unknown_parameter(name: str) -> APIError:
    return bad_request(f"Unknown parameter: '{name}'.", name, "unknown_parameter")


def unrecognized_argument(name: str) -> APIError:
    return bad_request(f"Unrecognized request argument supplied: {name}", None, None)


def missing_parameter(name: str) -> APIError:
    return bad_request(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")


def invalid_type(name: str, expected: str, got: object) -> APIError:
    return bad_request(
        f"Invalid type for '{name}': expected {expected}, but got {json_type_name(got)} instead.",
        name,
        "invalid_type",
    )


def json_type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a file"


def out_of_range(name: str, value: int, low: int, high: int) -> APIError:
    if value < low:
        return bad_request(
            f"Invalid '{name}': integer below minimum value. "
            f"Expected a value >= {low}, but got {value} instead.",
            name,
            "integer_below_min_value",
        )
    return bad_request(
        f"Invalid '{name}': integer above maximum value. "
        f"Expected a value <= {high}, but got {value} instead.",
        name,
        "integer_above_max_value",
    )


def string_too_long(name: str, limit: int, got: int) -> APIError:
    return bad_request(
        f"Invalid '{name}': string too long. Expected a string with maximum length {limit}, "
        f"but got a string with length {got} instead.",
        name,
        "string_above_max_length",
    )


def unauthorized(presented: str | None) -> APIError:
    if not presented:
        return APIError(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
            "field (with blank username) if you're accessing the API from your browser and are "
            "prompted for a username. You can obtain an API key from "
            "https://platform.openai.com/account/api-keys.",
        )
    return APIError(
        401,
        f"Incorrect API key provided: {mask_key(presented)}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def mask_key(key: str) -> str:
    """At most the first 3 characters (fewer for short keys), never enough to rebuild the key."""
    shown = key[: min(3, len(key) // 3)]
    return "".join(c if c.isprintable() else "?" for c in shown) + "****"


def model_not_found(model: str) -> APIError:
    return APIError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def invalid_url(method: str, path: str) -> APIError:
    return APIError(404, f"Invalid URL ({method} {path})")


def invalid_json() -> APIError:
    return bad_request(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
        "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
        "contact us through our help center at help.openai.com.)",
        None,
        None,
    )


def content_policy(request_id: str, gpt_image: bool) -> APIError:
    if gpt_image:
        return APIError(
            400,
            "Your request was rejected by the safety system. If you believe this is an error, "
            f"contact us at help.openai.com and include the request ID {request_id}. "
            "safety_violations=[violence].",
            type="image_generation_user_error",
            code="moderation_blocked",
        )
    return APIError(
        400,
        "Your request was rejected as a result of our safety system. Your prompt may contain "
        "text that is not allowed by our safety system.",
        code="content_policy_violation",
    )


def rate_limited(wait: float) -> APIError:
    """429 with both retry hints openai-python reads (`retry-after-ms` first)."""
    return APIError(
        429,
        "Rate limit exceeded for images per minute in organization org-emulator. "
        "Please try again later.",
        type="requests",
        code="rate_limit_exceeded",
        headers={
            "retry-after": str(max(1, round(wait))),
            "retry-after-ms": str(round(wait * 1000)),
        },
    )


INSUFFICIENT_QUOTA = APIError(
    429,
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors.",
    type="insufficient_quota",
    code="insufficient_quota",
)


def fault_body(status: int) -> dict[str, Any]:
    """The body of a fault that sets only a status: OpenAI's envelope for that status."""
    if status < 400:
        return {}
    if status == 429:
        return APIError(
            429,
            "Rate limit exceeded for images per minute in organization org-emulator. "
            "Limit: 5/1min. Current: 6/1min. Please try again later.",
            type="requests",
            code="rate_limit_exceeded",
        ).body()
    if status >= 500:
        return APIError(
            status,
            "The server had an error while processing your request. Sorry about that!",
            type="server_error",
        ).body()
    return APIError(status, f"Emulated fault (HTTP {status}).").body()
