"""Turn a pydantic validation error into the gateway's 400, naming the field, never the value."""

from __future__ import annotations

from pydantic import ValidationError

from ..errors import InvalidRequest


def invalid_request_from(exc: ValidationError) -> InvalidRequest:
    err = exc.errors(include_url=False, include_input=False)[0]
    loc = [str(part) for part in err["loc"] if part != "body"]
    field = ".".join(loc) or None
    if err["type"] == "extra_forbidden":
        return InvalidRequest(
            f"Unrecognized request argument supplied: {field}",
            param=field,
            code="unknown_parameter",
        )
    if err["type"] == "missing":
        return InvalidRequest(
            f"{field} is required", param=field, code="missing_required_parameter"
        )
    message = err["msg"].removeprefix("Value error, ")
    return InvalidRequest(f"{field}: {message}" if field else message, param=field)
