"""Bedrock's error answers: the exception's name in `x-amzn-ErrorType` (`Name:namespace`, the
AWS rest-json convention [UNVERIFIED for Bedrock]) and a body `{"message": "..."}` (BOTO
`bedrock-runtime/2023-09-30/service-2.json`: every InvokeModel error shape has `message`;
`ModelErrorException` adds `originalStatusCode` and `resourceName`).

Messages copy AWS's wording where public material shows it (the content filter, the invalid
model identifier, SigV4's refusals); the rest follow the same style.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/"

# Status -> the exception InvokeModel answers it with (BOTO), for a fault that sets only a status.
BY_STATUS = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
MESSAGES = {
    "ValidationException": "Malformed input request, please reformat your input and try again.",
    "AccessDeniedException": "You don't have access to the model with the specified model ID.",
    "ResourceNotFoundException": "The requested resource could not be found.",
    "ModelTimeoutException": "Model has timed out in processing the request. Try your request "
    "again.",
    "ModelErrorException": "The system encountered an unexpected error during processing. Try "
    "your request again.",
    "ThrottlingException": "Too many requests, please wait before trying again.",
    "ModelNotReadyException": "Model is not ready for inference. Wait and try your request again.",
    "ServiceQuotaExceededException": "Your request exceeds the service quota for your account. "
    "You can view your quotas at the Service Quotas console.",
    "InternalServerException": "The server encountered an internal error while processing the "
    "request.",
    "ServiceUnavailableException": "The service isn't currently available. Try again later.",
}
CONTENT_FILTERED = (
    "This request has been blocked by our content filters. Please adjust your text prompt to "
    "submit a new request."
)
OUTPUT_FILTERED = (
    "This request has been blocked by our content filters. Our filters blocked the generated "
    "image(s) because they may conflict with our AUP or AWS Responsible AI Policy."
)
INVALID_MODEL = "The provided model identifier is invalid."


class BedrockError(Exception):
    """An error answer: status, exception name, message (and the model error's fields)."""

    def __init__(self, status: int, name: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or MESSAGES.get(name, name))
        self.status = status
        self.name = name
        self.message = message or MESSAGES.get(name, name)
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"message": self.message, **self.extra}

    def headers(self) -> dict[str, str]:
        return {"x-amzn-errortype": type_header(self.name)} if self.name else {}


def type_header(name: str) -> str:
    return f"{name}:{NAMESPACE}"


def invalid(message: str) -> BedrockError:
    return BedrockError(400, "ValidationException", message)


def for_status(status: int) -> BedrockError:
    """What InvokeModel answers with `status` (a fault that sets only a status)."""
    name = BY_STATUS.get(status, "InternalServerException" if status >= 500 else "")
    if not name:  # InvokeModel documents no exception for it: the status alone says
        return BedrockError(status, "", f"HTTP {status}")
    if name == "ModelErrorException":
        return BedrockError(status, name, originalStatusCode=500, resourceName="model")
    return BedrockError(status, name)
