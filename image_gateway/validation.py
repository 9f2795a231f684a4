"""Turn a pydantic validation error into the gateway's 400, naming the field, never the value."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from image_gateway.errors import InvalidRequest

Model = TypeVar("Model", bound=BaseModel)


def validate_object(model: type[Model], raw: object) -> Model:
    """A parsed JSON body as `model`: 400 when it is not an object or does not validate."""
    if not isinstance(raw, dict):
        raise InvalidRequest("the body must be a JSON object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise invalid_request_from(exc) from None


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
    # A field the gateway knows but does not offer (schemas.NOT_OFFERED): OpenAI's own code.
    code = "unsupported_parameter" if err["type"] == "unsupported_parameter" else None
    return InvalidRequest(f"{field}: {message}" if field else message, param=field, code=code)
